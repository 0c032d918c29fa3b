#pragma once
// The agent's state directory (DESIGN section 6), default /var/lib/certfleet-agent:
//   identity.json  who the agent is and whom it trusts (mode 0600: it holds the private key)
//   state.json     per assignment: the staged bundle, the deployed version, the not_after of
//                  what is in service, the last "deploy now" acted on; the last openings
//                  received (windows keep working while the server is away); unsent reports
//   work/<id>/     the targets' private directories
// Every file is replaced atomically (core/atomic_file.hpp): a crash leaves the old or the new.
// Staged bundles are kept as received: their secrets stay sealed to the agent's key until the
// bundle is applied.
//
// The identity goes through load_identity/save_identity only, so that the Windows build can
// protect it with DPAPI behind the same two functions.
//
// Errors: not_enrolled (no identity.json), state_corrupt (a file that does not read back; the
// `problem` text names the file and what to do), or the system error of a failed read or write.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/secret.hpp"
#include "deploy/agent_protocol.hpp"
#include "deploy/window.hpp"

namespace certfleet::deploy {

struct agent_identity
{
    std::string server_url;
    std::string agent;                // the agent's name on the server (the `kid` it signs with)
    std::string tls_sha256;           // lower-case hex SHA-256 of the server's TLS certificate
    std::string signing_public_point; // the server's bundle-signing key, 65 bytes
    core::secret private_scalar;      // the agent's P-256 key, 32 bytes
};

struct assignment_state
{
    std::int64_t id = 0;
    std::int64_t certificate = 0;
    std::string target;
    std::optional<std::int64_t> staged_version;
    std::string staged_bundle; // the bundle JWS as received; empty when nothing is staged
    std::optional<time_point> staged_not_after;
    std::optional<std::int64_t> deployed_version;
    std::optional<time_point> deployed_not_after; // of the certificate in service
    std::optional<time_point> deployed_at;
    std::optional<std::int64_t> deploy_now_acted; // the agent's deploy_now value last acted on
    std::optional<std::int64_t> failed_version;   // the staged version whose last apply failed
    std::optional<time_point> failed_at;
    std::optional<std::int64_t> refused_version; // the last version refused (reported once)
    // What is in service, for the drift check: its SHA-256 and the endpoint that serves it (the
    // target's "verify" options); the drift last reported ("" when none).
    std::string deployed_sha256;
    nlohmann::json verify;
    std::string drift;
    std::optional<time_point> drift_checked_at;
    std::string last_status;  // "staged", "deployed", "failed", "refused"
    std::string last_message; // why, in words (ours, or escaped)
};

struct agent_state
{
    std::vector<opening> openings; // as last received
    std::optional<std::int64_t> deploy_now;
    std::optional<time_point> last_contact;
    std::vector<assignment_state> assignments;
    std::vector<report> outbox; // reports not yet accepted by the server, oldest first
};

inline constexpr std::size_t max_outbox_reports = 100;

[[nodiscard]] std::filesystem::path identity_file(const std::filesystem::path& dir);
[[nodiscard]] std::filesystem::path state_file(const std::filesystem::path& dir);

[[nodiscard]] boost::system::result<agent_identity>
load_identity(const std::filesystem::path& dir, std::string* problem = nullptr);
// Creates the directory (0700) when missing. Refuses (file_exists) to replace an identity.
[[nodiscard]] boost::system::error_code save_identity(
    const std::filesystem::path& dir, const agent_identity& identity, std::string* problem = nullptr
);

// A missing state.json is an empty state (a freshly enrolled agent).
[[nodiscard]] boost::system::result<agent_state>
load_state(const std::filesystem::path& dir, std::string* problem = nullptr);
[[nodiscard]] boost::system::error_code save_state(
    const std::filesystem::path& dir, const agent_state& state, std::string* problem = nullptr
);

} // namespace certfleet::deploy
