#pragma once
// The acme-dns compatible HTTP API (joohoi/acme-dns), served on its own listener, for the
// clients that already speak it (lego, certbot-dns-acmedns, acme.sh, cert-manager, Posh-ACME,
// win-acme):
//   POST /register  optional body {"allowfrom": ["192.0.2.0/24", ...]}
//                   → 201 {"username", "password", "fulldomain", "subdomain", "allowfrom"}
//   POST /update    headers X-Api-User, X-Api-Key; body {"subdomain", "txt"} → 200 {"txt": "..."}
//   GET  /health    → 200
// with acme-dns's errors: 400 {"error": "malformed_json_payload" | "invalid_allowfrom_cidr" |
// "bad_subdomain" | "bad_txt"}, 401 {"error": "forbidden"} for every refused caller (the log line
// says why: unknown user, wrong key, source not allowed, subdomain mismatch, registration
// closed), 500 {"error": "db_error"}. JSON keys match in any case, as Go's decoder matches them
// (goacmedns sends "SubDomain", "Txt", "AllowFrom"). An Authorization header other than a
// bearer token (HTTP Basic auth of a proxy in front) is ignored.
//
// Beyond acme-dns:
// - Registration is closed by default: open to a bearer token that `may_register` accepts and to
//   sources in `register_from`; `open` opens it to anyone (acme-dns's default), `disabled`
//   serves no /register at all (404, acme-dns's disable_registration).
// - A registration keeps up to max_values TXT values (acme-dns keeps two; an order for several
//   names through one registration sends more): a new value beyond that replaces the least
//   recently updated one. Each value expires value_lifetime after its last update.
// - allowfrom is checked against the TCP peer; a proxy header is trusted only when configured,
//   and then only its last address (the one our proxy added: those before it come from the
//   client and prove nothing).
//
// Values are served at <subdomain>.<zone> through the challenge board as soon as they are
// stored. sync() takes expired values out, and makes the zone follow changes made by other
// processes on the same store (`certfleet acmedns delete`, another server).
//
// Thread safety: handle(), sync() and remove() run on one thread (the HTTP server's executor);
// stats() may be read from any thread.

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/challenge_board.hpp"
#include "core/store.hpp"
#include "dns/acmedns_options.hpp"
#include "net/http_server.hpp"

namespace certfleet::dns {

// Counters for /metrics, by result.
struct acmedns_stats
{
    std::atomic<std::uint64_t> updates_ok{0};
    std::atomic<std::uint64_t> updates_bad_request{0};
    std::atomic<std::uint64_t> updates_forbidden{0};
    std::atomic<std::uint64_t> updates_failed{0}; // our side: the store
    std::atomic<std::uint64_t> registrations_ok{0};
    std::atomic<std::uint64_t> registrations_bad_request{0};
    std::atomic<std::uint64_t> registrations_forbidden{0};
    std::atomic<std::uint64_t> registrations_failed{0};
    std::atomic<std::uint64_t> values_expired{0};
};

enum class acmedns_log_level
{
    debug,
    info,
    warning,
    error,
};

// What the API works over, all supplied by the app.
struct acmedns_ports
{
    core::store& store;
    core::challenge_board& board;
    std::function<core::time_point()> clock;
    // Whether this bearer token may register (the app: an API token of scope register or admin).
    std::function<bool(std::string_view bearer_token)> may_register;
    // One line an event. Lines hold no key, token or other secret, and no text from the request
    // that was not validated first.
    std::function<void(acmedns_log_level, std::string_view line)> log;
};

class acmedns_api
{
public:
    acmedns_api(acmedns_options options, acmedns_ports ports);

    [[nodiscard]] net::server_response handle(const net::server_request& request);

    // Purges the expired values and makes the zone serve exactly the stored ones. Call it at
    // start, then every few seconds. False (logged) when the store cannot be read.
    bool sync();

    // Deletes a registration and takes its values out of the zone at once.
    [[nodiscard]] boost::system::result<void> remove(std::string_view username);

    [[nodiscard]] const acmedns_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] const acmedns_options& options() const noexcept { return options_; }

private:
    net::server_response register_account(const net::server_request& request);
    net::server_response update(const net::server_request& request);
    [[nodiscard]] std::optional<std::string>
    registration_grant(const net::server_request& request, std::string& reason) const;
    [[nodiscard]] std::optional<boost::asio::ip::address> source(const net::server_request& request
    ) const;
    [[nodiscard]] std::string describe_source(const net::server_request& request) const;
    net::server_response publish(const core::acmedns_registration& r, std::string_view txt);
    void log(acmedns_log_level level, std::string_view line) const;

    acmedns_options options_;
    acmedns_ports ports_;
    acmedns_stats stats_;
    std::set<std::pair<std::string, std::string>> published_; // (fqdn, value) we put on the board
};

// acme-dns's error body, {"error": "<code>"}, with that status; also renders the HTTP server's
// own refusals (400, 408, 413, 431, 503) in the same format.
[[nodiscard]] net::server_response acmedns_error(unsigned status, std::string_view code);

} // namespace certfleet::dns
