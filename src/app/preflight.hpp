#pragma once
// The preflight before any order (DESIGN section 4): each name's `_acme-challenge` CNAME must
// reach its label in our zone through the configured resolver, and the name's CAA records must
// allow this CA, this account and dns-01. A failing name places no order at the CA: every failed
// validation counts against the CA's rate limits.
//
// Blocking (c-ares lookups): run it off the io_context's thread.

#include <string>
#include <vector>

#include "app/settings.hpp"

namespace certfleet::app {

struct preflight_name
{
    std::string name;   // as in the certificate: "www.example.com", "*.example.com"
    std::string target; // its delegation target: "k3f9.acme.example.net"
    bool operator==(const preflight_name&) const = default;
};

struct preflight_request
{
    std::vector<preflight_name> names;
    std::vector<std::string> ca_domains; // the CA's CAA issuer domain names
    std::string account_uri;
    bool operator==(const preflight_request&) const = default;
};

struct name_verdict
{
    std::string name;
    bool ok = true;
    std::string check;  // "delegation" or "caa"
    std::string status; // the checker's status word: "correct", "missing", "refused", ...
    std::string detail; // the checker's own message: what is wrong and how to fix it
};

struct preflight_report
{
    bool ok = true;
    std::vector<name_verdict> verdicts; // one per name and check
    // "www.example.com: missing — ..." for every failing name, one line each.
    [[nodiscard]] std::string problems() const;
    // The check of the first failing verdict ("delegation", "caa"); empty when none failed.
    [[nodiscard]] std::string_view failed_check() const noexcept;
};

[[nodiscard]] preflight_report
run_preflight(const preflight_request& request, const preflight_settings& settings);

} // namespace certfleet::app
