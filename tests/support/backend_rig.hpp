#pragma once
// The issuance backend with real parts, driven through the certfleet binary as an operator
// would: NSD serves the customer's zone (the one-time CNAMEs, CAA records), unbound resolves
// like a CA's resolver and is the preflight's resolver too, Pebble is the CA, and `certfleet`
// (serve, renew, cert, domain) is the authority of acme.delegated.test on its own port. The
// configuration seeds the managed domains with known labels ([[domain]]).

#include <boost/beast/http/verb.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/pebble_rig.hpp"
#include "support/rig.hpp"
#include "support/rig_dns_servers.hpp"

namespace certfleet::test {

struct backend_rig_options
{
    pebble_options pebble;
    // Managed name → its label in acme.delegated.test, seeded into the store.
    std::map<std::string, std::string> domains;
    // The customer's CNAMEs: name → label they point at (by default the same as `domains`).
    std::optional<std::map<std::string, std::string>> cnames;
    std::vector<std::string> extra_zone_lines; // more records for customer.test
    std::string extra_config;                  // appended to certfleet.toml
    std::string preflight_config;              // more lines of the [preflight] section
    // The [renewal] section's lines: retries within seconds by default.
    std::string renewal_config = "first_backoff_s = 1\nmax_backoff_s = 2";
    unsigned max_concurrent_orders = 16;
    bool api = false; // an [api] section: HTTPS on a free port with init's self-signed certificate
    std::string api_tls = "self-signed";
    std::string api_config; // more lines of that [api] section
    // A [store] section (and `certfleet init` run); without it, the configuration of the
    // one-shot `certfleet issue` ([dns], [acme], [[domain]], [preflight]).
    bool store = true;
    std::string database = "certfleet.db"; // relative to the configuration's directory
};

// One answer of the HTTPS API.
struct api_reply
{
    unsigned status = 0; // 0: no answer (error says why)
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string error;
    [[nodiscard]] nlohmann::json json() const
    {
        return nlohmann::json::parse(body, nullptr, false);
    }
    [[nodiscard]] std::string header(std::string_view name) const;
};

// True when `key` (PEM) is the private half of the first certificate in `certificate` (PEM).
[[nodiscard]] bool
key_matches_certificate(const std::filesystem::path& certificate, const std::filesystem::path& key);

// Four managed names for the preflight: good (its CNAME right), missing (no CNAME), wrong (a
// CNAME to another label) and caa (a CAA record for another CA).
[[nodiscard]] backend_rig_options preflight_cases();

class backend_rig
{
public:
    explicit backend_rig(backend_rig_options options);
    ~backend_rig();

    // `certfleet <args> --config <file>` to completion.
    [[nodiscard]] run_result certfleet(
        std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)
    ) const;
    // `certfleet issue --name NAME --out-dir OUT --config <file>` with TMPDIR set (where its
    // temporary store goes), to completion.
    [[nodiscard]] run_result issue(
        const std::string& name,
        const std::filesystem::path& out,
        const std::filesystem::path& tmpdir
    ) const;
    // The same, stdout parsed as JSON (throws rig_error with the output when it is not).
    [[nodiscard]] nlohmann::json certfleet_json(std::vector<std::string> args) const;

    // Points the customer's _acme-challenge.<name> at <label>.acme.delegated.test (a new CNAME
    // or a changed one), as an operator does at their DNS provider, and waits until NSD answers
    // it.
    void set_cname(const std::string& name, const std::string& label);

    // Starts `certfleet serve` and waits until its DNS answers; stops a running one first.
    void start_serve();
    // SIGKILL to the running server (by its PID), then reaps it.
    void kill_serve();
    // SIGTERM, returns its exit status.
    int stop_serve();
    [[nodiscard]] child_process* serve() noexcept { return serve_.get(); }
    // What the running (or last) server logged; empty when none ran.
    [[nodiscard]] std::string serve_log() const { return serve_ ? serve_->log() : std::string(); }

    // Orders Pebble was asked for so far (newOrder requests in its log).
    [[nodiscard]] std::size_t pebble_orders() const;
    // newAccount requests Pebble received so far.
    [[nodiscard]] std::size_t pebble_account_requests() const;
    // How many certificates are valid now.
    [[nodiscard]] std::size_t valid_count() const;
    // Waits until every certificate is valid (true) or the time is up (false).
    [[nodiscard]] bool wait_all_valid(std::size_t expected, std::chrono::seconds limit) const;

    [[nodiscard]] const temp_dir& dir() const noexcept { return dir_; }
    [[nodiscard]] const std::filesystem::path& config() const noexcept { return config_; }
    [[nodiscard]] pebble_ca& pebble() noexcept { return *pebble_; }
    [[nodiscard]] std::uint16_t dns_port() const noexcept { return dns_port_; }
    [[nodiscard]] std::string resolver() const { return resolver_->address(); }

    // The API (options.api): its URL, the SHA-256 of its certificate, and one request to it
    // with the certificate pinned. `token` empty: no Authorization header.
    [[nodiscard]] std::string api_url() const;
    [[nodiscard]] std::string api_fingerprint() const;
    [[nodiscard]] api_reply
    api(boost::beast::http::verb method,
        const std::string& target,
        const std::string& token,
        const std::string& body = {},
        std::vector<std::pair<std::string, std::string>> headers = {}) const;
    // `certfleet token create` here; the secret.
    [[nodiscard]] std::string make_token(const std::string& name, const std::string& scope) const;

private:
    temp_dir dir_{"certfleet-backend"};
    std::uint16_t dns_port_;
    std::map<std::string, std::string> cnames_;
    std::vector<std::string> extra_zone_lines_;
    std::uint16_t api_port_ = 0;
    std::unique_ptr<nsd_server> customer_;
    std::unique_ptr<unbound_resolver> resolver_;
    std::unique_ptr<pebble_ca> pebble_;
    std::filesystem::path config_;
    std::unique_ptr<child_process> serve_;
    int serve_starts_ = 0;
};

} // namespace certfleet::test
