#pragma once
// The agent protocol (DESIGN section 6): how certfleet-agent enrolls, long-polls for bundles
// and reports results. Pure codecs and checks; the transports live elsewhere (the server's
// routes in app/rest_agents.cpp, the agent's HTTPS port in deploy/agent_transport.hpp).
//
// Enrollment. An operator makes a join token (`certfleet agent token create`): the server URL,
// the agent's name, a one-time secret with an expiry, and the SHA-256 of the server's
// bundle-signing key (SPKI DER) and of its TLS certificate (DER). The agent pins both: it talks
// only to a server presenting that TLS certificate, and it accepts the signing key the server
// sends back only when its hash is the pinned one. No trust on first use.
//   POST /api/v1/agent/enroll   {"token","public_key","version","hostname"}
//     201 {"agent","signing_key"}     (public keys: base64url of the 65-byte P-256 point)
//
// Every later request is signed by the agent's key: the body is a flattened JWS (RFC 7515
// 7.2.2), ES256, protected header {"alg":"ES256","kid":<agent>,"nonce":<random>,"iat":<unix
// seconds>,"url":<request path>}. The server refuses a signature by another key, a path other
// than the one signed, an `iat` more than max_request_skew away from its clock, and a nonce it
// has seen within that time (replay_guard).
//   POST /api/v1/agent/poll {"wait_seconds","version","assignments":[{"id","staged","deployed"}]}
//     200 {"openings":[{"start","end"}],"deploy_now","assignments":[{"id","certificate","target",
//          "newest_version"}],"bundles":[<bundle JWS text>]}
//     The server answers at once when it has a bundle newer than what the agent staged or
//     deployed, or when deploy_now or the assignments changed; otherwise it holds the request up
//     to wait_seconds (long-poll) and answers with the same shape and no bundles.
//   POST /api/v1/agent/reports  {"assignment","version","status","result","drift"}
//     204. status: "staged", "deployed", "failed", "refused" (the bundle did not verify).

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "deploy/crypto_port.hpp"
#include "deploy/window.hpp"

namespace certfleet::deploy {

inline constexpr std::string_view enroll_path = "/api/v1/agent/enroll";
inline constexpr std::string_view poll_path = "/api/v1/agent/poll";
inline constexpr std::string_view report_path = "/api/v1/agent/reports";
inline constexpr std::chrono::seconds max_request_skew{300};
inline constexpr std::chrono::seconds max_poll_wait{55};

// ---- join tokens: "cfj1." + base64url(JSON)
struct join_token
{
    std::string server_url;         // "https://certfleet.example.net:8443"
    std::string agent;              // the name the agent will have
    std::string secret;             // one-time; the server keeps only its SHA-256
    std::string signing_key_sha256; // lower-case hex of SHA-256(SPKI DER)
    std::string tls_sha256;         // lower-case hex of SHA-256(the server's leaf DER)
    std::int64_t expires = 0;       // unix seconds
};

[[nodiscard]] std::string encode_join_token(const join_token& token);
// Errors: protocol_error (not a join token; the message in `problem` says what is wrong).
[[nodiscard]] boost::system::result<join_token>
decode_join_token(std::string_view text, std::string* problem = nullptr);

// ---- signed requests
[[nodiscard]] boost::system::result<std::string> sign_request(
    const crypto_port& crypto,
    std::string_view agent,
    std::string_view private_scalar,
    std::string_view path,
    const nlohmann::json& payload,
    std::chrono::system_clock::time_point now
);

struct signed_request
{
    std::string agent;
    std::string nonce;
    std::int64_t issued_at = 0; // unix seconds
    std::string path;
    nlohmann::json payload;
    std::string signing_input; // what the signature covers
    std::string signature;     // 64 bytes R || S
};

// Parses without verifying (the agent's name selects the key). Errors: protocol_error.
[[nodiscard]] boost::system::result<signed_request> parse_signed_request(std::string_view body);

// Signature by `public_point`, for `expected_path`, within max_request_skew of `now`.
[[nodiscard]] bool verify_signed_request(
    const crypto_port& crypto,
    const signed_request& request,
    std::string_view public_point,
    std::string_view expected_path,
    std::chrono::system_clock::time_point now
);

// Remembers the nonces of the last max_request_skew (twice over, so a nonce cannot come back
// after being forgotten while its iat is still accepted). Thread-safe.
class replay_guard
{
public:
    explicit replay_guard(std::size_t max_entries = 1'000'000) : max_entries_(max_entries) {}
    // True the first time (agent, nonce) is seen; false for a replay or when full.
    [[nodiscard]] bool first_use(
        std::string_view agent, std::string_view nonce, std::chrono::system_clock::time_point now
    );

private:
    struct entry
    {
        std::chrono::system_clock::time_point seen;
        std::string key;
    };
    std::mutex mutex_;
    std::deque<entry> order_;
    std::unordered_set<std::string> keys_;
    std::size_t max_entries_;
};

// ---- messages
struct known_assignment
{
    std::int64_t id = 0;
    std::optional<std::int64_t> staged;
    std::optional<std::int64_t> deployed;
};

struct poll_request
{
    std::chrono::seconds wait{25};
    std::string version;         // the agent's program version
    std::int64_t deploy_now = 0; // the last "deploy now" value the agent acted on
    std::vector<known_assignment> assignments;
};

struct assignment_summary
{
    std::int64_t id = 0;
    std::int64_t certificate = 0;
    std::string target;
    std::optional<std::int64_t> newest_version;
};

struct poll_response
{
    std::vector<opening> openings; // empty: no window, apply at once
    std::int64_t deploy_now = 0;
    std::vector<assignment_summary> assignments;
    std::vector<std::string> bundles;
};

struct report
{
    std::int64_t assignment = 0;
    std::int64_t version = 0;
    std::string status; // "staged", "deployed", "failed", "refused"
    nlohmann::json result = nlohmann::json::object();
    std::string drift;
};

[[nodiscard]] nlohmann::json to_json(const poll_request& m);
[[nodiscard]] nlohmann::json to_json(const poll_response& m);
[[nodiscard]] nlohmann::json to_json(const report& m);
// Errors: protocol_error (wrong shape; untrusted input is never .at()-ed).
[[nodiscard]] boost::system::result<poll_request> poll_request_from_json(const nlohmann::json& j);
[[nodiscard]] boost::system::result<poll_response> poll_response_from_json(const nlohmann::json& j);
[[nodiscard]] boost::system::result<report> report_from_json(const nlohmann::json& j);

} // namespace certfleet::deploy
