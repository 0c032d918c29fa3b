#pragma once
// The REST handlers (internal to the REST routes): each answers one route of rest_api.cpp's
// table. Synchronous ones read and write the store on the server's thread; the coroutines wait
// on the CA, the preflight or the scheduler.

#include <boost/asio/awaitable.hpp>

#include "app/rest_views.hpp"

namespace certfleet::app::rest {

using response = net::server_response;

// rest_admin.cpp
response health(rest_context& cx, const api_call& call);
response session(rest_context& cx, const api_call& call);
response metrics(rest_context& cx, const api_call& call);
response status(rest_context& cx, const api_call& call);
response list_tokens(rest_context& cx, const api_call& call);
response create_token(rest_context& cx, const api_call& call);
response revoke_token(rest_context& cx, const api_call& call);
response list_acmedns(rest_context& cx, const api_call& call);
response get_acmedns(rest_context& cx, const api_call& call);
response delete_acmedns(rest_context& cx, const api_call& call);

// rest_domains.cpp
response list_domains(rest_context& cx, const api_call& call);
response add_domain(rest_context& cx, const api_call& call);
response get_domain(rest_context& cx, const api_call& call);
response remove_domain(rest_context& cx, const api_call& call);
boost::asio::awaitable<response> check_domains(rest_context* cx, api_call call);

// rest_certificates.cpp
response list_certificates(rest_context& cx, const api_call& call);
response add_certificate(rest_context& cx, const api_call& call);
response get_certificate(rest_context& cx, const api_call& call);
response certificate_versions(rest_context& cx, const api_call& call);
response certificate_chain(rest_context& cx, const api_call& call);
response certificate_orders(rest_context& cx, const api_call& call);
response list_orders(rest_context& cx, const api_call& call);
response list_events(rest_context& cx, const api_call& call);
boost::asio::awaitable<response> revoke_certificate(rest_context* cx, api_call call);
boost::asio::awaitable<response> renewals(rest_context* cx, api_call call);
boost::asio::awaitable<response> renew_certificate(rest_context* cx, api_call call);

// rest_deploy.cpp
response agent_enroll(rest_context& cx, const api_call& call);
boost::asio::awaitable<response> agent_poll(rest_context* cx, api_call call);
boost::asio::awaitable<response> agent_report(rest_context* cx, api_call call);
response create_agent_token(rest_context& cx, const api_call& call);
response list_agents(rest_context& cx, const api_call& call);
response get_agent(rest_context& cx, const api_call& call);
response agent_action(rest_context& cx, const api_call& call);
response delete_agent(rest_context& cx, const api_call& call);
response assign_certificate(rest_context& cx, const api_call& call);
response certificate_assignments(rest_context& cx, const api_call& call);
response remove_assignment(rest_context& cx, const api_call& call);
[[nodiscard]] nlohmann::json deploy_schemas();

} // namespace certfleet::app::rest
