#pragma once
// The whole DNS-01 path with real parts (DESIGN section 8): NSD serves the customer's zone with
// the one-time CNAMEs, certfleet's authority (in this process) serves the delegated zone,
// unbound resolves both like a CA's resolver, and Pebble validates through unbound.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>

#include "core/challenge_redirect.hpp"
#include "support/pebble_rig.hpp"
#include "support/rig_authority.hpp"
#include "support/rig_dns_servers.hpp"

namespace certfleet::test {

inline constexpr std::string_view customer_zone = "customer.test";
inline constexpr std::string_view delegated_zone = "acme.delegated.test";

struct acme_rig_options
{
    pebble_options pebble;
    // Managed names (in customer.test) → the label their CNAME points at. A name whose CNAME
    // points elsewhere than where the board presents makes validation fail.
    std::map<std::string, std::string> cnames{
        {"customer.test", "apex"},
        {"www.customer.test", "www"},
        {"api.customer.test", "api"},
        {"shop.customer.test", "shop"},
        {"wrong.customer.test", "somewhere-else"},
    };
};

class acme_rig
{
public:
    explicit acme_rig(acme_rig_options options = {});

    // Presents at `_acme-challenge.<name>` → `<first label or "apex">.acme.delegated.test`.
    [[nodiscard]] core::challenge_board& board() noexcept { return board_; }
    [[nodiscard]] dns::challenge_records& records() noexcept { return authority_.challenges(); }
    [[nodiscard]] pebble_ca& pebble() noexcept { return *pebble_; }
    [[nodiscard]] const temp_dir& dir() const noexcept { return dir_; }

    // Runs a coroutine on a fresh io_context to completion (bounded by `limit`).
    void
    run(std::function<boost::asio::awaitable<void>()> body,
        std::chrono::seconds limit = std::chrono::seconds(120));

    // `openssl verify` of a PEM chain (leaf first) against Pebble's root; returns its output
    // and exit code.
    [[nodiscard]] run_result verify(const std::string& chain_pem, int root_index = 0) const;

private:
    temp_dir dir_;
    in_process_authority authority_;
    nsd_server customer_;
    unbound_resolver resolver_;
    std::unique_ptr<pebble_ca> pebble_;
    core::challenge_redirect board_;
};

// The label the board presents at for a managed name: its first label, "apex" for the zone.
[[nodiscard]] std::optional<std::string> delegated_target(std::string_view challenge_fqdn);

} // namespace certfleet::test
