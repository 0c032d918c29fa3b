// The deploy routes: the agent protocol (enroll, long-poll, reports; authenticated by the agent's
// own signatures, not by API tokens) and its administration (join tokens, agents, assignments,
// deploy now). deploy_service does the work; these turn HTTP into its calls and back.
#include "app/agent_hub.hpp"
#include "app/cli_support.hpp"
#include "app/deploy_journal.hpp"
#include "app/deploy_service.hpp"
#include "app/offload.hpp"
#include "app/openapi_schema.hpp"
#include "app/rest_handlers.hpp"
#include "core/errc.hpp"
#include "deploy/target.hpp"
#include "deploy/window.hpp"
#include "net/work_gate.hpp"

namespace certfleet::app::rest {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace {

auto now()
{
    return std::chrono::system_clock::now();
}

response refused(const deploy_refusal& r)
{
    return api_error(r.status, r.code, r.message);
}

response no_deploy()
{
    return api_error(503, "unavailable", "deploy is not available here");
}

std::string peer_text(const api_call& call)
{
    return call.request.peer.is_unspecified() ? "local" : call.request.peer.to_string();
}

json time_or_null(std::optional<std::chrono::system_clock::time_point> t)
{
    return t ? json(format_time(*t)) : json();
}

json version_or_null(std::optional<std::int64_t> v)
{
    return v ? json(*v) : json();
}

json assignment_json(const core::assignment_record& a, std::optional<std::int64_t> newest)
{
    auto options = json::parse(a.options_json, nullptr, false);
    auto result = json::parse(a.last_result_json, nullptr, false);
    const bool behind = newest && (!a.deployed_version || *a.deployed_version < *newest);
    return {
        {"id", a.id},
        {"agent_id", a.agent_id},
        {"certificate", a.certificate_id},
        {"target", a.target},
        {"options", options.is_object() ? options : json::object()},
        {"newest_version", version_or_null(newest)},
        {"staged_version", version_or_null(a.staged_version)},
        {"deployed_version", version_or_null(a.deployed_version)},
        {"pending", behind},
        {"last_status", a.last_status},
        {"last_result", result.is_object() ? result : json()},
        {"last_result_at", time_or_null(a.last_result_at)},
        {"drift", a.drift},
    };
}

json agent_json(rest_context& cx, const core::agent_record& a)
{
    json out{
        {"name", a.name},
        {"enabled", a.enabled},
        {"enrolled_at", format_time(a.enrolled_at)},
        {"last_seen_at", time_or_null(a.last_seen_at)},
        {"last_address", a.last_address},
        {"version", a.agent_version},
        {"windows", a.windows},
        {"next_window", json()},
        {"deploy_now", a.deploy_now},
        {"assignments", json::array()},
    };
    if (auto windows = deploy::parse_windows(a.windows); windows && !windows->empty()) {
        const auto next = deploy::next_openings(*windows, now(), 1);
        if (!next.empty()) {
            out["next_window"] = {
                {"start", format_time(next.front().start)}, {"end", format_time(next.front().end)}};
        }
    }
    if (auto views = cx.st.store->deployments().assignments_of_agent(a.id)) {
        for (const auto& v : *views) {
            out["assignments"].push_back(assignment_json(v.assignment, v.newest_version));
        }
    }
    return out;
}

void wake_agents(rest_context& cx)
{
    if (cx.agents != nullptr) {
        cx.agents->notify();
    }
}

std::optional<core::agent_record>
agent_named(rest_context& cx, const api_call& call, response& error)
{
    const auto& name = call.path.at("name");
    auto agent = cx.st.store->deployments().find_agent(name);
    if (!agent) {
        error =
            agent.error() == core::errc::not_found
                ? api_error(404, "not_found", "no agent named " + name + " (certfleet agent list)")
                : store_failure(agent.error());
        return std::nullopt;
    }
    return std::move(*agent);
}

} // namespace

// ---- the agent protocol

response agent_enroll(rest_context& cx, const api_call& call)
{
    if (cx.deploy == nullptr) {
        return no_deploy();
    }
    auto outcome = cx.deploy->enroll(call.request.body, peer_text(call), now());
    if (const auto* r = std::get_if<deploy_refusal>(&outcome)) {
        return refused(*r);
    }
    return json_response(std::get<json>(outcome), 201);
}

// Seals and signs the answer's bundles on the worker threads, then records the failures back on
// the store's thread.
asio::awaitable<void>
seal_bundles(rest_context* cx, const core::agent_record* agent, deploy_service::poll_answer* answer)
{
    const deploy_service* service = cx->deploy;
    auto sealed = co_await offload(cx->workers, [service, answer] {
        std::vector<boost::system::result<std::string>> out;
        out.reserve(answer->unsealed.size());
        for (const auto& b : answer->unsealed) {
            out.push_back(service->seal_bundle(b));
        }
        return out;
    });
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        if (sealed[i]) {
            answer->response.bundles.push_back(std::move(*sealed[i]));
        } else {
            const auto certificate = answer->unsealed[i].fields.certificate;
            cx->deploy->record_bundle_failure(*agent, certificate, sealed[i].error());
        }
    }
    answer->unsealed.clear();
}

// deploy_service::authenticate with the signature checked on the worker threads: thousands of
// agents report and poll again at once after a renewal.
asio::awaitable<deploy_outcome<authenticated_agent>>
authenticate_agent(rest_context* cx, const api_call* call, std::string_view path)
{
    auto claim = cx->deploy->identify(call->request.body);
    if (auto* r = std::get_if<deploy_refusal>(&claim)) {
        co_return std::move(*r);
    }
    const auto* claimed = &std::get<deploy_service::claimed_request>(claim);
    const deploy_service* service = cx->deploy;
    const auto at = now();
    const bool verified = co_await offload(cx->workers, [service, claimed, path, at] {
        return service->verify(*claimed, path, at);
    });
    if (!verified) {
        co_return deploy_service::not_verified();
    }
    auto admitted = cx->deploy->admit(
        std::move(std::get<deploy_service::claimed_request>(claim)), peer_text(*call), at
    );
    if (auto* a = std::get_if<authenticated_agent>(&admitted); a != nullptr && a->contact) {
        if (cx->journal != nullptr) {
            cx->journal->note_contact(std::move(*a->contact));
        } else {
            const auto& c = *a->contact;
            (void)cx->st.store->deployments().record_contact(
                c.agent_id, c.address, c.version, c.at
            );
        }
        a->contact.reset();
    }
    co_return admitted;
}

asio::awaitable<response> agent_poll(rest_context* cx, api_call call)
{
    if (cx->deploy == nullptr) {
        co_return no_deploy();
    }
    auto who = co_await authenticate_agent(cx, &call, deploy::poll_path);
    if (const auto* r = std::get_if<deploy_refusal>(&who)) {
        co_return refused(*r);
    }
    const auto& caller = std::get<authenticated_agent>(who);
    auto request = deploy::poll_request_from_json(caller.payload);
    if (!request) {
        co_return bad_request("the poll's payload does not follow the agent protocol");
    }
    const auto deadline = std::chrono::steady_clock::now() + request->wait;
    core::agent_record agent = caller.agent;
    for (;;) {
        const auto generation = cx->agents != nullptr ? cx->agents->generation() : 0;
        std::optional<response> answered;
        {
            // Held from gathering the bundles to the answer's text (not while waiting).
            net::work_gate::pass pass;
            if (cx->deliveries != nullptr) {
                pass = co_await cx->deliveries->enter();
            }
            auto answer = cx->deploy->answer_poll(agent, *request, now(), request->deploy_now);
            if (const auto* r = std::get_if<deploy_refusal>(&answer)) {
                co_return refused(*r);
            }
            auto& found = std::get<deploy_service::poll_answer>(answer);
            if (!found.unsealed.empty()) {
                co_await seal_bundles(cx, &agent, &found);
            }
            if (found.news || !found.response.bundles.empty() || cx->agents == nullptr ||
                std::chrono::steady_clock::now() >= deadline) {
                answered = json_response(deploy::to_json(found.response));
            }
        }
        if (answered) {
            co_return std::move(*answered);
        }
        co_await cx->agents->wait(generation, deadline);
        // Disabled or deleted while it waited: it hears so now.
        auto fresh = cx->st.store->deployments().find_agent(agent.name);
        if (!fresh || !fresh->enabled) {
            co_return api_error(403, "agent_disabled", "this agent was disabled or deleted");
        }
        agent = std::move(*fresh);
    }
}

asio::awaitable<response> agent_report(rest_context* cx, api_call call)
{
    if (cx->deploy == nullptr) {
        co_return no_deploy();
    }
    auto who = co_await authenticate_agent(cx, &call, deploy::report_path);
    if (const auto* r = std::get_if<deploy_refusal>(&who)) {
        co_return refused(*r);
    }
    const auto& caller = std::get<authenticated_agent>(who);
    auto report = deploy::report_from_json(caller.payload);
    if (!report) {
        co_return bad_request("the report does not follow the agent protocol");
    }
    auto prepared = deploy_service::prepare_report(caller.agent, *report, now());
    const auto written = cx->journal != nullptr
                             ? co_await cx->journal->record(caller.agent.id, std::move(prepared))
                             : write_report(*cx->st.store, caller.agent.id, prepared);
    if (!written) {
        co_return refused(deploy_service::report_refusal(written.error()));
    }
    response out;
    out.status = 204;
    co_return out;
}

// ---- administration

response create_agent_token(rest_context& cx, const api_call& call)
{
    if (cx.deploy == nullptr) {
        return no_deploy();
    }
    auto body = object_body(call);
    if (body.error) {
        return *body.error;
    }
    const auto& j = body.value;
    const auto name = j.value("name", json()).is_string() ? j["name"].get<std::string>() : "";
    const auto window = j.value("window", json()).is_string() ? j["window"].get<std::string>() : "";
    std::int64_t ttl = 24 * 3600;
    if (j.contains("expires_in_seconds")) {
        if (!j["expires_in_seconds"].is_number_integer() ||
            j["expires_in_seconds"].get<std::int64_t>() <= 0 ||
            j["expires_in_seconds"].get<std::int64_t>() > 30 * 24 * 3600) {
            return bad_request("expires_in_seconds: a whole number of seconds, up to 30 days");
        }
        ttl = j["expires_in_seconds"].get<std::int64_t>();
    }
    auto made = cx.deploy->create_join_token(name, window, std::chrono::seconds{ttl}, now());
    if (const auto* r = std::get_if<deploy_refusal>(&made)) {
        return refused(*r);
    }
    const auto& token = std::get<made_join_token>(made);
    return json_response(
        {{"agent", name},
         {"window", window},
         {"server", cx.deploy->server_url()},
         {"token", token.text},
         {"expires_at", format_time(token.expires_at)}},
        201
    );
}

response list_agents(rest_context& cx, const api_call&)
{
    auto agents = cx.st.store->deployments().list_agents();
    if (!agents) {
        return store_failure(agents.error());
    }
    json items = json::array();
    for (const auto& a : *agents) {
        items.push_back(agent_json(cx, a));
    }
    return json_response({{"items", items}});
}

response get_agent(rest_context& cx, const api_call& call)
{
    response error;
    auto agent = agent_named(cx, call, error);
    return agent ? json_response(agent_json(cx, *agent)) : error;
}

response agent_action(rest_context& cx, const api_call& call)
{
    response error;
    auto agent = agent_named(cx, call, error);
    if (!agent) {
        return error;
    }
    auto& deployments = cx.st.store->deployments();
    const auto& action = call.path.at("action");
    boost::system::error_code ec;
    if (action == "disable" || action == "enable") {
        if (auto r = deployments.set_agent_enabled(agent->name, action == "enable"); !r) {
            ec = r.error();
        }
    } else if (action == "deploy-now") {
        if (auto r = deployments.request_deploy_now(agent->name); !r) {
            ec = r.error();
        }
    } else {
        return api_error(404, "not_found", "agent actions: disable, enable, deploy-now");
    }
    if (ec) {
        return store_failure(ec);
    }
    record_event(
        *cx.st.store, std::nullopt, "agent_" + action,
        "agent " + agent->name + ": " + action + " by " + call.caller
    );
    wake_agents(cx);
    auto fresh = deployments.find_agent(agent->name);
    return fresh ? json_response(agent_json(cx, *fresh)) : store_failure(fresh.error());
}

response delete_agent(rest_context& cx, const api_call& call)
{
    response error;
    auto agent = agent_named(cx, call, error);
    if (!agent) {
        return error;
    }
    if (auto r = cx.st.store->deployments().remove_agent(agent->name); !r) {
        return store_failure(r.error());
    }
    record_event(
        *cx.st.store, std::nullopt, "agent_deleted",
        "agent " + agent->name + " deleted by " + call.caller
    );
    wake_agents(cx);
    return json_response({{"removed", agent->name}});
}

response assign_certificate(rest_context& cx, const api_call& call)
{
    const auto id = id_parameter(call, "id");
    if (!id) {
        return bad_request("the certificate id is a positive integer");
    }
    auto body = object_body(call);
    if (body.error) {
        return *body.error;
    }
    const auto& j = body.value;
    if (!j.value("agent", json()).is_string() || !j.value("target", json()).is_string()) {
        return bad_request("an assignment needs \"agent\" and \"target\"");
    }
    const auto options = j.value("options", json::object());
    if (!options.is_object()) {
        return bad_request("\"options\" is an object of the target's options");
    }
    const auto target = j["target"].get<std::string>();
    if (auto problem = deploy::check_target_options(target, options); !problem.empty()) {
        return api_error(422, "invalid_target_options", problem);
    }
    if (auto c = cx.st.store->get_certificate(*id); !c) {
        return c.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no certificate " + std::to_string(*id))
                   : store_failure(c.error());
    }
    auto agent = cx.st.store->deployments().find_agent(j["agent"].get<std::string>());
    if (!agent) {
        return agent.error() == core::errc::not_found
                   ? api_error(
                         404, "not_found",
                         "no agent named " + j["agent"].get<std::string>() +
                             " (certfleet agent list)"
                     )
                   : store_failure(agent.error());
    }
    core::assignment_record a;
    a.agent_id = agent->id;
    a.certificate_id = *id;
    a.target = target;
    a.options_json = options.dump();
    a.created_at = now();
    auto added = cx.st.store->deployments().add_assignment(a);
    if (!added) {
        return added.error() == core::errc::already_exists
                   ? api_error(
                         409, "already_assigned",
                         "the agent already has this certificate on this target with these options"
                     )
                   : store_failure(added.error());
    }
    a.id = *added;
    record_event(
        *cx.st.store, *id, "assigned",
        "assigned to agent " + agent->name + ", target " + target + " by " + call.caller
    );
    wake_agents(cx);
    auto newest = cx.st.store->latest_version(*id);
    std::optional<std::int64_t> newest_id;
    if (newest && *newest) {
        newest_id = (*newest)->id;
    }
    return json_response(assignment_json(a, newest_id), 201);
}

response certificate_assignments(rest_context& cx, const api_call& call)
{
    const auto id = id_parameter(call, "id");
    if (!id) {
        return bad_request("the certificate id is a positive integer");
    }
    auto newest = cx.st.store->latest_version(*id);
    std::optional<std::int64_t> newest_id;
    if (newest && *newest) {
        newest_id = (*newest)->id;
    }
    return items_response(
        cx.st.store->deployments().assignments_of_certificate(*id),
        [&](const core::assignment_record& a) { return assignment_json(a, newest_id); }
    );
}

response remove_assignment(rest_context& cx, const api_call& call)
{
    const auto id = id_parameter(call, "id");
    if (!id) {
        return bad_request("the assignment id is a positive integer");
    }
    if (auto r = cx.st.store->deployments().remove_assignment(*id); !r) {
        return r.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no assignment " + std::to_string(*id))
                   : store_failure(r.error());
    }
    wake_agents(cx);
    return json_response({{"removed", std::to_string(*id)}});
}

json deploy_schemas()
{
    using namespace schema;
    const json nullable_time = nullable("string");
    const json nullable_int = nullable("integer");
    json s;
    s["AgentTokenCreate"] = object_schema(
        {{"name", string_type}, {"window", string_type}, {"expires_in_seconds", integer_type}},
        json::array({"name"})
    );
    s["AgentTokenCreated"] = object_schema(
        {{"agent", string_type},
         {"window", string_type},
         {"server", string_type},
         {"token", string_type},
         {"expires_at", string_type}},
        json::array({"agent", "token", "expires_at"})
    );
    s["AssignmentCreate"] = object_schema(
        {{"agent", string_type}, {"target", string_type}, {"options", {{"type", "object"}}}},
        json::array({"agent", "target"})
    );
    s["Assignment"] = object_schema(
        {{"id", integer_type},
         {"agent_id", integer_type},
         {"certificate", integer_type},
         {"target", string_type},
         {"options", {{"type", "object"}}},
         {"newest_version", nullable_int},
         {"staged_version", nullable_int},
         {"deployed_version", nullable_int},
         {"pending", boolean_type},
         {"last_status", string_type},
         {"last_result", {{"type", json::array({"object", "null"})}}},
         {"last_result_at", nullable_time},
         {"drift", string_type}},
        json::array({"id", "certificate", "target", "pending", "last_status"})
    );
    s["AssignmentList"] =
        object_schema({{"items", array_of(ref("Assignment"))}}, json::array({"items"}));
    s["Agent"] = object_schema(
        {{"name", string_type},
         {"enabled", boolean_type},
         {"enrolled_at", string_type},
         {"last_seen_at", nullable_time},
         {"last_address", string_type},
         {"version", string_type},
         {"windows", string_type},
         {"next_window", {{"type", json::array({"object", "null"})}}},
         {"deploy_now", integer_type},
         {"assignments", array_of(ref("Assignment"))}},
        json::array({"name", "enabled", "assignments"})
    );
    s["AgentList"] = object_schema({{"items", array_of(ref("Agent"))}}, json::array({"items"}));
    s["AgentSigned"] = object_schema(
        {{"protected", string_type}, {"payload", string_type}, {"signature", string_type}},
        json::array({"protected", "payload", "signature"})
    );
    s["AgentEnroll"] = object_schema(
        {{"token", string_type},
         {"public_key", string_type},
         {"version", string_type},
         {"hostname", string_type}},
        json::array({"token", "public_key"})
    );
    s["AgentEnrolled"] = object_schema(
        {{"agent", string_type}, {"signing_key", string_type}},
        json::array({"agent", "signing_key"})
    );
    s["AgentPollAnswer"] = object_schema(
        {{"openings",
          array_of(object_schema(
              {{"start", integer_type}, {"end", integer_type}}, json::array({"start", "end"})
          ))},
         {"deploy_now", integer_type},
         {"assignments", {{"type", "array"}}},
         {"bundles", array_of(string_type)}},
        json::array({"openings", "deploy_now", "assignments", "bundles"})
    );
    return s;
}

} // namespace certfleet::app::rest
