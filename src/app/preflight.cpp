#include "app/preflight.hpp"

#include <memory>
#include <set>
#include <utility>

#include "dns/ares_client.hpp"
#include "dns/caa_checker.hpp"
#include "dns/delegation_checker.hpp"

namespace certfleet::app {
namespace {

std::string without_wildcard(const std::string& name)
{
    return name.starts_with("*.") ? name.substr(2) : name;
}

dns::delegation_check
delegation_check_of(const preflight_name& n, const preflight_settings& settings)
{
    dns::delegation_check check;
    check.name = without_wildcard(n.name);
    check.expected_target = n.target;
    check.resolvers = settings.resolvers;
    check.timeout = settings.timeout;
    return check;
}

dns::caa_check caa_check_of(const preflight_name& n, const preflight_settings& settings)
{
    dns::caa_check check;
    check.name = n.name;
    check.resolvers = settings.resolvers;
    check.timeout = settings.timeout;
    return check;
}

name_verdict delegation_verdict(const preflight_name& n, const dns::delegation_report& report)
{
    return name_verdict{
        n.name, report.status == dns::delegation_status::correct, "delegation",
        std::string(dns::to_string(report.status)), report.detail};
}

name_verdict caa_verdict(
    const preflight_name& n,
    const preflight_request& request,
    const dns::caa_check& check,
    dns::ares_client& client
)
{
    core::caa_request caa;
    caa.ca_domains = request.ca_domains;
    caa.account_uri = request.account_uri;
    caa.validation_method = "dns-01";
    caa.wildcard = n.name.starts_with("*.");
    const auto verdict = dns::check_caa_allows(check, caa, client);
    return name_verdict{
        n.name, verdict.allowed, "caa", verdict.allowed ? "allowed" : "refused",
        verdict.reason.empty() ? std::string("no CAA record restricts issuance") : verdict.reason};
}

// One client per thread, kept while the settings stay: its channel, its sockets and the
// system's resolver configuration are set up once, not for every check.
dns::ares_client& client_for(const preflight_settings& settings)
{
    thread_local std::unique_ptr<dns::ares_client> client;
    thread_local preflight_settings made_for;
    if (!client || made_for.resolvers != settings.resolvers ||
        made_for.timeout != settings.timeout) {
        dns::ares_settings wanted; // two tries, as the checkers' own
        wanted.resolvers = settings.resolvers;
        wanted.timeout = settings.timeout;
        client = std::make_unique<dns::ares_client>(wanted);
        made_for = settings;
    }
    return *client;
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
    std::vector<dns::delegation_check> delegations;
    std::vector<dns::caa_check> caas;
    std::set<std::pair<std::string, dns::rr_type>> questions;
    for (const auto& n : request.names) {
        if (settings.delegation) {
            delegations.push_back(delegation_check_of(n, settings));
            const auto asked = dns::delegation_questions(delegations.back());
            questions.insert(asked.begin(), asked.end());
        }
        if (settings.caa) {
            caas.push_back(caa_check_of(n, settings));
            const auto asked = dns::caa_questions(caas.back());
            questions.insert(asked.begin(), asked.end()); // the names' parents are shared
        }
    }
    auto& client = client_for(settings);
    // Every lookup waits on the network: the first ones of every check are asked at once, and
    // the checks read their answers (a CNAME chain's further hops are asked as they come).
    client.prefetch({questions.begin(), questions.end()});
    struct forget
    {
        dns::ares_client& client;
        ~forget() { client.forget_prefetched(); } // the next request asks the world again
    } forget_answers{client};
    preflight_report report;
    auto delegation = delegations.begin();
    auto caa = caas.begin();
    for (const auto& n : request.names) {
        if (settings.delegation) {
            report.verdicts.push_back(
                delegation_verdict(n, dns::check_delegation(*delegation++, client))
            );
        }
        if (settings.caa) {
            report.verdicts.push_back(caa_verdict(n, request, *caa++, client));
        }
    }
    for (const auto& v : report.verdicts) {
        report.ok = report.ok && v.ok;
    }
    return report;
}

} // namespace certfleet::app
