#pragma once
// certfleet-agent's loop (DESIGN section 6), portable: everything platform-specific comes in
// through ports (the transport, crypto, processes, the probe) and every input that tests must
// control (the clock, sleeping, randomness, logging) is a function.
//
// enroll(): decodes the join token, makes the agent's key pair, POSTs enroll to the server whose
// TLS certificate the token pins, checks the returned bundle-signing key against the token's
// fingerprint and only then saves the identity (agent_state.hpp). Nothing is saved on failure.
//
// run_once(): sends the reports not yet accepted, polls (a signed request carrying the known
// assignments with their staged and deployed versions; the server long-polls up to poll_wait),
// stages every new bundle that verifies (open_bundle, and a version above both the deployed and
// the staged one) and reports "staged", reports a bundle that does not verify as "refused"
// (the host is left untouched), then applies what agent_policy.hpp says is due and reports
// "deployed" or "failed" with the target's result and why it applied then. A failed bundle stays
// staged. When the server cannot be reached, staged bundles are still applied in their window
// from the openings last received, and reports wait in the outbox.
//
// Drift: every drift_interval, the endpoint of each deployed certificate whose target names one
// ("verify") is probed; when it serves another certificate than the one deployed (someone put
// back an old file, a load balancer serves another node), a "deployed" report with the drift in
// words goes to the server, and another when it is gone.
//
// run(): run_once in a loop until `stop` is set (checked between requests). After a failure it
// waits with exponential backoff and full jitter, from backoff_min doubling up to backoff_max
// (or the server's Retry-After, if longer); a poll answered early with nothing new waits out the
// rest of poll_wait, so that the agent never polls in a tight loop. State is saved after every
// change, so a restart loses nothing.
//
// Thread safety: one thread. Not copyable.

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/agent_policy.hpp"
#include "deploy/agent_protocol.hpp"
#include "deploy/agent_state.hpp"
#include "deploy/agent_transport.hpp"
#include "deploy/crypto_port.hpp"
#include "deploy/probe.hpp"
#include "deploy/process.hpp"
#include "deploy/target.hpp"

namespace certfleet::deploy {

enum class log_level
{
    debug,
    info,
    warn,
    error,
};

struct agent_ports
{
    transport_factory connect;
    const crypto_port& crypto;
    const process_runner& processes;
    std::function<probe_result(const probe_request&)> probe;
    // Applies a verified bundle; empty: apply_target (tests put a fake target here).
    std::function<target_result(const bundle&, const target_context&)> apply;
    std::function<time_point()> clock;
    std::function<void(std::chrono::milliseconds)> sleep; // may return early when stopping
    std::function<std::uint64_t()> random;                // uniform 64-bit values (jitter)
    std::function<void(log_level, std::string_view)> log; // one line, never secrets
};

struct agent_options
{
    std::filesystem::path state_dir;
    std::string version; // this program's version, told to the server
    std::chrono::seconds poll_wait{25};
    std::chrono::seconds backoff_min{1};
    std::chrono::seconds backoff_max{300};
    std::chrono::seconds failure_retry{3600}; // without a window, after a failed apply
    std::chrono::seconds request_timeout{30}; // enroll and reports; a poll gets poll_wait more
    // How often the endpoints of deployed certificates are probed for drift (0: never).
    std::chrono::seconds drift_interval{900};
};

struct poll_outcome
{
    boost::system::error_code error; // no poll answer: transport, server or local state failure
    std::string problem;             // what went wrong and what to do, for the log
    std::optional<std::chrono::seconds> retry_after; // asked by the server
    bool changed = false; // new bundles, openings, assignments or "deploy now", or an apply
};

struct assignment_status
{
    std::int64_t id = 0;
    std::int64_t certificate = 0;
    std::string target;
    std::optional<std::int64_t> staged_version; // only when newer than the deployed one
    std::optional<std::int64_t> deployed_version;
    std::optional<time_point> deployed_not_after;
    std::optional<time_point> deployed_at;
    std::string last_status;
    std::string last_message;
    std::string next_step; // agent_policy's reason: why and until when it waits
};

struct agent_status
{
    std::string agent;
    std::string server_url;
    std::optional<time_point> last_contact;
    bool window_open = false;
    bool window_set = false; // openings were received
    std::optional<time_point> next_opening;
    std::vector<assignment_status> assignments;
    std::size_t unsent_reports = 0;
};

class agent
{
public:
    agent(agent_ports ports, agent_options options);
    agent(const agent&) = delete;
    agent& operator=(const agent&) = delete;
    ~agent();

    // Errors: protocol_error (not a join token), file_exists (already enrolled), pin_mismatch
    // (TLS certificate or signing key), enrollment_refused (the server said no: its message is
    // in `problem`), a transport error, crypto_failure, or a write error.
    [[nodiscard]] boost::system::result<void>
    enroll(std::string_view token_text, std::string_view hostname, std::string* problem = nullptr);

    // Loads the identity and state (once). Errors: not_enrolled, state_corrupt, read errors.
    [[nodiscard]] boost::system::result<void> load(std::string* problem = nullptr);

    [[nodiscard]] poll_outcome run_once();
    // Returns when `stop` is set, or with the error of a state that cannot be loaded or saved.
    boost::system::error_code run(const std::atomic<bool>& stop);

    // Read from the state directory. Errors as load().
    [[nodiscard]] boost::system::result<agent_status> status(std::string* problem = nullptr) const;

    // The wait before the next attempt after `failures` failures in a row (1 = the first).
    [[nodiscard]] std::chrono::milliseconds backoff_delay(unsigned failures) const;

private:
    struct loaded;

    [[nodiscard]] poll_outcome poll();
    void handle_response(const poll_response& response, poll_outcome& outcome);
    void sync_assignments(const poll_response& response, poll_outcome& outcome);
    void handle_bundle(const std::string& text, poll_outcome& outcome);
    // False when the same refusal was reported already.
    bool refuse(std::int64_t assignment, std::int64_t version, boost::system::error_code why);
    bool apply_due(); // true when something was applied
    void apply(assignment_state& a, const apply_decision& decision);
    // Probes the endpoints of what is deployed (the target's "verify" options) when the drift
    // interval has passed, and reports a change of drift: the endpoint serving another
    // certificate than the one deployed, or the same again.
    bool check_drift();
    void queue_report(report r);
    void flush_outbox();
    [[nodiscard]] boost::system::result<agent_reply> post_signed(
        std::string_view path,
        const nlohmann::json& payload,
        std::chrono::seconds timeout,
        std::string* detail
    );
    [[nodiscard]] boost::system::error_code save();
    [[nodiscard]] assignment_state* find(std::int64_t id);
    void log(log_level level, const std::string& line) const;

    agent_ports ports_;
    agent_options options_;
    std::unique_ptr<loaded> loaded_;
};

} // namespace certfleet::deploy
