#include "app/renew_report.hpp"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/control.hpp"
#include "core/atomic_file.hpp"

namespace certfleet::app {
namespace {

std::string xml_escape(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            // XML 1.0 allows no control characters but tab, CR and LF.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                out += '?';
            } else {
                out += c;
            }
        }
    }
    return out;
}

bool succeeded(const run_result& r)
{
    return r.outcome == run_outcome::issued && !r.alert;
}

std::string junit_xml(const std::vector<run_result>& results, double seconds)
{
    std::size_t failures = 0;
    for (const auto& r : results) {
        failures += succeeded(r) ? 0 : 1;
    }
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    xml += "<testsuites name=\"certfleet renew\" tests=\"" + std::to_string(results.size()) +
           "\" failures=\"" + std::to_string(failures) + "\" time=\"" + std::to_string(seconds) +
           "\">\n";
    xml += "  <testsuite name=\"certfleet renew\" tests=\"" + std::to_string(results.size()) +
           "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"0\" time=\"" +
           std::to_string(seconds) + "\">\n";
    for (const auto& r : results) {
        const auto name =
            "certificate " + std::to_string(r.certificate_id) + " (" + join(r.names, ", ") + ")";
        xml += "    <testcase classname=\"certfleet.renew\" name=\"" + xml_escape(name) +
               "\" time=\"" + std::to_string(static_cast<double>(r.duration.count()) / 1000.0) +
               "\"";
        if (succeeded(r)) {
            xml += "/>\n";
            continue;
        }
        const auto message = r.alert && r.outcome == run_outcome::issued
                                 ? std::string("expires before its next attempt")
                                 : r.problem;
        xml += ">\n      <failure type=\"" + std::string(to_string(r.outcome)) + "\" message=\"" +
               xml_escape(message) + "\">" + xml_escape(message) + "</failure>\n    </testcase>\n";
    }
    xml += "  </testsuite>\n</testsuites>\n";
    return xml;
}

} // namespace

void print_plan(
    const std::vector<planned_renewal>& planned,
    const sweep_output& output,
    std::chrono::system_clock::time_point now
)
{
    if (output.json) {
        nlohmann::json out{{"dry_run", true}, {"due", nlohmann::json::array()}};
        for (const auto& p : planned) {
            out["due"].push_back({
                {"id", p.id},
                {"names", p.names},
                {"renew_at", format_time(p.renew_at)},
                {"reason", p.reason},
                {"alert", p.alert},
            });
        }
        std::cout << out.dump(2) << '\n';
        return;
    }
    if (planned.empty()) {
        std::cout << "nothing is due for renewal\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : planned) {
        rows.push_back(
            {std::to_string(p.id), join(p.names, ","), relative_time(p.renew_at, now), p.reason}
        );
    }
    std::cout << planned.size() << " certificate(s) would be renewed:\n";
    print_table(std::cout, {"ID", "NAMES", "DUE", "WHY"}, rows);
}

int report_sweep(
    const std::vector<planned_renewal>& planned,
    const std::vector<run_result>& results,
    sweep_mode mode,
    const sweep_output& output,
    std::chrono::system_clock::time_point started
)
{
    const auto elapsed =
        std::chrono::duration<double>(std::chrono::system_clock::now() - started).count();
    bool ok = results.size() == planned.size();
    for (const auto& r : results) {
        ok = ok && succeeded(r);
    }
    if (!output.junit_file.empty()) {
        if (auto ec = core::write_file_atomically(output.junit_file, junit_xml(results, elapsed))) {
            std::cerr << "certfleet: cannot write " << output.junit_file << ": " << ec.message()
                      << '\n';
            ok = false;
        }
    }
    if (output.json) {
        nlohmann::json out{
            {"ran_in", mode == sweep_mode::server ? "server" : "this process"},
            {"due", planned.size()},
            {"succeeded", ok},
            {"seconds", elapsed},
            {"results", nlohmann::json::array()},
        };
        for (const auto& r : results) {
            out["results"].push_back(to_json(r));
        }
        std::cout << out.dump(2) << '\n';
        return ok ? exit_ok : exit_failure;
    }
    if (planned.empty()) {
        std::cout << "nothing was due for renewal\n";
        return exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    std::size_t issued = 0;
    for (const auto& r : results) {
        issued += r.outcome == run_outcome::issued ? 1 : 0;
        rows.push_back(
            {std::to_string(r.certificate_id), join(r.names, ","),
             std::string(to_string(r.outcome)),
             r.outcome == run_outcome::issued ? format_time(r.not_after) : r.problem}
        );
    }
    print_table(std::cout, {"ID", "NAMES", "RESULT", "EXPIRES / PROBLEM"}, rows);
    std::cout << issued << " of " << planned.size() << " renewed in " << static_cast<int>(elapsed)
              << " s" << (mode == sweep_mode::server ? " by the running server" : "") << '\n';
    if (!ok) {
        std::cout << "Fix the problems above (certfleet domain check shows delegation and CAA), "
                     "then run the sweep again.\n";
    }
    return ok ? exit_ok : exit_failure;
}

} // namespace certfleet::app
