// The REST API's own administration: health, metrics, status, API tokens, acme-dns
// registrations.
#include <algorithm>
#include <limits>
#include <map>

#include "app/cli_support.hpp"
#include "app/rest_handlers.hpp"
#include "core/errc.hpp"
#include "dns/acmedns_accounts.hpp"

namespace certfleet::app::rest {
using nlohmann::json;

// ---- health, status

response health(rest_context& cx, const api_call&)
{
    // A read of the store proves the database answers.
    if (auto r = cx.st.store->setting("schema"); !r) {
        return api_error(503, "unhealthy", "the store does not answer: " + r.error().message());
    }
    return json_response({{"status", "ok"}});
}

response session(rest_context&, const api_call& call)
{
    return json_response(
        {{"name", call.caller},
         {"scope", call.scope},
         {"server_time", format_time(std::chrono::system_clock::now())},
         {"api_version", api_version()}}
    );
}

response metrics(rest_context& cx, const api_call&)
{
    if (!cx.hooks.metrics) {
        return api_error(404, "not_found", "metrics are served by certfleet serve");
    }
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = cx.hooks.metrics();
    return r;
}

response status(rest_context& cx, const api_call&)
{
    // One statement for every certificate and its newest version.
    auto all = cx.st.store->list_certificates_after(0, std::numeric_limits<std::int64_t>::max());
    if (!all) {
        return store_failure(all.error());
    }
    std::map<std::string, int> by_state;
    std::vector<const core::certificate_record*> upcoming;
    json failures = json::array();
    json alerts = json::array();
    std::optional<std::chrono::system_clock::time_point> earliest_expiry;
    for (const auto& [c, newest] : *all) {
        ++by_state[std::string(core::to_string(c.state))];
        if (c.state != core::certificate_state::revoked && c.next_attempt_at) {
            upcoming.push_back(&c);
        }
        if (!c.last_problem.empty()) {
            failures.push_back(
                {{"id", c.id},
                 {"names", c.spec.names},
                 {"state", core::to_string(c.state)},
                 {"problem", c.last_problem}}
            );
        }
        if (c.alert) {
            alerts.push_back(
                {{"id", c.id},
                 {"names", c.spec.names},
                 {"not_after", newest ? json(format_time(newest->not_after)) : json()},
                 {"message", "expires before its next renewal attempt"}}
            );
        }
        if (newest && c.state != core::certificate_state::revoked &&
            (!earliest_expiry || newest->not_after < *earliest_expiry)) {
            earliest_expiry = newest->not_after;
        }
    }
    std::sort(upcoming.begin(), upcoming.end(), [](auto* a, auto* b) {
        return *a->next_attempt_at < *b->next_attempt_at;
    });
    if (upcoming.size() > 10) {
        upcoming.resize(10);
    }
    json out{
        {"certificates", all->size()},
        {"by_state", by_state},
        {"next_renewals", json::array()},
        {"failures", failures},
        {"alerts", alerts},
        {"earliest_expiry", earliest_expiry ? json(format_time(earliest_expiry)) : json()}};
    for (const auto* c : upcoming) {
        out["next_renewals"].push_back(
            {{"id", c->id}, {"names", c->spec.names}, {"at", format_time(c->next_attempt_at)}}
        );
    }
    return json_response(out);
}

// ---- acme-dns registrations

response list_acmedns(rest_context& cx, const api_call&)
{
    return items_response(
        dns::list_acmedns_accounts(*cx.st.store, cx.settings.challenge_zone), acmedns_account_json
    );
}

response get_acmedns(rest_context& cx, const api_call& call)
{
    const auto& username = call.path.at("username");
    auto account =
        dns::describe_acmedns_account(*cx.st.store, cx.settings.challenge_zone, username);
    if (!account) {
        return account.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no acme-dns registration " + username)
                   : store_failure(account.error());
    }
    return json_response(acmedns_account_json(*account));
}

response delete_acmedns(rest_context& cx, const api_call& call)
{
    const auto& username = call.path.at("username");
    if (auto r = dns::delete_acmedns_account(*cx.st.store, username); !r) {
        return r.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no acme-dns registration " + username)
                   : store_failure(r.error());
    }
    record_event(
        *cx.st.store, std::nullopt, "acmedns_deleted",
        "acme-dns registration " + username + " deleted by " + call.caller
    );
    return json_response({{"removed", username}});
}

// ---- tokens

response list_tokens(rest_context& cx, const api_call&)
{
    return items_response(cx.st.store->list_api_tokens(), token_json);
}

response create_token(rest_context& cx, const api_call& call)
{
    auto body = object_body(call);
    if (body.error) {
        return *body.error;
    }
    const auto& b = body.value;
    if (!b.contains("name") || !b["name"].is_string() || b["name"].get<std::string>().empty() ||
        b["name"].get<std::string>().size() > 100) {
        return bad_request("\"name\" (a string of 1 to 100 characters) is required");
    }
    if (!b.contains("scope") || !b["scope"].is_string() ||
        !scope_from_string(b["scope"].get<std::string>())) {
        return bad_request("\"scope\" must be one of " + scope_names());
    }
    std::optional<std::chrono::seconds> lifetime;
    if (b.contains("expires_in_seconds")) {
        if (!b["expires_in_seconds"].is_number_integer() ||
            b["expires_in_seconds"].get<std::int64_t>() <= 0) {
            return bad_request("\"expires_in_seconds\" must be a positive integer");
        }
        lifetime = std::chrono::seconds(b["expires_in_seconds"].get<std::int64_t>());
    }
    const auto name = b["name"].get<std::string>();
    auto made = create_api_token(
        *cx.st.store, name, *scope_from_string(b["scope"].get<std::string>()),
        std::chrono::system_clock::now(), lifetime
    );
    if (!made) {
        return made.error() == core::errc::already_exists
                   ? api_error(
                         409, "already_exists",
                         "a live token is named " + name + "; revoke it or choose another name"
                     )
                   : store_failure(made.error());
    }
    record_event(
        *cx.st.store, std::nullopt, "token_created",
        "token " + name + " (" + made->record.scope + ") by " + call.caller
    );
    auto j = token_json(made->record);
    j["token"] = made->secret;
    return json_response(j, 201);
}

response revoke_token(rest_context& cx, const api_call& call)
{
    const auto& name = call.path.at("name");
    if (auto r = cx.st.store->revoke_api_token(name, std::chrono::system_clock::now()); !r) {
        return r.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no live token is named " + name)
                   : store_failure(r.error());
    }
    record_event(
        *cx.st.store, std::nullopt, "token_revoked", "token " + name + " revoked by " + call.caller
    );
    return json_response({{"removed", name}});
}

} // namespace certfleet::app::rest
