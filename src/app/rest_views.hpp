#pragma once
// The JSON shapes of the REST API's resources (internal to the REST routes) and the request
// parsing they share: ids, pagination cursors, bodies.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/api_router.hpp"
#include "app/event_log.hpp"
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

// A positive integer id; nullopt for any other text.
[[nodiscard]] std::optional<core::row_id> parse_id(std::string_view text);
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

// The page's cursor as the id to continue after: 0 for the first page, nullopt when it is not
// one this server gave.
[[nodiscard]] std::optional<core::row_id> cursor_id(const page_request& p);

// {"items": [...], "next_cursor": ...} of rows fetched with one more than `limit`: the extra row
// tells that a next page exists, which starts after the last item's "id".
template <class Row, class View>
[[nodiscard]] nlohmann::json id_page(const std::vector<Row>& rows, std::size_t limit, View view)
{
    nlohmann::json items = nlohmann::json::array();
    std::optional<std::string> next;
    for (const auto& row : rows) {
        if (items.size() == limit) {
            next = std::to_string(items.back()["id"].template get<core::row_id>());
            break;
        }
        items.push_back(view(row));
    }
    return page(std::move(items), next);
}

[[nodiscard]] net::server_response store_failure(const boost::system::error_code& ec);
[[nodiscard]] net::server_response bad_request(std::string_view message);

// {"items": [...]} of the rows, each through `view`; the store's failure when there are none.
template <class Row, class View>
[[nodiscard]] net::server_response
items_response(const boost::system::result<std::vector<Row>>& rows, View view)
{
    if (!rows) {
        return store_failure(rows.error());
    }
    nlohmann::json items = nlohmann::json::array();
    for (const auto& row : *rows) {
        items.push_back(view(row));
    }
    return json_response({{"items", items}});
}

} // namespace certfleet::app::rest
