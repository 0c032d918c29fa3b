// certfleet domain add|check|list|remove: the managed names, each delegated once to its own
// label in our zone by a CNAME the operator creates at their DNS provider.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/rest_client.hpp"
#include "core/challenge_name.hpp"
#include "dns/delegation_checker.hpp"
#include "dns/name.hpp"

namespace certfleet::app {
namespace {
namespace http = boost::beast::http;

struct domain_options
{
    std::string config_file;
    std::vector<std::string> names;
    bool json = false;
    // `check` of a name that is not in the store: the target to expect.
    std::string expect;
    std::vector<std::string> resolvers;
    int timeout_ms = 2000;
    remote_options remote;
};

int add_domains(const domain_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        nlohmann::json out = nlohmann::json::array();
        int rc = exit_ok;
        for (const auto& text : o.names) {
            auto reply =
                api.call(http::verb::post, "/api/v1/domains", nlohmann::json{{"name", text}});
            if (!reply.ok()) {
                const int failed = report_failure(reply);
                if (failed != exit_usage) {
                    return failed;
                }
                rc = failed;
                continue;
            }
            const auto& d = reply.body;
            const bool added = d.value("added", false);
            out.push_back({
                {"name", d["name"]},
                {"label", d["label"]},
                {"target", d["target"]},
                {"record", d["record"]},
                {"added", added},
            });
            if (!o.json) {
                std::cout << (added ? "added: " : "already managed: ")
                          << d["name"].get<std::string>()
                          << "\nCreate this record at the DNS provider of "
                          << d["name"].get<std::string>() << " (once; it never changes):\n  "
                          << d["record"].get<std::string>() << '\n';
            }
        }
        if (o.json) {
            std::cout << out.dump() << '\n';
        }
        return rc;
    });
}

int list_domains(const domain_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        rest_reply failure;
        auto domains = api.list_all("/api/v1/domains", failure);
        if (!domains) {
            return report_failure(failure);
        }
        if (o.json) {
            std::cout << domains->dump() << '\n';
            return exit_ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& d : *domains) {
            const auto check = d.value("check", std::string());
            rows.push_back(
                {d["name"].get<std::string>(), d["target"].get<std::string>(),
                 check.empty() ? "never checked" : check,
                 d["checked_at"].is_string() ? d["checked_at"].get<std::string>() : "-"}
            );
        }
        print_table(std::cout, {"NAME", "CNAME TARGET", "LAST CHECK", "CHECKED AT"}, rows);
        return exit_ok;
    });
}

int remove_domains(const domain_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        int rc = exit_ok;
        for (const auto& text : o.names) {
            const auto name = core::lower_name(text);
            auto reply = api.call(http::verb::delete_, "/api/v1/domains/" + url_segment(name));
            if (!reply.ok()) {
                if (reply.status == 409) {
                    return report_failure(reply);
                }
                rc = report_failure(reply);
                continue;
            }
            std::cout << "removed " << name << "; its CNAME at the DNS provider can go too.\n";
        }
        return rc;
    });
}

// A name outside the store, against an expected target: the delegation alone.
int check_ad_hoc(const domain_options& o)
{
    int rc = exit_ok;
    for (const auto& name : o.names) {
        dns::delegation_check check;
        check.name = name;
        check.expected_target = o.expect;
        check.resolvers = o.resolvers;
        check.timeout = std::chrono::milliseconds(o.timeout_ms);
        const auto report = dns::check_delegation(check);
        if (o.json) {
            nlohmann::json out{
                {"name", name},
                {"challenge_name", report.challenge_name},
                {"expected", report.expected_target},
                {"status", dns::to_string(report.status)},
                {"chain", report.chain},
                {"detail", report.detail},
            };
            std::cout << out.dump() << '\n';
        } else {
            std::cout << report.challenge_name << ": " << dns::to_string(report.status) << "\n  "
                      << report.detail << '\n';
        }
        if (report.status != dns::delegation_status::correct) {
            rc = exit_failure;
        }
    }
    return rc;
}

int check_domains(const domain_options& o)
{
    if (!o.expect.empty()) {
        if (o.names.empty()) {
            std::cerr << "certfleet: --expect needs the name to check.\n";
            return exit_usage;
        }
        return check_ad_hoc(o);
    }
    if (!o.resolvers.empty() || o.timeout_ms != 2000) {
        std::cerr
            << "certfleet: --resolver and --timeout-ms apply to --expect checks; managed names "
               "are checked with the server's [preflight] settings.\n";
        return exit_usage;
    }
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply =
            api.call(http::verb::post, "/api/v1/domain-checks", nlohmann::json{{"names", o.names}});
        if (!reply.ok()) {
            return report_failure(reply);
        }
        const auto& results = reply.body["results"];
        if (o.json) {
            std::cout << results.dump() << '\n';
        } else {
            for (const auto& v : results) {
                std::cout << v["name"].get<std::string>() << ": " << v["check"].get<std::string>()
                          << " " << v["status"].get<std::string>() << "\n  "
                          << v["detail"].get<std::string>() << '\n';
            }
        }
        return reply.body.value("ok", false) ? exit_ok : exit_failure;
    });
}

} // namespace

void add_domain_command(CLI::App& app, command_runner& run)
{
    auto* domain =
        app.add_subcommand("domain", "Managed names and their one-time CNAME delegation");
    domain->require_subcommand(1);
    auto o = std::make_shared<domain_options>();

    auto* add = domain->add_subcommand(
        "add", "Manage names: allocate each a stable label and print the CNAME to create"
    );
    add->add_option("names", o->names, "Names, e.g. www.example.com")->required();
    add_config_option(*add, o->config_file);
    add_remote_options(*add, o->remote);
    add->add_flag("--json", o->json, "JSON on stdout");
    add->callback([o, &run] { run = [o] { return add_domains(*o); }; });

    auto* check = domain->add_subcommand(
        "check", "Preflight each name (its CNAME, its CAA records): what is right, what to fix; "
                 "exit 0 when all pass"
    );
    check->add_option("names", o->names, "Names (default: every managed name)");
    check->add_option(
        "--expect", o->expect,
        "Check any name against this CNAME target (e.g. k3f9.acme.example.net), without the store"
    );
    check->add_option(
        "--resolver", o->resolvers, "Resolver host:port (default: [preflight] resolvers)"
    );
    check->add_option("--timeout-ms", o->timeout_ms, "Timeout per try")
        ->check(CLI::Range(10, 60000));
    add_config_option(*check, o->config_file);
    add_remote_options(*check, o->remote);
    check->add_flag("--json", o->json, "JSON on stdout");
    check->callback([o, &run] { run = [o] { return check_domains(*o); }; });

    auto* list =
        domain->add_subcommand("list", "Managed names, their CNAME targets and last check");
    add_config_option(*list, o->config_file);
    add_remote_options(*list, o->remote);
    list->add_flag("--json", o->json, "JSON on stdout");
    list->callback([o, &run] { run = [o] { return list_domains(*o); }; });

    auto* remove =
        domain->add_subcommand("remove", "Stop managing names (no certificate may use them)");
    remove->add_option("names", o->names, "Names")->required();
    add_config_option(*remove, o->config_file);
    add_remote_options(*remove, o->remote);
    remove->callback([o, &run] { run = [o] { return remove_domains(*o); }; });
}

} // namespace certfleet::app
