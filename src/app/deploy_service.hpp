#pragma once
// The server side of deploy (DESIGN section 6), over the store: join tokens, enrollment, the
// authentication of agents' signed requests, the bundles each agent is owed, and its reports.
// The REST routes (rest_deploy.cpp) and the CLI use it; the long-poll's waiting is agent_hub's.
//
// The bundle-signing key is a P-256 key made on first use, kept in the store sealed under the
// master key. PKCS#12 files are built once per certificate version and protection (a PKCS#12
// costs milliseconds; thousands of agents may want the same version at once) and kept in a small
// cache with their random password; each agent gets the password sealed to its own key.
//
// Thread safety: one thread at a time, like the store it uses; seal_bundle on any thread.

#include <boost/system/result.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/settings.hpp"
#include "app/state.hpp"
#include "core/crypto/secret.hpp"
#include "deploy/agent_protocol.hpp"
#include "deploy/bundle.hpp"
#include "deploy/crypto_port.hpp"

namespace certfleet::app {

using clock_time = std::chrono::system_clock::time_point;

struct made_join_token
{
    std::string text; // cfj1....: shown once
    clock_time expires_at;
};

// A failure with the words for the one who asked: HTTP status, stable code, message.
struct deploy_refusal
{
    unsigned status = 400;
    std::string code;
    std::string message;
};

template <class T> using deploy_outcome = std::variant<T, deploy_refusal>;

// An agent's last contact to store: its address and version, to the minute.
struct agent_contact
{
    core::row_id agent_id = 0;
    std::string address;
    std::string version;
    clock_time at;
};

struct authenticated_agent
{
    core::agent_record agent;
    nlohmann::json payload;
    // Set when the stored last contact is older than a minute or differs: the caller records it
    // (deploy_journal::note_contact, or record_contact at once).
    std::optional<agent_contact> contact;
};

// A report as it is stored: the assignment's row and the event that tells it.
struct prepared_report
{
    core::agent_report row;
    std::string event_kind;
    std::string event_message;
};

// Writes the report and appends its event. not_found: the assignment is not the agent's.
[[nodiscard]] core::store_result<void>
write_report(core::store& store, core::row_id agent_id, const prepared_report& report);

class deploy_service
{
public:
    deploy_service(const server_settings& settings, state& st);
    ~deploy_service();

    // ---- administration
    [[nodiscard]] deploy_outcome<made_join_token> create_join_token(
        std::string_view agent, std::string_view windows, std::chrono::seconds ttl, clock_time now
    );
    // The server URL agents are told to use: api.url, else the first listen address.
    [[nodiscard]] std::string server_url() const;

    // ---- the agent protocol
    [[nodiscard]] deploy_outcome<nlohmann::json>
    enroll(std::string_view body, std::string_view address, clock_time now);
    [[nodiscard]] deploy_outcome<authenticated_agent> authenticate(
        std::string_view body, std::string_view path, std::string_view address, clock_time now
    );
    // authenticate in its three steps, so that the signature check (pure CPU) may run on
    // another thread: identify (parse, find the agent), verify (thread-safe), admit (enabled,
    // not a replay, last contact).
    struct claimed_request
    {
        deploy::signed_request request;
        core::agent_record agent;
    };
    [[nodiscard]] deploy_outcome<claimed_request> identify(std::string_view body);
    [[nodiscard]] bool
    verify(const claimed_request& claim, std::string_view path, clock_time now) const;
    [[nodiscard]] deploy_outcome<authenticated_agent>
    admit(claimed_request claim, std::string_view address, clock_time now);
    [[nodiscard]] static deploy_refusal not_verified();
    // A bundle gathered from the store and not yet sealed and signed. Sealing and signing is
    // pure CPU (HPKE and ES256, per agent) and may run on any thread, so the bundles thousands
    // of agents wait for after a renewal are made on every core, not on the store's thread.
    struct unsealed_bundle
    {
        deploy::bundle fields;
        std::string agent_public_point;
    };
    // What the agent is owed now (the agent tells what it holds in `request`). The poll must
    // answer at once when there is `news` (a deploy-now it has not acted on, an assignment it
    // does not know...) or a bundle newer than it holds (`unsealed`, once sealed).
    struct poll_answer
    {
        deploy::poll_response response;
        bool news = false;
        std::vector<unsealed_bundle> unsealed; // for seal_bundle, then response.bundles
    };
    [[nodiscard]] deploy_outcome<poll_answer> answer_poll(
        const core::agent_record& agent,
        const deploy::poll_request& request,
        clock_time now,
        std::int64_t last_deploy_now
    );
    // Thread-safe: reads the bundle and the signing key, which never changes once made.
    [[nodiscard]] boost::system::result<std::string> seal_bundle(const unsealed_bundle& b) const;
    // Records why a bundle owed to `agent` could not be made (the agent is not told).
    void record_bundle_failure(
        const core::agent_record& agent,
        core::row_id certificate_id,
        const boost::system::error_code& ec
    );

    [[nodiscard]] static prepared_report
    prepare_report(const core::agent_record& agent, const deploy::report& r, clock_time now);
    // The agent's words for a report that could not be written (write_report's error).
    [[nodiscard]] static deploy_refusal report_refusal(const boost::system::error_code& ec);

    [[nodiscard]] const deploy::crypto_port& crypto() const noexcept { return *crypto_; }
    // The bundle-signing key's public point and the SHA-256 (hex) of its SPKI.
    [[nodiscard]] boost::system::result<std::pair<std::string, std::string>> signing_identity();

private:
    struct pfx_entry
    {
        std::string pfx;
        core::secret password;
    };
    boost::system::result<const deploy::p256_key_pair*> signing_key();
    // What every agent's bundle of one certificate version shares.
    struct version_material
    {
        core::certificate_version version;
        std::vector<std::string> names;
        std::string sha1_hex;
        std::string sha256_hex;
        core::secret key_pem;
    };
    // The newest version's material; `version_id`, when the caller knows it, spares the store.
    boost::system::result<const version_material*>
    material_for(core::row_id certificate_id, core::row_id version_id);
    boost::system::result<unsealed_bundle>
    gather_bundle(const core::agent_record& agent, const core::assignment_view& view);
    boost::system::result<const pfx_entry*>
    pfx_for(const core::certificate_version& version, const core::secret& key_pem, bool aes);

    const server_settings& settings_;
    state& st_;
    std::unique_ptr<deploy::crypto_port> crypto_;
    deploy::replay_guard replays_;
    std::optional<deploy::p256_key_pair> signing_;
    std::map<std::pair<core::row_id, bool>, pfx_entry> pfx_cache_;
    std::map<core::row_id, version_material> materials_;
};

} // namespace certfleet::app
