// The REST routes of certificates: their versions, chains, orders, renewals, revocation, and
// the event log.
#include <algorithm>
#include <set>
#include <variant>

#include "app/ca_session.hpp"
#include "app/cli_support.hpp"
#include "app/control.hpp"
#include "app/rest_handlers.hpp"
#include "core/challenge_name.hpp"
#include "core/errc.hpp"
#include "dns/name.hpp"

namespace certfleet::app::rest {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

response not_found_certificate(core::row_id id)
{
    return api_error(
        404, "not_found", "no certificate " + std::to_string(id) + " (see certfleet cert list)"
    );
}

// The certificate named by {id}, or the response to give instead.
std::variant<core::certificate_record, response>
certificate_of(rest_context& cx, const api_call& call)
{
    auto id = id_parameter(call, "id");
    if (!id) {
        return bad_request("the certificate id must be a positive integer");
    }
    auto c = cx.st.store->get_certificate(*id);
    if (!c) {
        return c.error() == core::errc::not_found ? not_found_certificate(*id)
                                                  : store_failure(c.error());
    }
    return *c;
}

int revocation_reason(const std::string& name)
{
    // RFC 5280 5.3.1 CRLReason codes that ACME CAs accept (RFC 8555 7.6).
    const std::vector<std::pair<std::string, int>> reasons{
        {"unspecified", 0},
        {"keyCompromise", 1},
        {"affiliationChanged", 3},
        {"superseded", 4},
        {"cessationOfOperation", 5}};
    for (const auto& [n, code] : reasons) {
        if (n == name) {
            return code;
        }
    }
    return -1;
}

// Selection from the request body, or the reason it is malformed.
std::variant<sweep_selection, response> selection_of(const json& b)
{
    sweep_selection s;
    if (b.contains("all") && !b["all"].is_boolean()) {
        return bad_request("\"all\" must be a boolean");
    }
    s.all = b.value("all", false);
    if (b.contains("names")) {
        if (!b["names"].is_array()) {
            return bad_request("\"names\" must be an array of strings");
        }
        for (const auto& n : b["names"]) {
            if (!n.is_string()) {
                return bad_request("\"names\" must be an array of strings");
            }
            s.names.push_back(n.get<std::string>());
        }
    }
    if (b.contains("ids")) {
        if (!b["ids"].is_array()) {
            return bad_request("\"ids\" must be an array of certificate ids");
        }
        for (const auto& i : b["ids"]) {
            if (!i.is_number_integer() || i.get<core::row_id>() <= 0) {
                return bad_request("\"ids\" must be an array of certificate ids");
            }
            s.ids.push_back(i.get<core::row_id>());
        }
    }
    return s;
}

asio::awaitable<response> run_renewals(rest_context* cx, sweep_selection selection, bool dry_run)
{
    const auto started = std::chrono::system_clock::now();
    for (const auto id : selection.ids) {
        if (!cx->st.store->get_certificate(id)) {
            co_return not_found_certificate(id);
        }
    }
    const auto planned = select_renewals(*cx->st.store, cx->settings, selection, started);
    json out{
        {"started", format_time(started)},
        {"dry_run", dry_run},
        {"planned", json::array()},
        {"results", json::array()}};
    std::vector<core::row_id> ids;
    for (const auto& p : planned) {
        out["planned"].push_back(planned_json(p));
        ids.push_back(p.id);
    }
    if (!dry_run && !ids.empty()) {
        if (!cx->hooks.renew) {
            co_return api_error(
                501, "not_here", "renewals run in certfleet serve or certfleet renew"
            );
        }
        const auto results = co_await cx->hooks.renew(ids);
        for (const auto& r : results) {
            out["results"].push_back(to_json(r));
        }
    }
    co_return json_response(out);
}

} // namespace

// ---- certificates

response list_certificates(rest_context& cx, const api_call& call)
{
    response error;
    auto p = page_parameters(call, error);
    if (!p) {
        return error;
    }
    const auto after = cursor_id(*p);
    if (!after) {
        return bad_request("the cursor is not one this server gave");
    }
    auto rows = cx.st.store->list_certificates_after(*after, p->limit + 1);
    if (!rows) {
        return store_failure(rows.error());
    }
    return json_response(id_page(*rows, p->limit, [](const core::certificate_summary& row) {
        return certificate_json(row.certificate, row.newest);
    }));
}

response add_certificate(rest_context& cx, const api_call& call)
{
    auto body = object_body(call);
    if (body.error) {
        return *body.error;
    }
    const auto& b = body.value;
    const auto names = b.find("names");
    if (names == b.end() || !names->is_array() || names->empty() ||
        !std::all_of(names->begin(), names->end(), [](const json& n) { return n.is_string(); })) {
        return bad_request("\"names\" (a non-empty array of DNS names) is required");
    }
    for (const char* field : {"key_type", "ca", "profile"}) {
        if (b.contains(field) && !b[field].is_string()) {
            return bad_request("\"" + std::string(field) + "\" must be a string");
        }
    }
    core::certificate_spec spec;
    std::set<std::string> seen;
    for (const auto& n : *names) {
        const auto text = n.get<std::string>();
        auto name = core::lower_name(text);
        if (!seen.insert(name).second) {
            continue;
        }
        const auto bare = core::managed_name_for(name);
        if (!dns::canonical_name(bare)) {
            return bad_request("'" + text + "' is not a valid DNS name");
        }
        if (!cx.st.store->find_domain(bare)) {
            return api_error(
                422, "domain_not_managed",
                bare + " is not a managed domain: run `certfleet domain add " + bare +
                    "`, create the CNAME it prints, then add the certificate"
            );
        }
        spec.names.push_back(name);
    }
    spec.key_type = b.value("key_type", std::string("ec-p256"));
    spec.ca = b.value("ca", std::string("default"));
    if (b.contains("profile") && !b["profile"].get<std::string>().empty()) {
        spec.profile = b["profile"].get<std::string>();
    }
    if (!core::key_type_from_string(spec.key_type)) {
        return bad_request(
            "key_type '" + spec.key_type +
            "' is not one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096"
        );
    }
    if (find_ca(cx.settings, spec.ca) == nullptr) {
        return bad_request(
            "no CA named '" + spec.ca +
            "' in the configuration ([acme] is \"default\"; others are [[ca]] tables)"
        );
    }
    auto id = cx.st.store->add_certificate(spec, std::chrono::system_clock::now());
    if (!id) {
        return store_failure(id.error());
    }
    record_event(
        *cx.st.store, *id, "added", "added " + join(spec.names, ", ") + " by " + call.caller
    );
    bool notified = false;
    if (cx.hooks.reschedule) {
        cx.hooks.reschedule(*id);
        notified = true;
    }
    return json_response({{"id", *id}, {"names", spec.names}, {"server_notified", notified}}, 201);
}

response get_certificate(rest_context& cx, const api_call& call)
{
    auto found = certificate_of(cx, call);
    if (auto* r = std::get_if<response>(&found)) {
        return *r;
    }
    const auto& c = std::get<core::certificate_record>(found);
    auto versions = cx.st.store->versions(c.id);
    if (!versions) {
        return store_failure(versions.error());
    }
    auto j =
        certificate_json(c, versions->empty() ? std::nullopt : std::optional(versions->back()));
    j["versions"] = json::array();
    for (const auto& v : *versions) {
        j["versions"].push_back(version_json(v));
    }
    auto open = cx.st.store->open_order(c.id);
    j["open_order"] = open && *open ? order_json(**open) : json();
    core::event_filter filter;
    filter.certificate_id = c.id;
    filter.limit = 1000;
    j["events"] = json::array();
    if (auto events = cx.st.store->events(filter)) {
        for (const auto& e : *events) {
            j["events"].push_back(event_json(e));
        }
    }
    return json_response(j);
}

response certificate_versions(rest_context& cx, const api_call& call)
{
    auto found = certificate_of(cx, call);
    if (auto* r = std::get_if<response>(&found)) {
        return *r;
    }
    return items_response(
        cx.st.store->versions(std::get<core::certificate_record>(found).id), version_json
    );
}

response certificate_chain(rest_context& cx, const api_call& call)
{
    auto found = certificate_of(cx, call);
    if (auto* r = std::get_if<response>(&found)) {
        return *r;
    }
    const auto id = std::get<core::certificate_record>(found).id;
    auto v = cx.st.store->latest_version(id);
    if (!v) {
        return store_failure(v.error());
    }
    if (!*v) {
        return api_error(
            404, "not_issued", "certificate " + std::to_string(id) + " has no issued version yet"
        );
    }
    response r;
    r.content_type = "application/pem-certificate-chain";
    r.body = (*v)->chain_pem;
    return r;
}

response certificate_orders(rest_context& cx, const api_call& call)
{
    auto found = certificate_of(cx, call);
    if (auto* r = std::get_if<response>(&found)) {
        return *r;
    }
    return items_response(
        cx.st.store->orders_of(std::get<core::certificate_record>(found).id), order_json
    );
}

response list_orders(rest_context& cx, const api_call&)
{
    return items_response(cx.st.store->unfinished_orders(), order_json);
}

asio::awaitable<response> revoke_certificate(rest_context* cx, api_call call)
{
    auto body = object_body(call, true);
    if (body.error) {
        co_return *body.error;
    }
    if (body.value.contains("reason") && !body.value["reason"].is_string()) {
        co_return bad_request("\"reason\" must be a string");
    }
    const auto reason_name = body.value.value("reason", std::string("unspecified"));
    const int reason = revocation_reason(reason_name);
    if (reason < 0) {
        co_return bad_request(
            "reason '" + reason_name +
            "' is not one of unspecified, keyCompromise, affiliationChanged, superseded, "
            "cessationOfOperation"
        );
    }
    auto found = certificate_of(*cx, call);
    if (auto* r = std::get_if<response>(&found)) {
        co_return *r;
    }
    auto c = std::get<core::certificate_record>(found);
    auto v = cx->st.store->latest_version(c.id);
    if (!v || !*v) {
        co_return api_error(
            409, "not_issued",
            "certificate " + std::to_string(c.id) + " has no issued version to revoke"
        );
    }
    const auto* ca = find_ca(cx->settings, c.spec.ca);
    if (ca == nullptr) {
        co_return api_error(
            500, "ca_not_configured", "the certificate's CA '" + c.spec.ca + "' is not configured"
        );
    }
    std::string problem;
    try {
        ca_session session(cx->executor, *ca, *cx->st.store, cx->st.vault);
        auto account = co_await session.ensure_account();
        if (!account) {
            problem = account.error().message();
        } else {
            const auto chain = (*v)->chain_pem;
            auto done = co_await session.client().revoke(chain, reason);
            if (!done) {
                problem = done.error().message();
            }
        }
    } catch (const std::exception& e) {
        problem = e.what();
    }
    if (!problem.empty()) {
        co_return api_error(
            502, "ca_refused",
            "the CA did not revoke certificate " + std::to_string(c.id) + ": " + problem +
                ". It stays as it was; try again, or revoke at the CA directly"
        );
    }
    c.state = core::certificate_state::revoked;
    c.next_attempt_at.reset();
    c.alert = false;
    (void)cx->st.store->update_certificate(c);
    record_event(
        *cx->st.store, c.id, "revoked",
        "revoked serial " + (*v)->serial_hex + " (" + reason_name + ") by " + call.caller
    );
    if (cx->hooks.reschedule) {
        cx->hooks.reschedule(c.id);
    }
    json out{{"id", c.id}, {"serial", (*v)->serial_hex}, {"reason", reason_name}};
    co_return json_response(out);
}

// ---- renewals

asio::awaitable<response> renewals(rest_context* cx, api_call call)
{
    auto body = object_body(call, true);
    if (body.error) {
        co_return *body.error;
    }
    auto selection = selection_of(body.value);
    if (auto* r = std::get_if<response>(&selection)) {
        co_return *r;
    }
    if (body.value.contains("dry_run") && !body.value["dry_run"].is_boolean()) {
        co_return bad_request("\"dry_run\" must be a boolean");
    }
    const bool dry_run = body.value.value("dry_run", false);
    co_return co_await run_renewals(cx, std::get<sweep_selection>(selection), dry_run);
}

asio::awaitable<response> renew_certificate(rest_context* cx, api_call call)
{
    auto id = id_parameter(call, "id");
    if (!id) {
        co_return bad_request("the certificate id must be a positive integer");
    }
    sweep_selection selection;
    selection.ids = {*id};
    co_return co_await run_renewals(cx, selection, false);
}

// ---- events

response list_events(rest_context& cx, const api_call& call)
{
    response error;
    auto p = page_parameters(call, error);
    if (!p) {
        return error;
    }
    const auto after = cursor_id(*p);
    if (!after) {
        return bad_request("the cursor is not one this server gave");
    }
    core::event_filter filter;
    filter.limit = p->limit + 1; // one more tells whether a next page exists
    filter.after_id = *after;
    if (auto c = call.request.query_parameter("certificate")) {
        auto id = parse_id(*c);
        if (!id) {
            return bad_request("certificate must be a certificate id");
        }
        filter.certificate_id = *id;
    }
    if (auto since = call.request.query_parameter("since")) {
        auto t = parse_time(*since);
        if (!t) {
            return bad_request("since must be an RFC 3339 time in UTC, e.g. 2026-12-01T00:00:00Z");
        }
        filter.since = *t;
    }
    auto events = cx.st.store->events(filter);
    if (!events) {
        return store_failure(events.error());
    }
    return json_response(id_page(*events, p->limit, event_json));
}

} // namespace certfleet::app::rest
