// The agent's enrollment, loading and status (the loop is in agent.cpp).
#include "core/crypto/encoding.hpp"
#include "deploy/agent.hpp"
#include "deploy/agent_support.hpp"
#include "deploy/bundle.hpp"
#include "deploy/errc.hpp"

namespace certfleet::deploy {

namespace agent_detail {

std::string printable(std::string_view untrusted, std::size_t max)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : untrusted.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    if (untrusted.size() > max) {
        out += "...";
    }
    return out;
}

std::string server_message(std::string_view body)
{
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return {};
    }
    const auto error = j.find("error");
    if (error == j.end() || !error->is_object()) {
        return {};
    }
    const auto message = error->find("message");
    return message != error->end() && message->is_string() ? printable(message->get<std::string>())
                                                           : std::string();
}

std::string assignment_text(std::int64_t id)
{
    return "assignment " + std::to_string(id);
}

std::string ms_text(std::chrono::milliseconds d)
{
    const auto s = d.count() / 1000;
    const auto tenths = (d.count() % 1000) / 100;
    return std::to_string(s) + "." + std::to_string(tenths) + " s";
}

} // namespace agent_detail

namespace {

using agent_detail::printable;
using agent_detail::server_message;

boost::system::result<void>
fail(std::string* problem, std::string text, boost::system::error_code ec)
{
    if (problem != nullptr) {
        *problem = std::move(text);
    }
    return ec;
}

} // namespace

agent::agent(agent_ports ports, agent_options options)
    : ports_(std::move(ports)), options_(std::move(options))
{}

agent::~agent() = default;

boost::system::result<void>
agent::enroll(std::string_view token_text, std::string_view hostname, std::string* problem)
{
    std::string why;
    const auto token = decode_join_token(token_text, &why);
    if (!token) {
        return fail(problem, "the join token is not valid: " + why, token.error());
    }
    if (std::filesystem::exists(identity_file(options_.state_dir))) {
        return fail(
            problem,
            "this agent is already enrolled (" + identity_file(options_.state_dir).string() +
                " exists): remove the state directory first to enroll it again",
            make_error_code(boost::system::errc::file_exists)
        );
    }
    auto keys = ports_.crypto.generate_p256();
    if (!keys) {
        return fail(problem, "cannot make the agent's key pair", keys.error());
    }
    const nlohmann::json body{
        {"token", std::string(token_text.substr(0, token_text.find_last_not_of("\r\n ") + 1))},
        {"public_key", core::base64url_encode(keys->public_point)},
        {"version", options_.version},
        {"hostname", std::string(hostname)},
    };
    auto transport = ports_.connect(token->server_url, token->tls_sha256);
    std::string detail;
    const auto reply = transport->post(
        enroll_path, body.dump(),
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.request_timeout), &detail
    );
    if (!reply) {
        if (reply.error() == errc::pin_mismatch) {
            return fail(
                problem,
                "the server at " + token->server_url +
                    " presented a TLS certificate other than the one the join token pins: check "
                    "the URL, or ask for a new token if the server's certificate changed",
                reply.error()
            );
        }
        return fail(
            problem,
            "cannot reach " + token->server_url + ": " + detail +
                "; check the network and that the server runs, then try again",
            reply.error()
        );
    }
    if (reply->status >= 400 && reply->status < 500) {
        const auto message = server_message(reply->body);
        return fail(
            problem,
            "the server refused the enrollment: " +
                (message.empty() ? "HTTP " + std::to_string(reply->status) : message),
            make_error_code(errc::enrollment_refused)
        );
    }
    if (reply->status != 201 && reply->status != 200) {
        return fail(
            problem,
            "the server answered HTTP " + std::to_string(reply->status) + " " +
                server_message(reply->body) + ": try again later",
            make_error_code(errc::protocol_error)
        );
    }
    const auto j = nlohmann::json::parse(reply->body, nullptr, false);
    const auto name = j.is_object() ? j.find("agent") : j.end();
    const auto key = j.is_object() ? j.find("signing_key") : j.end();
    auto signing = key != j.end() && key->is_string()
                       ? core::base64url_decode(key->get<std::string>())
                       : boost::system::result<std::string>(make_error_code(errc::protocol_error));
    if (name == j.end() || !name->is_string() || name->get<std::string>().empty() || !signing ||
        signing->size() != 65) {
        return fail(
            problem,
            "the server's enrollment answer is not what this agent understands: update "
            "certfleet-agent to the server's version",
            make_error_code(errc::protocol_error)
        );
    }
    if (core::to_hex(p256_spki_sha256(*signing, ports_.crypto)) != token->signing_key_sha256) {
        return fail(
            problem,
            "the server's bundle-signing key does not match the fingerprint in the join token "
            "(nothing was saved): the server is not the one that made the token, or its key "
            "changed; ask for a new token",
            make_error_code(errc::pin_mismatch)
        );
    }
    agent_identity identity;
    identity.server_url = token->server_url;
    identity.agent = name->get<std::string>();
    identity.tls_sha256 = token->tls_sha256;
    identity.signing_public_point = std::move(*signing);
    identity.private_scalar = std::move(keys->private_scalar);
    if (const auto ec = save_identity(options_.state_dir, identity, problem)) {
        return ec;
    }
    log(log_level::info,
        "enrolled as agent " + printable(identity.agent) + " with " + identity.server_url);
    return {};
}

boost::system::result<void> agent::load(std::string* problem)
{
    if (loaded_) {
        return {};
    }
    auto identity = load_identity(options_.state_dir, problem);
    if (!identity) {
        return identity.error();
    }
    auto state = load_state(options_.state_dir, problem);
    if (!state) {
        return state.error();
    }
    auto l = std::make_unique<loaded>();
    l->transport = ports_.connect(identity->server_url, identity->tls_sha256);
    l->identity = std::move(*identity);
    l->state = std::move(*state);
    loaded_ = std::move(l);
    return {};
}

boost::system::result<agent_status> agent::status(std::string* problem) const
{
    auto identity = load_identity(options_.state_dir, problem);
    if (!identity) {
        return identity.error();
    }
    auto state = load_state(options_.state_dir, problem);
    if (!state) {
        return state.error();
    }
    const auto now = ports_.clock();
    agent_status out;
    out.agent = identity->agent;
    out.server_url = identity->server_url;
    out.last_contact = state->last_contact;
    out.window_set = !state->openings.empty();
    out.window_open = is_open(state->openings, now);
    for (const auto& o : state->openings) {
        if (o.start > now && (!out.next_opening || o.start < *out.next_opening)) {
            out.next_opening = o.start;
        }
    }
    out.unsent_reports = state->outbox.size();
    for (const auto& a : state->assignments) {
        assignment_status s;
        s.id = a.id;
        s.certificate = a.certificate;
        s.target = a.target;
        if (a.staged_version && !a.staged_bundle.empty() &&
            (!a.deployed_version || *a.staged_version > *a.deployed_version)) {
            s.staged_version = a.staged_version;
        }
        s.deployed_version = a.deployed_version;
        s.deployed_not_after = a.deployed_not_after;
        s.deployed_at = a.deployed_at;
        s.last_status = a.last_status;
        s.last_message = a.last_message;
        const auto d =
            decide_apply(a, state->openings, state->deploy_now, now, options_.failure_retry);
        s.next_step = d.trigger == apply_trigger::none ? d.why : "apply at the next poll: " + d.why;
        out.assignments.push_back(std::move(s));
    }
    return out;
}

void agent::log(log_level level, const std::string& line) const
{
    if (ports_.log) {
        ports_.log(level, line);
    }
}

} // namespace certfleet::deploy
