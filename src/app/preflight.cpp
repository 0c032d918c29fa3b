#include "app/preflight.hpp"

#include <future>

#include "dns/caa_checker.hpp"
#include "dns/delegation_checker.hpp"

namespace certfleet::app {
namespace {

std::string without_wildcard(const std::string& name)
{
    return name.starts_with("*.") ? name.substr(2) : name;
}

name_verdict check_delegation(const preflight_name& n, const preflight_settings& settings)
{
    dns::delegation_check check;
    check.name = without_wildcard(n.name);
    check.expected_target = n.target;
    check.resolvers = settings.resolvers;
    check.timeout = settings.timeout;
    const auto report = dns::check_delegation(check);
    return name_verdict{
        n.name, report.status == dns::delegation_status::correct, "delegation",
        std::string(dns::to_string(report.status)), report.detail};
}

name_verdict check_caa(
    const preflight_name& n, const preflight_request& request, const preflight_settings& settings
)
{
    dns::caa_check check;
    check.name = n.name;
    check.resolvers = settings.resolvers;
    check.timeout = settings.timeout;
    core::caa_request caa;
    caa.ca_domains = request.ca_domains;
    caa.account_uri = request.account_uri;
    caa.validation_method = "dns-01";
    caa.wildcard = n.name.starts_with("*.");
    const auto verdict = dns::check_caa_allows(check, caa);
    return name_verdict{
        n.name, verdict.allowed, "caa", verdict.allowed ? "allowed" : "refused",
        verdict.reason.empty() ? std::string("no CAA record restricts issuance") : verdict.reason};
}

} // namespace

std::string preflight_report::problems() const
{
    std::string out;
    for (const auto& v : verdicts) {
        if (v.ok) {
            continue;
        }
        if (!out.empty()) {
            out += '\n';
        }
        out += v.name + ": " + v.check + " " + v.status + ": " + v.detail;
    }
    return out;
}

std::string_view preflight_report::failed_check() const noexcept
{
    for (const auto& v : verdicts) {
        if (!v.ok) {
            return v.check;
        }
    }
    return {};
}

preflight_report run_preflight(const preflight_request& request, const preflight_settings& settings)
{
    // Every lookup waits on the network: all of them run at once.
    std::vector<std::future<name_verdict>> pending;
    for (const auto& n : request.names) {
        if (settings.delegation) {
            pending.push_back(std::async(std::launch::async, [&n, &settings] {
                return check_delegation(n, settings);
            }));
        }
        if (settings.caa) {
            pending.push_back(std::async(std::launch::async, [&n, &request, &settings] {
                return check_caa(n, request, settings);
            }));
        }
    }
    preflight_report report;
    for (auto& p : pending) {
        report.verdicts.push_back(p.get());
    }
    for (const auto& v : report.verdicts) {
        report.ok = report.ok && v.ok;
    }
    return report;
}

} // namespace certfleet::app
