// The route table of the REST API: every route's method, path, scope, parameters and schemas,
// bound to its handler (rest_handlers.hpp). The OpenAPI document is generated from this table.
#include "app/rest_api.hpp"

#include "app/rest_handlers.hpp"
#include "deploy/agent_protocol.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;
using namespace rest;

namespace {

using sync_handler = response (*)(rest_context&, const api_call&);

asio::awaitable<response> run_sync(sync_handler handler, rest_context* cx, api_call call)
{
    auto r = handler(*cx, call);
    co_return r;
}

api_route route(
    http::verb method,
    std::string path,
    std::optional<api_scope> scope,
    std::string operation_id,
    std::string summary,
    api_handler handler
)
{
    api_route r;
    r.method = method;
    r.path = std::move(path);
    r.scope = scope;
    r.operation_id = std::move(operation_id);
    r.summary = std::move(summary);
    r.handler = std::move(handler);
    return r;
}

api_handler sync(rest_context& cx, sync_handler h)
{
    return [h, cx = &cx](api_call call) { return run_sync(h, cx, std::move(call)); };
}

using async_handler = asio::awaitable<response> (*)(rest_context*, api_call);

api_handler async(rest_context& cx, async_handler h)
{
    return [h, cx = &cx](api_call call) { return h(cx, std::move(call)); };
}

const api_parameter limit_parameter{
    "limit", "query", "integer", "items per page (1 to 1000, default 100)", false};
const api_parameter cursor_parameter{
    "cursor", "query", "string", "next_cursor of the previous page", false};

asio::awaitable<response> serve_document(std::shared_ptr<std::string> document)
{
    response r;
    r.body = *document;
    co_return r;
}

} // namespace

std::string_view api_version() noexcept
{
    return "1.0.0";
}

std::unique_ptr<api_router> make_rest_router(rest_context& cx)
{
    using v = http::verb;
    const auto read = api_scope::read;
    const auto renew = api_scope::renew;
    const auto admin = api_scope::admin;
    auto document = std::make_shared<std::string>();
    std::vector<api_route> routes;
    auto add = [&](api_route r, std::string request_schema, unsigned status,
                   std::string response_schema) {
        r.request_schema = std::move(request_schema);
        r.success_status = status;
        r.response_schema = std::move(response_schema);
        routes.push_back(std::move(r));
        return &routes.back();
    };
    add(route(
            v::get, "/healthz", std::nullopt, "health", "Liveness: the server and its store answer",
            sync(cx, health)
        ),
        "", 200, "Health");
    const auto metrics_scope = cx.settings.api.public_metrics ? std::nullopt : std::optional(read);
    add(route(
            v::get, "/metrics", metrics_scope, "metrics", "Prometheus metrics", sync(cx, metrics)
        ),
        "", 200, "")
        ->response_type = "text/plain";
    add(route(
            v::get, "/api/v1/openapi.json", std::nullopt, "openapi", "This document",
            [document](api_call) { return serve_document(document); }
        ),
        "", 200, "");
    add(route(
            v::get, "/api/v1/session", read, "getSession",
            "The calling token: its name and scope, and the server's time", sync(cx, session)
        ),
        "", 200, "Session");
    add(route(
            v::get, "/api/v1/status", read, "getStatus",
            "Certificates by state, next renewals, failures, alerts", sync(cx, status)
        ),
        "", 200, "Status");

    add(route(
            v::get, "/api/v1/domains", read, "listDomains",
            "Managed domains and their CNAME targets", sync(cx, list_domains)
        ),
        "", 200, "DomainPage")
        ->parameters = {limit_parameter, cursor_parameter};
    add(route(
            v::post, "/api/v1/domains", admin, "addDomain",
            "Manage a name: allocate its stable label", sync(cx, add_domain)
        ),
        "DomainCreate", 201, "Domain");
    add(route(
            v::get, "/api/v1/domains/{name}", read, "getDomain", "One managed domain",
            sync(cx, get_domain)
        ),
        "", 200, "Domain");
    add(route(
            v::delete_, "/api/v1/domains/{name}", admin, "removeDomain", "Stop managing a name",
            sync(cx, remove_domain)
        ),
        "", 200, "Removed");
    add(route(
            v::post, "/api/v1/domain-checks", renew, "checkDomains",
            "Preflight names: their CNAME and CAA records", async(cx, check_domains)
        ),
        "CheckRequest", 200, "CheckReport");

    add(route(
            v::get, "/api/v1/certificates", read, "listCertificates",
            "Certificates with their newest version", sync(cx, list_certificates)
        ),
        "", 200, "CertificatePage")
        ->parameters = {limit_parameter, cursor_parameter};
    add(route(
            v::post, "/api/v1/certificates", admin, "addCertificate",
            "Add a certificate: it is issued and kept renewed", sync(cx, add_certificate)
        ),
        "CertificateCreate", 201, "CertificateCreated");
    const api_parameter id_parameter{"id", "path", "integer", "certificate id", true};
    add(route(
            v::get, "/api/v1/certificates/{id}", read, "getCertificate",
            "One certificate: versions, order in flight, events", sync(cx, get_certificate)
        ),
        "", 200, "CertificateDetail")
        ->parameters = {id_parameter};
    add(route(
            v::get, "/api/v1/certificates/{id}/versions", read, "listVersions",
            "Every issued version", sync(cx, certificate_versions)
        ),
        "", 200, "VersionList")
        ->parameters = {id_parameter};
    auto* chain =
        add(route(
                v::get, "/api/v1/certificates/{id}/chain", read, "getChain",
                "The newest chain, leaf first (never the key)", sync(cx, certificate_chain)
            ),
            "", 200, "");
    chain->parameters = {id_parameter};
    chain->response_type = "application/pem-certificate-chain";
    add(route(
            v::get, "/api/v1/certificates/{id}/orders", read, "listCertificateOrders",
            "Every ACME order of the certificate", sync(cx, certificate_orders)
        ),
        "", 200, "OrderList")
        ->parameters = {id_parameter};
    add(route(
            v::post, "/api/v1/certificates/{id}/renew", renew, "renewCertificate",
            "Renew now, whatever the plan", async(cx, renew_certificate)
        ),
        "", 200, "RenewalReport")
        ->parameters = {id_parameter};
    add(route(
            v::post, "/api/v1/certificates/{id}/revoke", admin, "revokeCertificate",
            "Revoke the newest version at the CA; never renew it again",
            async(cx, revoke_certificate)
        ),
        "Revocation", 200, "Revoked")
        ->parameters = {id_parameter};
    add(route(
            v::get, "/api/v1/orders", read, "listOrders", "Orders in flight", sync(cx, list_orders)
        ),
        "", 200, "OrderList");
    add(route(
            v::post, "/api/v1/renewals", renew, "renew",
            "The renewal sweep: renew what is due (or all, or by name or id)", async(cx, renewals)
        ),
        "RenewalRequest", 200, "RenewalReport");
    add(route(
            v::get, "/api/v1/events", read, "listEvents", "The event log, newest last",
            sync(cx, list_events)
        ),
        "", 200, "EventPage")
        ->parameters = {
        limit_parameter,
        cursor_parameter,
        {"certificate", "query", "integer", "only this certificate's events", false},
        {"since", "query", "string", "only events at or after this RFC 3339 time", false}};

    add(route(
            v::get, "/api/v1/tokens", admin, "listTokens", "API tokens (never their secrets)",
            sync(cx, list_tokens)
        ),
        "", 200, "TokenList");
    add(route(
            v::post, "/api/v1/tokens", admin, "createToken",
            "Make a token; its secret is shown once", sync(cx, create_token)
        ),
        "TokenCreate", 201, "TokenCreated");
    add(route(
            v::delete_, "/api/v1/tokens/{name}", admin, "revokeToken", "Revoke a token",
            sync(cx, revoke_token)
        ),
        "", 200, "Removed");

    add(route(
            v::get, "/api/v1/acmedns/registrations", admin, "listAcmednsRegistrations",
            "acme-dns registrations and their live TXT values (never their keys)",
            sync(cx, list_acmedns)
        ),
        "", 200, "AcmednsRegistrationList");
    add(route(
            v::get, "/api/v1/acmedns/registrations/{username}", admin, "getAcmednsRegistration",
            "One acme-dns registration", sync(cx, get_acmedns)
        ),
        "", 200, "AcmednsRegistration");
    add(route(
            v::delete_, "/api/v1/acmedns/registrations/{username}", admin,
            "deleteAcmednsRegistration", "Delete an acme-dns registration and its values",
            sync(cx, delete_acmedns)
        ),
        "", 200, "Removed");

    add(route(
            v::post, std::string(deploy::enroll_path), std::nullopt, "agentEnroll",
            "An agent enrolls with a join token (one-time)", sync(cx, agent_enroll)
        ),
        "AgentEnroll", 201, "AgentEnrolled");
    add(route(
            v::post, std::string(deploy::poll_path), std::nullopt, "agentPoll",
            "An agent's long-poll (a request signed by the agent's key)", async(cx, agent_poll)
        ),
        "AgentSigned", 200, "AgentPollAnswer");
    add(route(
            v::post, std::string(deploy::report_path), std::nullopt, "agentReport",
            "An agent reports a result (signed by the agent's key)", async(cx, agent_report)
        ),
        "AgentSigned", 204, "");
    add(route(
            v::post, "/api/v1/agent-tokens", admin, "createAgentToken",
            "A one-time join token for a new agent; shown once", sync(cx, create_agent_token)
        ),
        "AgentTokenCreate", 201, "AgentTokenCreated");
    add(route(
            v::get, "/api/v1/agents", read, "listAgents",
            "Agents with their assignments: deployed, staged, next window, last result",
            sync(cx, list_agents)
        ),
        "", 200, "AgentList");
    const api_parameter agent_parameter{"name", "path", "string", "agent name", true};
    add(route(v::get, "/api/v1/agents/{name}", read, "getAgent", "One agent", sync(cx, get_agent)),
        "", 200, "Agent")
        ->parameters = {agent_parameter};
    add(route(
            v::post, "/api/v1/agents/{name}/{action}", admin, "agentAction",
            "disable, enable, or deploy-now (apply staged bundles past the window)",
            sync(cx, agent_action)
        ),
        "", 200, "Agent")
        ->parameters = {
        agent_parameter, {"action", "path", "string", "disable, enable or deploy-now", true}};
    add(route(
            v::delete_, "/api/v1/agents/{name}", admin, "deleteAgent",
            "Delete an agent and its assignments", sync(cx, delete_agent)
        ),
        "", 200, "Removed")
        ->parameters = {agent_parameter};
    add(route(
            v::post, "/api/v1/certificates/{id}/assignments", admin, "assignCertificate",
            "Deploy a certificate to an agent's target", sync(cx, assign_certificate)
        ),
        "AssignmentCreate", 201, "Assignment")
        ->parameters = {id_parameter};
    add(route(
            v::get, "/api/v1/certificates/{id}/assignments", read, "listAssignments",
            "Where the certificate is deployed", sync(cx, certificate_assignments)
        ),
        "", 200, "AssignmentList")
        ->parameters = {id_parameter};
    add(route(
            v::delete_, "/api/v1/assignments/{id}", admin, "removeAssignment",
            "Stop deploying a certificate to an agent's target", sync(cx, remove_assignment)
        ),
        "", 200, "Removed")
        ->parameters = {{"id", "path", "integer", "assignment id", true}};

    for (auto& extra : cx.hooks.extra_routes) {
        routes.push_back(std::move(extra));
    }
    cx.hooks.extra_routes.clear();

    auth_throttle_options throttle;
    throttle.burst = cx.settings.api.failed_auth_burst;
    throttle.refill = std::chrono::milliseconds(60'000 / cx.settings.api.failed_auth_per_minute);
    auto router = std::make_unique<api_router>(
        std::move(routes),
        [&cx] {
            auto tokens = cx.st.store->list_api_tokens();
            return tokens ? std::move(*tokens) : std::vector<core::api_token>{};
        },
        throttle
    );
    auto schemas = rest::schemas();
    schemas.update(rest::deploy_schemas());
    schemas.update(cx.hooks.extra_schemas);
    *document = router->openapi(schemas, api_version()).dump();
    return router;
}

} // namespace certfleet::app
