#pragma once
// The deploy half of the store (DESIGN section 6): agents, their one-time join tokens, the
// assignments of certificates to agents and targets, and what each agent reported about each
// assignment. Same contract as store.hpp: each call durable and atomic when it returns; errors
// not_found, already_exists, storage_full, storage_failure, busy; one thread at a time.
//
// `generation()` grows with every change an agent must hear about (a new certificate version, an
// assignment made or removed, an agent disabled, "deploy now"): database triggers bump it, so a
// change made by another process (the CLI on the same store) is seen too. The server's long-poll
// compares it instead of reading every agent's state.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace certfleet::core {

using deploy_time = std::chrono::system_clock::time_point;
using deploy_row_id = std::int64_t;

struct agent_join_token
{
    deploy_row_id id = 0;
    std::string agent_name;
    std::string secret_sha256; // lower-case hex; the secret itself is shown once
    std::string windows;       // deployment windows for the agent, as deploy::parse_windows reads
    deploy_time created_at{};
    deploy_time expires_at{};
    std::optional<deploy_time> used_at;
};

struct agent_record
{
    deploy_row_id id = 0;
    std::string name;
    std::string public_point; // 65 bytes: the agent's P-256 key
    std::string windows;
    bool enabled = true;
    deploy_time enrolled_at{};
    std::optional<deploy_time> last_seen_at;
    std::string last_address;
    std::string agent_version;
    std::int64_t deploy_now = 0; // grows with each "deploy now"; the agent acts on a change
};

// What the agent last said about an assignment.
struct assignment_record
{
    deploy_row_id id = 0;
    deploy_row_id agent_id = 0;
    deploy_row_id certificate_id = 0;
    std::string target;       // "files", "exec", "rras"
    std::string options_json; // the target's options
    deploy_time created_at{};
    std::optional<std::int64_t> staged_version;   // downloaded and verified, waiting
    std::optional<std::int64_t> deployed_version; // applied and verified
    std::string last_status;                      // "", "staged", "deployed", "failed", "refused"
    std::string last_result_json;                 // the target's structured result
    std::optional<deploy_time> last_result_at;
    std::string drift; // the probe saw another certificate than the deployed one: what it saw
};

// One assignment with the newest version of its certificate, for the long-poll.
struct assignment_view
{
    assignment_record assignment;
    std::optional<std::int64_t> newest_version; // none before the first issuance
};

struct agent_report
{
    deploy_row_id assignment_id = 0;
    std::int64_t version = 0;
    std::string status; // "staged", "deployed", "failed", "refused"
    std::string result_json;
    std::string drift;
    deploy_time at{};
};

template <class T> using deploy_result = boost::system::result<T>;

class deploy_store
{
public:
    virtual ~deploy_store() = default;

    // ---- join tokens
    virtual deploy_result<deploy_row_id> add_join_token(const agent_join_token& t) = 0;
    // Marks the token with this secret hash used and creates the agent from it, in one
    // transaction. not_found: no such token; expired and used tokens give `refused` through
    // the returned reason (an empty reason means success).
    struct enrollment
    {
        std::string refused; // "unknown", "used", "expired", "name taken"; empty: enrolled
        agent_record agent;
    };
    virtual deploy_result<enrollment> enroll_agent(
        std::string_view secret_sha256,
        std::string_view public_point,
        std::string_view version,
        std::string_view address,
        deploy_time now
    ) = 0;

    // ---- agents
    virtual deploy_result<agent_record> find_agent(std::string_view name) = 0;
    virtual deploy_result<std::vector<agent_record>> list_agents() = 0;
    virtual deploy_result<void> set_agent_enabled(std::string_view name, bool enabled) = 0;
    // Removes the agent and its assignments.
    virtual deploy_result<void> remove_agent(std::string_view name) = 0;
    virtual deploy_result<void>
    set_agent_windows(std::string_view name, std::string_view windows) = 0;
    virtual deploy_result<std::int64_t> request_deploy_now(std::string_view name) = 0;
    virtual deploy_result<void> record_contact(
        deploy_row_id agent_id, std::string_view address, std::string_view version, deploy_time at
    ) = 0;

    // ---- assignments
    // already_exists when the agent has this certificate on this target with the same options.
    virtual deploy_result<deploy_row_id> add_assignment(const assignment_record& a) = 0;
    virtual deploy_result<void> remove_assignment(deploy_row_id id) = 0;
    virtual deploy_result<std::vector<assignment_view>> assignments_of_agent(deploy_row_id agent_id
    ) = 0;
    virtual deploy_result<std::vector<assignment_record>>
    assignments_of_certificate(deploy_row_id certificate_id) = 0;
    // The assignment's certificate; not_found when the assignment is not the agent's.
    virtual deploy_result<deploy_row_id>
    record_report(deploy_row_id agent_id, const agent_report& r) = 0;

    virtual deploy_result<std::int64_t> generation() = 0;
};

} // namespace certfleet::core
