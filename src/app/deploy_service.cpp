#include "app/deploy_service.hpp"

#include <fstream>
#include <sstream>

#include "app/api_tokens.hpp"
#include "app/event_log.hpp"
#include "app/sealed_keys.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "deploy/bundle.hpp"
#include "deploy/openssl_crypto.hpp"
#include "deploy/target.hpp"
#include "deploy/window.hpp"

namespace certfleet::app {
namespace {

constexpr std::string_view signing_key_setting = "bundle_signing_key";
constexpr std::string_view signing_key_context = "bundle-signing-key";

deploy_refusal refusal(unsigned status, std::string code, std::string message)
{
    return {status, std::move(code), std::move(message)};
}

deploy_refusal store_refusal(const boost::system::error_code& ec)
{
    return refusal(503, "store_unavailable", "the store failed: " + ec.message());
}

std::string tls_sha256_hex(const server_settings& settings)
{
    // The certificate agents will see: the API's own file (self-signed or the operator's).
    std::ifstream in(settings.api.cert_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto chain = core::parse_pem_chain(text.str());
    if (!chain || chain->empty()) {
        return {};
    }
    return core::to_hex(chain->front().sha256_fingerprint);
}

std::string endpoint_url(const boost::asio::ip::tcp::endpoint& e)
{
    const auto address = e.address();
    std::string host = address.to_string();
    if (address.is_v6()) {
        host = "[" + host + "]";
    }
    return "https://" + host + ":" + std::to_string(e.port());
}

} // namespace

deploy_service::deploy_service(const server_settings& settings, state& st)
    : settings_(settings), st_(st), crypto_(std::make_unique<deploy::openssl_crypto>())
{}

deploy_service::~deploy_service() = default;

std::string deploy_service::server_url() const
{
    if (!settings_.api.url.empty()) {
        return settings_.api.url;
    }
    if (settings_.api.listen.empty()) {
        return {};
    }
    return endpoint_url(settings_.api.listen.front());
}

boost::system::result<const deploy::p256_key_pair*> deploy_service::signing_key()
{
    if (signing_) {
        return &*signing_;
    }
    auto& store = *st_.store;
    std::optional<deploy::p256_key_pair> made;
    // In one transaction, so two processes making it at once keep the same key.
    auto done = store.in_transaction([&]() -> core::store_result<void> {
        auto sealed = store.setting(signing_key_setting);
        if (!sealed) {
            return sealed.error();
        }
        if (*sealed) {
            auto bytes = core::base64_decode(**sealed);
            if (!bytes) {
                return bytes.error();
            }
            auto scalar = st_.vault.open(*bytes, signing_key_context);
            if (!scalar) {
                return scalar.error();
            }
            auto pair = crypto_->p256_from_scalar(scalar->view());
            if (!pair) {
                return pair.error();
            }
            made = std::move(*pair);
            return {};
        }
        auto pair = crypto_->generate_p256();
        if (!pair) {
            return pair.error();
        }
        auto sealed_now = st_.vault.seal(pair->private_scalar.view(), signing_key_context);
        if (!sealed_now) {
            return sealed_now.error();
        }
        if (auto put = store.put_setting(signing_key_setting, core::base64_encode(*sealed_now));
            !put) {
            return put.error();
        }
        made = std::move(*pair);
        return {};
    });
    if (!done) {
        return done.error();
    }
    signing_ = std::move(made);
    return &*signing_;
}

boost::system::result<std::pair<std::string, std::string>> deploy_service::signing_identity()
{
    auto key = signing_key();
    if (!key) {
        return key.error();
    }
    const std::string& point = (*key)->public_point;
    return std::pair{point, core::to_hex(deploy::p256_spki_sha256(point, *crypto_))};
}

deploy_outcome<made_join_token> deploy_service::create_join_token(
    std::string_view agent, std::string_view windows, std::chrono::seconds ttl, clock_time now
)
{
    if (agent.empty() || agent.size() > 64 ||
        agent.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
        ) != std::string_view::npos) {
        return refusal(
            422, "invalid_name",
            "an agent name is 1 to 64 letters, digits, '.', '-' or '_' (a host name fits)"
        );
    }
    std::string window_problem;
    if (!windows.empty() && !deploy::parse_windows(windows, &window_problem)) {
        return refusal(
            422, "invalid_window",
            "the window \"" + std::string(windows) + "\" is not valid: " + window_problem +
                " (example: \"Sun 02:00-04:00 Europe/Berlin\")"
        );
    }
    if (auto existing = st_.store->deployments().find_agent(agent); existing) {
        return refusal(
            409, "agent_exists",
            "an agent named \"" + std::string(agent) +
                "\" is enrolled: delete it first (certfleet agent delete) or pick another name"
        );
    }
    const std::string tls = tls_sha256_hex(settings_);
    if (tls.empty()) {
        return refusal(
            409, "no_api_certificate",
            "the API's certificate " + settings_.api.cert_file.string() +
                " cannot be read: agents pin it (run certfleet init, or set api.cert_file)"
        );
    }
    auto identity = signing_identity();
    if (!identity) {
        return store_refusal(identity.error());
    }
    auto secret = crypto_->random_bytes(32);
    if (!secret) {
        return refusal(500, "crypto_failure", "no random bytes: " + secret.error().message());
    }
    deploy::join_token token;
    token.server_url = server_url();
    token.agent = std::string(agent);
    token.secret = core::base64url_encode(*secret);
    token.signing_key_sha256 = identity->second;
    token.tls_sha256 = tls;
    const auto expires = now + ttl;
    token.expires =
        std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
    core::agent_join_token row;
    row.agent_name = token.agent;
    row.secret_sha256 = core::to_hex(core::sha256(token.secret));
    row.windows = std::string(windows);
    row.created_at = now;
    row.expires_at = expires;
    if (auto added = st_.store->deployments().add_join_token(row); !added) {
        return store_refusal(added.error());
    }
    return made_join_token{deploy::encode_join_token(token), expires};
}

deploy_outcome<nlohmann::json>
deploy_service::enroll(std::string_view body, std::string_view address, clock_time now)
{
    const auto j = nlohmann::json::parse(body, nullptr, false);
    const auto field = [&j](const char* key) -> std::string {
        const auto it = j.is_object() ? j.find(key) : j.end();
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
    };
    // The whole join token (as the agent holds it), or its secret alone.
    std::string secret = field("token");
    if (secret.starts_with("cfj1.")) {
        auto token = deploy::decode_join_token(secret);
        secret = token ? token->secret : std::string{};
    }
    const auto point = core::base64url_decode(field("public_key"));
    if (secret.empty() || !point || point->size() != 65 || (*point)[0] != '\x04') {
        return refusal(
            400, "bad_request",
            "an enrollment needs \"token\" (the join token's secret) and \"public_key\" (the "
            "agent's P-256 point, base64url)"
        );
    }
    auto identity = signing_identity();
    if (!identity) {
        return store_refusal(identity.error());
    }
    auto result = st_.store->deployments().enroll_agent(
        core::to_hex(core::sha256(secret)), *point, field("version").substr(0, 64), address, now
    );
    if (!result) {
        return store_refusal(result.error());
    }
    if (!result->refused.empty()) {
        const std::string& why = result->refused;
        const std::string what = why == "used"      ? "the join token was already used"
                                 : why == "expired" ? "the join token has expired"
                                 : why == "name taken"
                                     ? "an agent with the token's name is already enrolled"
                                     : "the join token is not known to this server";
        return refusal(
            403, "enrollment_refused",
            what + ": make a new one with `certfleet agent token create --name NAME`"
        );
    }
    record_event(
        *st_.store, std::nullopt, "agent_enrolled",
        "agent " + result->agent.name + " enrolled from " + std::string(address)
    );
    return nlohmann::json{
        {"agent", result->agent.name},
        {"signing_key", core::base64url_encode(identity->first)},
    };
}

deploy_outcome<authenticated_agent> deploy_service::authenticate(
    std::string_view body, std::string_view path, std::string_view address, clock_time now
)
{
    auto claim = identify(body);
    if (auto* r = std::get_if<deploy_refusal>(&claim)) {
        return std::move(*r);
    }
    auto& claimed = std::get<claimed_request>(claim);
    if (!verify(claimed, path, now)) {
        return not_verified();
    }
    auto admitted = admit(std::move(claimed), address, now);
    if (auto* a = std::get_if<authenticated_agent>(&admitted); a != nullptr && a->contact) {
        const auto& c = *a->contact;
        (void)st_.store->deployments().record_contact(c.agent_id, c.address, c.version, c.at);
    }
    return admitted;
}

deploy_refusal deploy_service::not_verified()
{
    return refusal(
        401, "unauthorized",
        "the request is not signed by an enrolled agent for this path, or its time is more "
        "than 5 minutes off: check the agent's clock, or enroll it again"
    );
}

deploy_outcome<deploy_service::claimed_request> deploy_service::identify(std::string_view body)
{
    auto request = deploy::parse_signed_request(body);
    if (!request) {
        return refusal(400, "bad_request", "the body is not a signed agent request (JWS, ES256)");
    }
    auto agent = st_.store->deployments().find_agent(request->agent);
    if (!agent) {
        return not_verified(); // the same words as a bad signature: names are not probed
    }
    return claimed_request{std::move(*request), std::move(*agent)};
}

bool deploy_service::verify(const claimed_request& claim, std::string_view path, clock_time now)
    const
{
    return deploy::verify_signed_request(
        *crypto_, claim.request, claim.agent.public_point, path, now
    );
}

deploy_outcome<authenticated_agent>
deploy_service::admit(claimed_request claim, std::string_view address, clock_time now)
{
    auto& agent = claim.agent;
    auto& request = claim.request;
    if (!agent.enabled) {
        return refusal(403, "agent_disabled", "this agent is disabled: an admin may enable it");
    }
    if (!replays_.first_use(request.agent, request.nonce, now)) {
        return refusal(401, "replayed", "this request was already received (a replay)");
    }
    std::string version;
    if (const auto v = request.payload.find("version");
        v != request.payload.end() && v->is_string()) {
        version = v->get<std::string>().substr(0, 64);
    }
    // Last contact to the minute: thousands of agents polling must not mean a store write each.
    const bool fresh = agent.last_seen_at && now - *agent.last_seen_at < std::chrono::minutes{1};
    std::optional<agent_contact> contact;
    if (!fresh || agent.last_address != address || agent.agent_version != version) {
        contact = agent_contact{agent.id, std::string(address), std::move(version), now};
    }
    return authenticated_agent{std::move(agent), std::move(request.payload), std::move(contact)};
}

prepared_report deploy_service::prepare_report(
    const core::agent_record& agent, const deploy::report& r, clock_time now
)
{
    prepared_report out;
    out.row.assignment_id = r.assignment;
    out.row.version = r.version;
    out.row.status = r.status;
    auto result = r.result;
    result["version"] = r.version;
    out.row.result_json = result.dump();
    out.row.drift = r.drift.substr(0, 1024);
    out.row.at = now;
    out.event_kind = "deploy_" + r.status;
    out.event_message = "agent " + agent.name + ", assignment " + std::to_string(r.assignment) +
                        ", version " + std::to_string(r.version) + ": " + r.status;
    if (const auto m = r.result.find("message"); m != r.result.end() && m->is_string()) {
        out.event_message += ": " + m->get<std::string>().substr(0, 512);
    }
    // Why it was applied then (in its window, "deploy now", or at once because the certificate
    // in service expires before the next opening): the operator reads it in the event log.
    if (const auto w = r.result.find("why"); w != r.result.end() && w->is_string()) {
        out.event_message += " (applied " + w->get<std::string>().substr(0, 256) + ")";
    }
    if (!r.drift.empty()) {
        out.event_message += "; drift: " + r.drift.substr(0, 512);
    }
    return out;
}

deploy_refusal deploy_service::report_refusal(const boost::system::error_code& ec)
{
    if (ec == core::errc::not_found) {
        return refusal(404, "not_found", "no such assignment for this agent");
    }
    return store_refusal(ec);
}

core::store_result<void>
write_report(core::store& store, core::row_id agent_id, const prepared_report& report)
{
    auto certificate = store.deployments().record_report(agent_id, report.row);
    if (!certificate) {
        return certificate.error();
    }
    core::event_record e;
    e.at = report.row.at;
    e.certificate_id = *certificate;
    e.kind = report.event_kind;
    e.message = report.event_message;
    (void)store.append_event(e); // the event tells the report; its failure does not undo it
    return {};
}

} // namespace certfleet::app
