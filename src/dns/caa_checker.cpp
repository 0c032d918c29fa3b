#include "dns/caa_checker.hpp"

#include <optional>

#include "dns/ares_client.hpp"
#include "dns/caa_answer.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"

namespace certfleet::dns {
namespace {

bool is_wildcard(std::string_view name) noexcept
{
    return name.starts_with("*.");
}

// Where the climb starts, in canonical wire form: the name without its final dot, and for a
// wildcard "*.x" the name x (RFC 8659 3). nullopt for something that is not a domain name.
std::optional<std::string> climb_start(std::string_view name)
{
    while (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    if (is_wildcard(name)) {
        name.remove_prefix(2);
    }
    auto canonical = canonical_name(name);
    if (!canonical || canonical->size() <= 1) { // the root holds no Relevant RRset
        return std::nullopt;
    }
    return std::move(*canonical);
}

// The name one label up. Precondition: not the root.
std::string parent(std::string_view canonical)
{
    return std::string(canonical.substr(1U + static_cast<std::uint8_t>(canonical.front())));
}

std::string list_records(const std::vector<core::caa_record>& records)
{
    std::string out;
    for (const auto& r : records) {
        out += (out.empty() ? "`" : ", `") + core::to_text(r) + "`";
    }
    return out;
}

} // namespace

std::string_view to_string(caa_status s) noexcept
{
    switch (s) {
    case caa_status::found:
        return "found";
    case caa_status::none:
        return "none";
    case caa_status::lookup_failed:
        return "lookup_failed";
    }
    return "unknown";
}

caa_report check_caa(const caa_check& check)
{
    ares_client client({check.resolvers, check.timeout, check.tries});
    return check_caa(check, client);
}

std::vector<std::pair<std::string, rr_type>> caa_questions(const caa_check& check)
{
    std::vector<std::pair<std::string, rr_type>> questions;
    if (const auto start = climb_start(check.name)) {
        for (std::string current = *start; current.size() > 1; current = parent(current)) {
            questions.emplace_back(name_to_text(current), rr_type::caa);
        }
    }
    return questions;
}

caa_report check_caa(const caa_check& check, ares_client& client)
{
    caa_report report;
    const auto start = climb_start(check.name);
    if (!start) {
        report.detail = "'" + check.name + "' is not a valid domain name: check the name";
        return report;
    }
    if (!client.setup_error().empty()) {
        report.detail = client.setup_error();
        return report;
    }
    const auto asked = name_to_text(*start);
    for (std::string current = *start; current.size() > 1; current = parent(current)) {
        const auto text = name_to_text(current);
        const auto answer = client.query(text, rr_type::caa);
        if (answer.outcome == ares_outcome::failed) {
            // A CA that cannot read CAA does not issue: neither may we assume nothing is there.
            report.detail = "the CAA lookup of " + text + " failed: " + answer.error +
                            "; CAs refuse to issue until it succeeds: check the resolver and the "
                            "DNS of " +
                            asked + ", then try again";
            return report;
        }
        if (answer.outcome != ares_outcome::answered) {
            continue; // NXDOMAIN or NODATA: climb (RFC 8659 3)
        }
        auto found = read_caa_answer(answer.message, current);
        if (!found) {
            report.detail = "the answer to the CAA lookup of " + text + " is malformed (" +
                            found.error().message() + "): CAs cannot read it either";
            return report;
        }
        if (found->records.empty()) {
            continue; // an alias whose target has no CAA, say
        }
        report.status = caa_status::found;
        report.owner = text;
        report.records = std::move(found->records);
        report.detail = "CAA at " + text;
        if (found->owner != current) {
            report.detail += " (an alias of " + name_to_text(found->owner) + ")";
        }
        if (current != *start) {
            report.detail += ", the closest parent of " + asked + " with CAA records";
        }
        report.detail += ": " + list_records(report.records);
        return report;
    }
    report.status = caa_status::none;
    report.detail = "no CAA records at " + asked +
                    " or any of its parents: CAA does not restrict issuance (RFC 8659 3)";
    return report;
}

core::caa_verdict check_caa_allows(const caa_check& check, const core::caa_request& request)
{
    ares_client client({check.resolvers, check.timeout, check.tries});
    return check_caa_allows(check, request, client);
}

core::caa_verdict
check_caa_allows(const caa_check& check, const core::caa_request& request, ares_client& client)
{
    const auto report = check_caa(check, client);
    switch (report.status) {
    case caa_status::lookup_failed:
        return {false, report.detail};
    case caa_status::none:
        return {true, report.detail};
    case caa_status::found:
        break;
    }
    auto wildcard_aware = request;
    wildcard_aware.wildcard = request.wildcard || is_wildcard(check.name);
    auto verdict = core::evaluate_caa(report.records, wildcard_aware);
    verdict.reason = "at " + report.owner + ": " + verdict.reason;
    return verdict;
}

} // namespace certfleet::dns
