#pragma once
// The issuer: one run of DESIGN section 4's issuance machine for one certificate, on the ACME
// client's order machine, with every step written to the store before the effect that depends
// on it. A run takes the certificate's lock in the store, runs the preflight (no order when a
// name fails it), resumes the certificate's open order when the CA still has it (a new one
// otherwise), seals the key into the store before the CSR leaves, stores the issued version,
// asks the CA for its renewal window (ARI) and plans the next attempt.
//
// Runs on one io_context; many runs at once share the CAs' clients and accounts.

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>

#include "acme/client.hpp"
#include "app/ca_session.hpp"
#include "app/issuance_counters.hpp"
#include "app/preflight.hpp"
#include "app/settings.hpp"
#include "core/challenge_board.hpp"
#include "core/key_vault.hpp"
#include "core/store.hpp"

namespace certfleet::app {

enum class run_outcome
{
    issued,
    failed,           // the CA refused, or the run gave up: a failed renewal, backed off
    retrying,         // a transient failure (network, 5xx, rate limit): resumed soon
    preflight_failed, // no order was placed
    busy,             // another process is issuing this certificate
    skipped,          // revoked, or not found
};

inline constexpr std::array all_run_outcomes{run_outcome::issued,   run_outcome::failed,
                                             run_outcome::retrying, run_outcome::preflight_failed,
                                             run_outcome::busy,     run_outcome::skipped};

[[nodiscard]] std::string_view to_string(run_outcome o) noexcept;

struct run_result
{
    core::row_id certificate_id = 0;
    std::vector<std::string> names;
    run_outcome outcome = run_outcome::failed;
    std::string problem; // for humans: the CA's own words, or the checker's
    // For metrics, when the run failed: a short class from a fixed set (acme::failure_class(),
    // "preflight_delegation", "preflight_caa", ...); empty otherwise.
    std::string reason;
    std::optional<std::chrono::system_clock::time_point> next_attempt_at;
    std::string serial_hex;
    std::optional<std::chrono::system_clock::time_point> not_after;
    bool alert = false;
    std::chrono::milliseconds duration{0};
};

class issuer
{
public:
    issuer(
        boost::asio::any_io_executor executor,
        core::store& store,
        const core::key_vault& vault,
        const server_settings& settings,
        core::challenge_board& zone
    );
    ~issuer();

    boost::asio::awaitable<run_result> run(core::row_id certificate_id);

    // The preflight of a certificate that waits for its turn, run ahead (it places no order and
    // takes no lock): when it passes, the certificate's run within the next minute, for the same
    // names, targets, CA and account, orders without checking again. A failure is not kept: the
    // run checks again and reports it.
    boost::asio::awaitable<void> precheck(core::row_id certificate_id);

    // Asks the CA for the certificate's renewal window again (ARI) and plans it anew; no order.
    boost::asio::awaitable<void> refresh_window(core::row_id certificate_id);

    // Our DNS answered a TXT query at `fqdn` (a label in our zone): the order that published
    // there polls the CA now. Call on the issuer's executor.
    void challenge_queried(std::string_view fqdn);

    // How many orders a CA has running, for the scheduler's bound.
    [[nodiscard]] unsigned running(std::string_view ca) const;

    // The CA's session; throws startup_error when the CA is not configured or cannot start.
    ca_session& session(std::string_view ca);

    // Counts a finished run of a certificate at `ca` (the scheduler calls it for each).
    void count(std::string_view ca, const run_result& result);
    [[nodiscard]] const issuance_counters& counters() const noexcept { return counters_; }

private:
    struct run_context;
    // How long a run waits when the store cannot be written (its lock cannot be taken).
    static constexpr std::chrono::seconds store_retry_delay{10};
    [[nodiscard]] run_result
    store_unwritable(const core::certificate_record& cert, boost::system::error_code ec);
    boost::asio::awaitable<run_result> run_locked(core::certificate_record cert);
    // Each name's delegation target; the first name that is not a managed domain when one is not.
    [[nodiscard]] std::optional<std::string> resolve_targets(run_context& ctx) const;
    boost::asio::awaitable<preflight_request> preflight_request_for(const run_context& ctx);
    boost::asio::awaitable<preflight_report> run_preflight_checks(preflight_request request);
    // The report of a preflight that failed; nullopt when it passed (now, or ahead: precheck())
    // or is turned off.
    boost::asio::awaitable<std::optional<preflight_report>> preflight(const run_context& ctx);
    boost::asio::awaitable<acme::outcome<acme::issued_certificate>> order(run_context& ctx);
    run_result record_success(run_context& ctx, acme::issued_certificate issued);
    run_result record_failure(run_context& ctx, const acme::failure& f);
    run_result record_failure(run_context& ctx, const acme::failure& f, std::string problem);
    run_result
    record_preflight_failure(run_context& ctx, std::string problem, std::string_view reason);
    boost::asio::awaitable<void>
    fetch_renewal_window(run_context& ctx, std::string chain_pem, run_result& result);
    // Stores the CA's window for the newest version and plans the certificate again.
    boost::asio::awaitable<std::optional<core::renewal_plan>>
    update_window(ca_session& session, core::certificate_record& cert);
    void event(std::optional<core::row_id> certificate, std::string kind, std::string message);

    boost::asio::any_io_executor executor_;
    core::store& store_;
    const core::key_vault& vault_;
    const server_settings& settings_;
    core::challenge_board& zone_;
    issuance_counters counters_;
    std::map<std::string, std::unique_ptr<ca_session>, std::less<>> sessions_;
    std::shared_ptr<std::map<std::string, unsigned, std::less<>>> running_ =
        std::make_shared<std::map<std::string, unsigned, std::less<>>>();
    std::map<std::string, std::weak_ptr<acme::order_wakeup>, std::less<>> wakeups_;
    struct passed_preflight
    {
        preflight_request request;
        std::chrono::system_clock::time_point at;
    };
    std::map<core::row_id, passed_preflight> passed_ahead_; // by precheck(), used once
    boost::asio::thread_pool lookups_{8}; // blocking preflight lookups, many orders at once
};

} // namespace certfleet::app
