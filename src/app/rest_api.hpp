#pragma once
// The REST API under /api/v1, with /healthz and /metrics: the route table (api_router.hpp) over
// the store. The server serves it over HTTPS; the local CLI runs the very same routes in-process
// (rest_client.hpp), so a command prints the same thing whether it ran here or on a server.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/api_router.hpp"
#include "app/issuer.hpp"
#include "app/settings.hpp"
#include "app/state.hpp"

namespace certfleet::net {
class work_gate;
} // namespace certfleet::net

namespace certfleet::app {

// What differs between the server and the local CLI.
struct rest_hooks
{
    // A certificate was added, changed or revoked: plan it again.
    std::function<void(core::row_id)> reschedule;
    // Runs these certificates now and resolves with their results (the server's scheduler).
    // Unset: renewals are refused here (the local CLI runs its own sweep).
    std::function<boost::asio::awaitable<std::vector<run_result>>(std::vector<core::row_id>)> renew;
    // The Prometheus exposition text; unset: /metrics answers 404.
    std::function<std::string()> metrics;
    // Extra routes served beside the API's own (the acme-dns administration, ...).
    std::vector<api_route> extra_routes;
    nlohmann::json extra_schemas = nlohmann::json::object(); // the component schemas they use
};

class deploy_service;
class agent_hub;
class deploy_journal;

struct rest_context
{
    boost::asio::any_io_executor executor;
    const server_settings& settings;
    state& st;
    rest_hooks hooks;
    deploy_service* deploy = nullptr;     // the agent protocol and deploy administration
    agent_hub* agents = nullptr;          // long-polls wait here; none: they answer at once
    boost::asio::any_io_executor workers; // CPU-bound work (sealing bundles); none: inline
    deploy_journal* journal = nullptr;    // agents' reports and contacts; none: written at once
    net::work_gate* deliveries = nullptr; // polls gathering and sealing bundles; none: no bound
};

// The router of every route; `context` must outlive it.
[[nodiscard]] std::unique_ptr<api_router> make_rest_router(rest_context& context);

// The API's version, as in the OpenAPI document.
[[nodiscard]] std::string_view api_version() noexcept;

} // namespace certfleet::app
