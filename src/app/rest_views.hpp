#pragma once
// The JSON shapes of the REST API's resources (internal to the REST routes) and the request
// parsing they share: ids, pagination cursors, bodies.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/api_router.hpp"
#include "app/issuer.hpp"
#include "app/rest_api.hpp"
#include "app/sweep.hpp"
#include "core/store.hpp"
#include "dns/acmedns_accounts.hpp"

namespace certfleet::app::rest {

[[nodiscard]] nlohmann::json domain_json(const server_settings& s, const core::domain_record& d);
[[nodiscard]] nlohmann::json certificate_json(
    const core::certificate_record& c, const std::optional<core::certificate_version>& newest
);
[[nodiscard]] nlohmann::json version_json(const core::certificate_version& v);
[[nodiscard]] nlohmann::json order_json(const core::order_record& o);
[[nodiscard]] nlohmann::json event_json(const core::event_record& e);
[[nodiscard]] nlohmann::json token_json(const core::api_token& t);
[[nodiscard]] nlohmann::json planned_json(const planned_renewal& p);
[[nodiscard]] nlohmann::json acmedns_account_json(const dns::acmedns_account& a);

// The component schemas of the OpenAPI document.
[[nodiscard]] nlohmann::json schemas();

// A request body parsed as a JSON object, or the 400 to answer.
struct parsed_body
{
    nlohmann::json value;
    std::optional<net::server_response> error;
};
[[nodiscard]] parsed_body object_body(const api_call& call, bool optional = false);

// {id} as a positive integer, or the 400 to answer.
[[nodiscard]] std::optional<core::row_id> id_parameter(const api_call& call, std::string_view name);

struct page_request
{
    std::size_t limit = 100;
    std::string cursor; // empty: from the start
};
inline constexpr std::size_t max_page = 1000;
// ?limit= and ?cursor=; nullopt (after filling `error`) when malformed.
[[nodiscard]] std::optional<page_request>
page_parameters(const api_call& call, net::server_response& error);

// {"items": [...], "next_cursor": "..." | null}
[[nodiscard]] nlohmann::json page(nlohmann::json items, const std::optional<std::string>& next);

[[nodiscard]] net::server_response store_failure(const boost::system::error_code& ec);
[[nodiscard]] net::server_response bad_request(std::string_view message);

} // namespace certfleet::app::rest
