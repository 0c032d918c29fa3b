#include "deploy/agent_protocol.hpp"

#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

constexpr std::string_view join_token_prefix = "cfj1.";
constexpr std::size_t max_join_token_bytes = 4096;

std::int64_t unix_seconds(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_unix(std::int64_t s)
{
    return std::chrono::system_clock::time_point{std::chrono::seconds{s}};
}

boost::system::error_code protocol_error()
{
    return make_error_code(errc::protocol_error);
}

bool is_lower_hex(std::string_view s, std::size_t size)
{
    if (s.size() != size) {
        return false;
    }
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

// Reads an optional integer member: absent and null are none; another type is an error.
bool read_optional_int(const nlohmann::json& j, const char* key, std::optional<std::int64_t>& out)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        out.reset();
        return true;
    }
    if (!it->is_number_integer()) {
        return false;
    }
    out = it->get<std::int64_t>();
    return true;
}

bool read_int(const nlohmann::json& j, const char* key, std::int64_t& out)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) {
        return false;
    }
    out = it->get<std::int64_t>();
    return true;
}

bool read_string(const nlohmann::json& j, const char* key, std::string& out)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        return false;
    }
    out = it->get<std::string>();
    return true;
}

nlohmann::json optional_json(const std::optional<std::int64_t>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

} // namespace

std::string encode_join_token(const join_token& token)
{
    const nlohmann::json j{
        {"url", token.server_url},        {"agent", token.agent},
        {"secret", token.secret},         {"signing_key_sha256", token.signing_key_sha256},
        {"tls_sha256", token.tls_sha256}, {"expires", token.expires},
    };
    return std::string(join_token_prefix) + core::base64url_encode(j.dump());
}

boost::system::result<join_token> decode_join_token(std::string_view text, std::string* problem)
{
    auto fail = [&](std::string why) -> boost::system::result<join_token> {
        if (problem != nullptr) {
            *problem = std::move(why);
        }
        return protocol_error();
    };
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    if (text.size() > max_join_token_bytes || !text.starts_with(join_token_prefix)) {
        return fail("it does not start with \"cfj1.\": copy the whole token that "
                    "`certfleet agent token create` printed");
    }
    const auto decoded = core::base64url_decode(text.substr(join_token_prefix.size()));
    if (!decoded) {
        return fail("it is not valid base64url: the token was cut or changed in transit");
    }
    const auto j = nlohmann::json::parse(*decoded, nullptr, false);
    join_token token;
    if (j.is_discarded() || !j.is_object() || !read_string(j, "url", token.server_url) ||
        !read_string(j, "agent", token.agent) || !read_string(j, "secret", token.secret) ||
        !read_string(j, "signing_key_sha256", token.signing_key_sha256) ||
        !read_string(j, "tls_sha256", token.tls_sha256) || !read_int(j, "expires", token.expires)) {
        return fail("a field is missing or has the wrong type");
    }
    if (!is_lower_hex(token.signing_key_sha256, 64) || !is_lower_hex(token.tls_sha256, 64)) {
        return fail("its fingerprints are not SHA-256 hex values");
    }
    if (!token.server_url.starts_with("https://") || token.agent.empty() || token.secret.empty()) {
        return fail("its server URL is not https, or the agent name or secret is empty");
    }
    return token;
}

boost::system::result<std::string> sign_request(
    const crypto_port& crypto,
    std::string_view agent,
    std::string_view private_scalar,
    std::string_view path,
    const nlohmann::json& payload,
    std::chrono::system_clock::time_point now
)
{
    auto nonce = crypto.random_bytes(16);
    if (!nonce) {
        return nonce.error();
    }
    const nlohmann::json header{
        {"alg", "ES256"},
        {"kid", std::string(agent)},
        {"nonce", core::base64url_encode(*nonce)},
        {"iat", unix_seconds(now)},
        {"url", std::string(path)},
    };
    const std::string protected64 = core::base64url_encode(header.dump());
    const std::string payload64 = core::base64url_encode(payload.dump());
    auto signature = crypto.sign_es256(private_scalar, protected64 + "." + payload64);
    if (!signature) {
        return signature.error();
    }
    return nlohmann::json{
        {"protected", protected64},
        {"payload", payload64},
        {"signature", core::base64url_encode(*signature)},
    }
        .dump();
}

boost::system::result<signed_request> parse_signed_request(std::string_view body)
{
    const auto j = nlohmann::json::parse(body, nullptr, false);
    std::string protected64;
    std::string payload64;
    std::string signature64;
    if (j.is_discarded() || !j.is_object() || !read_string(j, "protected", protected64) ||
        !read_string(j, "payload", payload64) || !read_string(j, "signature", signature64)) {
        return protocol_error();
    }
    const auto header_text = core::base64url_decode(protected64);
    const auto payload_text = core::base64url_decode(payload64);
    const auto signature = core::base64url_decode(signature64);
    if (!header_text || !payload_text || !signature || signature->size() != 64) {
        return protocol_error();
    }
    const auto header = nlohmann::json::parse(*header_text, nullptr, false);
    signed_request out;
    std::string alg;
    if (header.is_discarded() || !header.is_object() || !read_string(header, "alg", alg) ||
        alg != "ES256" || !read_string(header, "kid", out.agent) ||
        !read_string(header, "nonce", out.nonce) || !read_int(header, "iat", out.issued_at) ||
        !read_string(header, "url", out.path) || out.nonce.size() < 16 || out.nonce.size() > 64) {
        return protocol_error();
    }
    out.payload = nlohmann::json::parse(*payload_text, nullptr, false);
    if (out.payload.is_discarded() || !out.payload.is_object()) {
        return protocol_error();
    }
    out.signing_input = protected64 + "." + payload64;
    out.signature = *signature;
    return out;
}

bool verify_signed_request(
    const crypto_port& crypto,
    const signed_request& request,
    std::string_view public_point,
    std::string_view expected_path,
    std::chrono::system_clock::time_point now
)
{
    const auto skew = std::chrono::abs(now - from_unix(request.issued_at));
    return request.path == expected_path && skew <= max_request_skew &&
           crypto.verify_es256(public_point, request.signing_input, request.signature);
}

bool replay_guard::first_use(
    std::string_view agent, std::string_view nonce, std::chrono::system_clock::time_point now
)
{
    std::string key;
    key.reserve(agent.size() + 1 + nonce.size());
    key.append(agent).append(1, '\n').append(nonce);
    const std::lock_guard lock(mutex_);
    while (!order_.empty() && order_.front().seen + 2 * max_request_skew < now) {
        keys_.erase(order_.front().key);
        order_.pop_front();
    }
    if (keys_.size() >= max_entries_ || keys_.contains(key)) {
        return false;
    }
    keys_.insert(key);
    order_.push_back({now, std::move(key)});
    return true;
}

nlohmann::json to_json(const poll_request& m)
{
    auto assignments = nlohmann::json::array();
    for (const auto& a : m.assignments) {
        assignments.push_back(
            {{"id", a.id},
             {"staged", optional_json(a.staged)},
             {"deployed", optional_json(a.deployed)}}
        );
    }
    return {
        {"wait_seconds", m.wait.count()},
        {"version", m.version},
        {"deploy_now", m.deploy_now},
        {"assignments", assignments},
    };
}

nlohmann::json to_json(const poll_response& m)
{
    auto openings = nlohmann::json::array();
    for (const auto& o : m.openings) {
        openings.push_back({{"start", unix_seconds(o.start)}, {"end", unix_seconds(o.end)}});
    }
    auto assignments = nlohmann::json::array();
    for (const auto& a : m.assignments) {
        assignments.push_back(
            {{"id", a.id},
             {"certificate", a.certificate},
             {"target", a.target},
             {"newest_version", optional_json(a.newest_version)}}
        );
    }
    return {
        {"openings", openings},
        {"deploy_now", m.deploy_now},
        {"assignments", assignments},
        {"bundles", m.bundles},
    };
}

nlohmann::json to_json(const report& m)
{
    return {
        {"assignment", m.assignment}, {"version", m.version}, {"status", m.status},
        {"result", m.result},         {"drift", m.drift},
    };
}

boost::system::result<poll_request> poll_request_from_json(const nlohmann::json& j)
{
    poll_request out;
    std::int64_t wait = 0;
    const auto list = j.is_object() ? j.find("assignments") : j.end();
    if (!j.is_object() || !read_int(j, "wait_seconds", wait) || wait < 0 ||
        !read_string(j, "version", out.version) || list == j.end() || !list->is_array()) {
        return protocol_error();
    }
    out.wait = std::min(std::chrono::seconds{wait}, max_poll_wait);
    if (j.contains("deploy_now") && !read_int(j, "deploy_now", out.deploy_now)) {
        return protocol_error();
    }
    for (const auto& item : *list) {
        known_assignment a;
        if (!item.is_object() || !read_int(item, "id", a.id) ||
            !read_optional_int(item, "staged", a.staged) ||
            !read_optional_int(item, "deployed", a.deployed)) {
            return protocol_error();
        }
        out.assignments.push_back(a);
    }
    return out;
}

boost::system::result<poll_response> poll_response_from_json(const nlohmann::json& j)
{
    poll_response out;
    if (!j.is_object() || !read_int(j, "deploy_now", out.deploy_now)) {
        return protocol_error();
    }
    const auto openings = j.find("openings");
    const auto assignments = j.find("assignments");
    const auto bundles = j.find("bundles");
    if (openings == j.end() || !openings->is_array() || assignments == j.end() ||
        !assignments->is_array() || bundles == j.end() || !bundles->is_array()) {
        return protocol_error();
    }
    for (const auto& o : *openings) {
        std::int64_t start = 0;
        std::int64_t end = 0;
        if (!o.is_object() || !read_int(o, "start", start) || !read_int(o, "end", end) ||
            end <= start) {
            return protocol_error();
        }
        out.openings.push_back({from_unix(start), from_unix(end)});
    }
    for (const auto& a : *assignments) {
        assignment_summary s;
        if (!a.is_object() || !read_int(a, "id", s.id) ||
            !read_int(a, "certificate", s.certificate) || !read_string(a, "target", s.target) ||
            !read_optional_int(a, "newest_version", s.newest_version)) {
            return protocol_error();
        }
        out.assignments.push_back(std::move(s));
    }
    for (const auto& b : *bundles) {
        if (!b.is_string()) {
            return protocol_error();
        }
        out.bundles.push_back(b.get<std::string>());
    }
    return out;
}

boost::system::result<report> report_from_json(const nlohmann::json& j)
{
    report out;
    if (!j.is_object() || !read_int(j, "assignment", out.assignment) ||
        !read_int(j, "version", out.version) || !read_string(j, "status", out.status)) {
        return protocol_error();
    }
    if (out.status != "staged" && out.status != "deployed" && out.status != "failed" &&
        out.status != "refused") {
        return protocol_error();
    }
    if (const auto r = j.find("result"); r != j.end() && r->is_object()) {
        out.result = *r;
    }
    if (const auto d = j.find("drift"); d != j.end() && d->is_string()) {
        out.drift = d->get<std::string>();
    }
    return out;
}

} // namespace certfleet::deploy
