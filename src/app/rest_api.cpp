// The route table of the REST API and its handlers.
#include "app/rest_api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

#include "app/ca_session.hpp"
#include "app/cli_support.hpp"
#include "app/control.hpp"
#include "app/preflight.hpp"
#include "app/rest_views.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "dns/acmedns_accounts.hpp"
#include "dns/name.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;
using namespace rest;

namespace {

using response = net::server_response;
using sync_handler = response (*)(rest_context&, const api_call&);

asio::awaitable<response> run_sync(sync_handler handler, rest_context* cx, api_call call)
{
    auto r = handler(*cx, call);
    co_return r;
}

std::chrono::system_clock::time_point now()
{
    return std::chrono::system_clock::now();
}

void record_event(rest_context& cx, std::optional<core::row_id> id, std::string kind, std::string message)
{
    core::event_record e;
    e.at = now();
    e.certificate_id = id;
    e.kind = std::move(kind);
    e.message = std::move(message);
    (void)cx.st.store->append_event(e);
}

// {"items": [...]} of the rows, each through `view`; the store's failure when there are none.
template <class Row, class View>
response items_response(const core::store_result<std::vector<Row>>& rows, View view)
{
    if (!rows) {
        return store_failure(rows.error());
    }
    json items = json::array();
    for (const auto& row : *rows) {
        items.push_back(view(row));
    }
    return json_response({{"items", items}});
}

// ---- health, status

response health(rest_context& cx, const api_call&)
{
    // A read of the store proves the database answers.
    if (auto r = cx.st.store->setting("schema"); !r) {
        return api_error(503, "unhealthy", "the store does not answer: " + r.error().message());
    }
    return json_response({{"status", "ok"}});
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
    auto all = cx.st.store->list_certificates();
    if (!all) {
        return store_failure(all.error());
    }
    std::map<std::string, int> by_state;
    std::vector<const core::certificate_record*> upcoming;
    json failures = json::array();
    json alerts = json::array();
    std::optional<std::chrono::system_clock::time_point> earliest_expiry;
    for (const auto& c : *all) {
        ++by_state[std::string(core::to_string(c.state))];
        if (c.state != core::certificate_state::revoked && c.next_attempt_at) {
            upcoming.push_back(&c);
        }
        if (!c.last_problem.empty()) {
            failures.push_back(
                {{"id", c.id}, {"names", c.spec.names}, {"state", core::to_string(c.state)}, {"problem", c.last_problem}}
            );
        }
        auto v = cx.st.store->latest_version(c.id);
        if (c.alert) {
            alerts.push_back(
                {{"id", c.id},
                 {"names", c.spec.names},
                 {"not_after", v && *v ? json(format_time((*v)->not_after)) : json()},
                 {"message", "expires before its next renewal attempt"}}
            );
        }
        if (v && *v && c.state != core::certificate_state::revoked &&
            (!earliest_expiry || (*v)->not_after < *earliest_expiry)) {
            earliest_expiry = (*v)->not_after;
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

// ---- domains

// The managed name as stored, or the reason it is not one.
std::variant<std::string, response> managed_name(std::string_view text)
{
    auto name = core::lower_name(text);
    if (name.starts_with("*.")) {
        return bad_request(
            std::string(text) + ": add the name without \"*.\" (" + name.substr(2) +
            "); a certificate may then ask for the wildcard"
        );
    }
    if (name.empty() || !dns::canonical_name(name)) {
        return bad_request("'" + std::string(text) + "' is not a valid DNS name");
    }
    return name;
}

response list_domains(rest_context& cx, const api_call& call)
{
    response error;
    auto p = page_parameters(call, error);
    if (!p) {
        return error;
    }
    auto domains = cx.st.store->list_domains();
    if (!domains) {
        return store_failure(domains.error());
    }
    json items = json::array();
    std::optional<std::string> next;
    for (const auto& d : *domains) {
        if (!p->cursor.empty() && d.name <= p->cursor) {
            continue;
        }
        if (items.size() == p->limit) {
            next = items.back()["name"].get<std::string>();
            break;
        }
        items.push_back(domain_json(cx.settings, d));
    }
    return json_response(page(std::move(items), next));
}

response add_domain(rest_context& cx, const api_call& call)
{
    auto body = object_body(call);
    if (body.error) {
        return *body.error;
    }
    const auto it = body.value.find("name");
    if (it == body.value.end() || !it->is_string()) {
        return bad_request("\"name\" (a string) is required");
    }
    auto name = managed_name(it->get<std::string>());
    if (auto* refused = std::get_if<response>(&name)) {
        return *refused;
    }
    const auto& managed = std::get<std::string>(name);
    if (auto existing = cx.st.store->find_domain(managed)) {
        // Stable: the same name keeps its label, so the CNAME once created stays right.
        auto j = domain_json(cx.settings, *existing);
        j["added"] = false;
        return json_response(j, 200);
    }
    auto label = core::random_label();
    if (!label) {
        return api_error(500, "internal_error", "cannot draw a label: " + label.error().message());
    }
    core::domain_record d;
    d.name = managed;
    d.label = *label;
    if (auto added = cx.st.store->add_domain(d); !added) {
        return store_failure(added.error());
    }
    record_event(cx, std::nullopt, "domain_added", "added domain " + managed + " by " + call.caller);
    auto j = domain_json(cx.settings, d);
    j["added"] = true;
    return json_response(j, 201);
}

response get_domain(rest_context& cx, const api_call& call)
{
    auto d = cx.st.store->find_domain(core::lower_name(call.path.at("name")));
    if (!d) {
        return d.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no managed domain " + call.path.at("name"))
                   : store_failure(d.error());
    }
    return json_response(domain_json(cx.settings, *d));
}

response remove_domain(rest_context& cx, const api_call& call)
{
    const auto name = core::lower_name(call.path.at("name"));
    auto certificates = cx.st.store->list_certificates();
    if (!certificates) {
        return store_failure(certificates.error());
    }
    for (const auto& c : *certificates) {
        if (c.state == core::certificate_state::revoked) {
            continue;
        }
        for (const auto& n : c.spec.names) {
            if (core::managed_name_for(n) == name) {
                return api_error(
                    409, "domain_in_use",
                    "certificate " + std::to_string(c.id) + " still uses " + name +
                        ": revoke it first (certfleet cert revoke " + std::to_string(c.id) + ")"
                );
            }
        }
    }
    if (auto removed = cx.st.store->remove_domain(name); !removed) {
        return removed.error() == core::errc::not_found
                   ? api_error(404, "not_found", "no managed domain " + name + " (see certfleet domain list)")
                   : store_failure(removed.error());
    }
    record_event(cx, std::nullopt, "domain_removed", "removed domain " + name + " by " + call.caller);
    return json_response({{"removed", name}});
}

// The preflight runs on a worker thread: its lookups block for up to their timeout, and the
// server's thread serves DNS and every other request meanwhile.
asio::awaitable<response> check_domains(rest_context* cx, api_call call)
{
    auto body = object_body(call, true);
    if (body.error) {
        co_return *body.error;
    }
    std::vector<core::domain_record> domains;
    const auto names = body.value.find("names");
    if (names != body.value.end() && (!names->is_array() || !std::all_of(names->begin(), names->end(), [](const json& n) {
                                          return n.is_string();
                                      }))) {
        co_return bad_request("\"names\" must be an array of strings");
    }
    if (names == body.value.end() || names->empty()) {
        auto all = cx->st.store->list_domains();
        if (!all) {
            co_return store_failure(all.error());
        }
        domains = std::move(*all);
    } else {
        for (const auto& n : *names) {
            const auto text = n.get<std::string>();
            auto d = cx->st.store->find_domain(core::lower_name(text));
            if (!d) {
                auto r = api_error(
                    404, "not_found",
                    text + " is not managed: add it first (certfleet domain add " + core::lower_name(text) + ")"
                );
                co_return r;
            }
            domains.push_back(*d);
        }
    }
    preflight_request request;
    for (const auto& d : domains) {
        request.names.push_back({d.name, delegation_target(cx->settings, d.label)});
    }
    if (!cx->settings.cas.empty()) {
        request.ca_domains = cx->settings.cas.front().caa_identities;
    }
    static asio::thread_pool workers(2);
    co_await asio::post(workers.get_executor(), asio::use_awaitable);
    const auto report = run_preflight(request, cx->settings.preflight);
    co_await asio::post(cx->executor, asio::use_awaitable);

    const auto at = now();
    json results = json::array();
    for (const auto& v : report.verdicts) {
        if (v.check == "delegation") {
            (void)cx->st.store->record_domain_check(v.name, v.status, v.detail, at);
        }
        results.push_back(
            {{"name", v.name}, {"check", v.check}, {"ok", v.ok}, {"status", v.status}, {"detail", v.detail}}
        );
    }
    json out{{"ok", report.ok}, {"results", std::move(results)}};
    co_return json_response(out);
}

// ---- certificates

response not_found_certificate(core::row_id id)
{
    return api_error(404, "not_found", "no certificate " + std::to_string(id) + " (see certfleet cert list)");
}

response list_certificates(rest_context& cx, const api_call& call)
{
    response error;
    auto p = page_parameters(call, error);
    if (!p) {
        return error;
    }
    core::row_id after = 0;
    if (!p->cursor.empty()) {
        try {
            after = std::stoll(p->cursor);
        } catch (const std::exception&) {
            return bad_request("the cursor is not one this server gave");
        }
    }
    // One more than the page tells whether a next page exists.
    auto page_rows = cx.st.store->list_certificates_after(after, p->limit + 1);
    if (!page_rows) {
        return store_failure(page_rows.error());
    }
    json items = json::array();
    std::optional<std::string> next;
    for (const auto& row : *page_rows) {
        if (items.size() == p->limit) {
            next = std::to_string(items.back()["id"].get<core::row_id>());
            break;
        }
        items.push_back(certificate_json(row.certificate, row.newest));
    }
    return json_response(page(std::move(items), next));
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
            "key_type '" + spec.key_type + "' is not one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096"
        );
    }
    if (find_ca(cx.settings, spec.ca) == nullptr) {
        return bad_request(
            "no CA named '" + spec.ca + "' in the configuration ([acme] is \"default\"; others are [[ca]] tables)"
        );
    }
    auto id = cx.st.store->add_certificate(spec, now());
    if (!id) {
        return store_failure(id.error());
    }
    record_event(cx, *id, "added", "added " + join(spec.names, ", ") + " by " + call.caller);
    bool notified = false;
    if (cx.hooks.reschedule) {
        cx.hooks.reschedule(*id);
        notified = true;
    }
    return json_response({{"id", *id}, {"names", spec.names}, {"server_notified", notified}}, 201);
}

// The certificate named by {id}, or the response to give instead.
std::variant<core::certificate_record, response> certificate_of(rest_context& cx, const api_call& call)
{
    auto id = id_parameter(call, "id");
    if (!id) {
        return bad_request("the certificate id must be a positive integer");
    }
    auto c = cx.st.store->get_certificate(*id);
    if (!c) {
        return c.error() == core::errc::not_found ? not_found_certificate(*id) : store_failure(c.error());
    }
    return *c;
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
    auto j = certificate_json(c, versions->empty() ? std::nullopt : std::optional(versions->back()));
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
    return items_response(cx.st.store->versions(std::get<core::certificate_record>(found).id), version_json);
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
    return items_response(cx.st.store->orders_of(std::get<core::certificate_record>(found).id), order_json);
}

response list_orders(rest_context& cx, const api_call&)
{
    return items_response(cx.st.store->unfinished_orders(), order_json);
}

int revocation_reason(const std::string& name)
{
    // RFC 5280 5.3.1 CRLReason codes that ACME CAs accept (RFC 8555 7.6).
    const std::vector<std::pair<std::string, int>> reasons{
        {"unspecified", 0}, {"keyCompromise", 1}, {"affiliationChanged", 3}, {"superseded", 4}, {"cessationOfOperation", 5}};
    for (const auto& [n, code] : reasons) {
        if (n == name) {
            return code;
        }
    }
    return -1;
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
            "' is not one of unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation"
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
            409, "not_issued", "certificate " + std::to_string(c.id) + " has no issued version to revoke"
        );
    }
    const auto* ca = find_ca(cx->settings, c.spec.ca);
    if (ca == nullptr) {
        co_return api_error(500, "ca_not_configured", "the certificate's CA '" + c.spec.ca + "' is not configured");
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
        *cx, c.id, "revoked", "revoked serial " + (*v)->serial_hex + " (" + reason_name + ") by " + call.caller
    );
    if (cx->hooks.reschedule) {
        cx->hooks.reschedule(c.id);
    }
    json out{{"id", c.id}, {"serial", (*v)->serial_hex}, {"reason", reason_name}};
    co_return json_response(out);
}

// ---- renewals

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
    const auto started = now();
    for (const auto id : selection.ids) {
        if (!cx->st.store->get_certificate(id)) {
            co_return not_found_certificate(id);
        }
    }
    const auto planned = select_renewals(*cx->st.store, cx->settings, selection, started);
    json out{{"started", format_time(started)}, {"dry_run", dry_run}, {"planned", json::array()}, {"results", json::array()}};
    std::vector<core::row_id> ids;
    for (const auto& p : planned) {
        out["planned"].push_back(planned_json(p));
        ids.push_back(p.id);
    }
    if (!dry_run && !ids.empty()) {
        if (!cx->hooks.renew) {
            co_return api_error(501, "not_here", "renewals run in certfleet serve or certfleet renew");
        }
        const auto results = co_await cx->hooks.renew(ids);
        for (const auto& r : results) {
            out["results"].push_back(to_json(r));
        }
    }
    co_return json_response(out);
}

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
    core::event_filter filter;
    filter.limit = p->limit + 1; // one more tells whether a next page exists
    if (!p->cursor.empty()) {
        try {
            filter.after_id = std::stoll(p->cursor);
        } catch (const std::exception&) {
            return bad_request("the cursor is not one this server gave");
        }
    }
    if (auto c = call.request.query_parameter("certificate")) {
        api_call probe{call.request, {{"id", *c}}, call.caller};
        auto id = id_parameter(probe, "id");
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
    json items = json::array();
    std::optional<std::string> next;
    for (const auto& e : *events) {
        if (items.size() == p->limit) {
            next = std::to_string(items.back()["id"].get<core::row_id>());
            break;
        }
        items.push_back(event_json(e));
    }
    return json_response(page(std::move(items), next));
}

// ---- acme-dns registrations

response list_acmedns(rest_context& cx, const api_call&)
{
    return items_response(dns::list_acmedns_accounts(*cx.st.store, cx.settings.challenge_zone), acmedns_account_json);
}

response get_acmedns(rest_context& cx, const api_call& call)
{
    const auto& username = call.path.at("username");
    auto account = dns::describe_acmedns_account(*cx.st.store, cx.settings.challenge_zone, username);
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
    record_event(cx, std::nullopt, "acmedns_deleted", "acme-dns registration " + username + " deleted by " + call.caller);
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
    if (!b.contains("scope") || !b["scope"].is_string() || !scope_from_string(b["scope"].get<std::string>())) {
        return bad_request("\"scope\" must be one of " + scope_names());
    }
    std::optional<std::chrono::seconds> lifetime;
    if (b.contains("expires_in_seconds")) {
        if (!b["expires_in_seconds"].is_number_integer() || b["expires_in_seconds"].get<std::int64_t>() <= 0) {
            return bad_request("\"expires_in_seconds\" must be a positive integer");
        }
        lifetime = std::chrono::seconds(b["expires_in_seconds"].get<std::int64_t>());
    }
    const auto name = b["name"].get<std::string>();
    auto made = create_api_token(*cx.st.store, name, *scope_from_string(b["scope"].get<std::string>()), now(), lifetime);
    if (!made) {
        return made.error() == core::errc::already_exists
                   ? api_error(409, "already_exists", "a live token is named " + name + "; revoke it or choose another name")
                   : store_failure(made.error());
    }
    record_event(cx, std::nullopt, "token_created", "token " + name + " (" + made->record.scope + ") by " + call.caller);
    auto j = token_json(made->record);
    j["token"] = made->secret;
    return json_response(j, 201);
}

response revoke_token(rest_context& cx, const api_call& call)
{
    const auto& name = call.path.at("name");
    if (auto r = cx.st.store->revoke_api_token(name, now()); !r) {
        return r.error() == core::errc::not_found ? api_error(404, "not_found", "no live token is named " + name)
                                                  : store_failure(r.error());
    }
    record_event(cx, std::nullopt, "token_revoked", "token " + name + " revoked by " + call.caller);
    return json_response({{"removed", name}});
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

const api_parameter limit_parameter{"limit", "query", "integer", "items per page (1 to 1000, default 100)", false};
const api_parameter cursor_parameter{"cursor", "query", "string", "next_cursor of the previous page", false};

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
    auto add = [&](api_route r, std::string request_schema, unsigned status, std::string response_schema) {
        r.request_schema = std::move(request_schema);
        r.success_status = status;
        r.response_schema = std::move(response_schema);
        routes.push_back(std::move(r));
        return &routes.back();
    };
    add(route(v::get, "/healthz", std::nullopt, "health", "Liveness: the server and its store answer", sync(cx, health)), "", 200, "Health");
    const auto metrics_scope = cx.settings.api.public_metrics ? std::nullopt : std::optional(read);
    add(route(v::get, "/metrics", metrics_scope, "metrics", "Prometheus metrics", sync(cx, metrics)), "", 200, "")
        ->response_type = "text/plain";
    add(route(v::get, "/api/v1/openapi.json", std::nullopt, "openapi", "This document",
              [document](api_call) { return serve_document(document); }),
        "", 200, "");
    add(route(v::get, "/api/v1/status", read, "getStatus", "Certificates by state, next renewals, failures, alerts", sync(cx, status)), "", 200, "Status");

    add(route(v::get, "/api/v1/domains", read, "listDomains", "Managed domains and their CNAME targets", sync(cx, list_domains)), "", 200, "DomainPage")
        ->parameters = {limit_parameter, cursor_parameter};
    add(route(v::post, "/api/v1/domains", admin, "addDomain", "Manage a name: allocate its stable label", sync(cx, add_domain)), "DomainCreate", 201, "Domain");
    add(route(v::get, "/api/v1/domains/{name}", read, "getDomain", "One managed domain", sync(cx, get_domain)), "", 200, "Domain");
    add(route(v::delete_, "/api/v1/domains/{name}", admin, "removeDomain", "Stop managing a name", sync(cx, remove_domain)), "", 200, "Removed");
    add(route(v::post, "/api/v1/domain-checks", renew, "checkDomains", "Preflight names: their CNAME and CAA records", async(cx, check_domains)), "CheckRequest", 200, "CheckReport");

    add(route(v::get, "/api/v1/certificates", read, "listCertificates", "Certificates with their newest version", sync(cx, list_certificates)), "", 200, "CertificatePage")
        ->parameters = {limit_parameter, cursor_parameter};
    add(route(v::post, "/api/v1/certificates", admin, "addCertificate", "Add a certificate: it is issued and kept renewed", sync(cx, add_certificate)), "CertificateCreate", 201, "CertificateCreated");
    const api_parameter id_parameter{"id", "path", "integer", "certificate id", true};
    add(route(v::get, "/api/v1/certificates/{id}", read, "getCertificate", "One certificate: versions, order in flight, events", sync(cx, get_certificate)), "", 200, "CertificateDetail")
        ->parameters = {id_parameter};
    add(route(v::get, "/api/v1/certificates/{id}/versions", read, "listVersions", "Every issued version", sync(cx, certificate_versions)), "", 200, "VersionList")
        ->parameters = {id_parameter};
    auto* chain = add(route(v::get, "/api/v1/certificates/{id}/chain", read, "getChain", "The newest chain, leaf first (never the key)", sync(cx, certificate_chain)), "", 200, "");
    chain->parameters = {id_parameter};
    chain->response_type = "application/pem-certificate-chain";
    add(route(v::get, "/api/v1/certificates/{id}/orders", read, "listCertificateOrders", "Every ACME order of the certificate", sync(cx, certificate_orders)), "", 200, "OrderList")
        ->parameters = {id_parameter};
    add(route(v::post, "/api/v1/certificates/{id}/renew", renew, "renewCertificate", "Renew now, whatever the plan", async(cx, renew_certificate)), "", 200, "RenewalReport")
        ->parameters = {id_parameter};
    add(route(v::post, "/api/v1/certificates/{id}/revoke", admin, "revokeCertificate", "Revoke the newest version at the CA; never renew it again", async(cx, revoke_certificate)), "Revocation", 200, "Revoked")
        ->parameters = {id_parameter};
    add(route(v::get, "/api/v1/orders", read, "listOrders", "Orders in flight", sync(cx, list_orders)), "", 200, "OrderList");
    add(route(v::post, "/api/v1/renewals", renew, "renew", "The renewal sweep: renew what is due (or all, or by name or id)", async(cx, renewals)), "RenewalRequest", 200, "RenewalReport");
    add(route(v::get, "/api/v1/events", read, "listEvents", "The event log, newest last", sync(cx, list_events)), "", 200, "EventPage")
        ->parameters = {
        limit_parameter,
        cursor_parameter,
        {"certificate", "query", "integer", "only this certificate's events", false},
        {"since", "query", "string", "only events at or after this RFC 3339 time", false}};

    add(route(v::get, "/api/v1/tokens", admin, "listTokens", "API tokens (never their secrets)", sync(cx, list_tokens)), "", 200, "TokenList");
    add(route(v::post, "/api/v1/tokens", admin, "createToken", "Make a token; its secret is shown once", sync(cx, create_token)), "TokenCreate", 201, "TokenCreated");
    add(route(v::delete_, "/api/v1/tokens/{name}", admin, "revokeToken", "Revoke a token", sync(cx, revoke_token)), "", 200, "Removed");

    add(route(v::get, "/api/v1/acmedns/registrations", admin, "listAcmednsRegistrations", "acme-dns registrations and their live TXT values (never their keys)", sync(cx, list_acmedns)), "", 200, "AcmednsRegistrationList");
    add(route(v::get, "/api/v1/acmedns/registrations/{username}", admin, "getAcmednsRegistration", "One acme-dns registration", sync(cx, get_acmedns)), "", 200, "AcmednsRegistration");
    add(route(v::delete_, "/api/v1/acmedns/registrations/{username}", admin, "deleteAcmednsRegistration", "Delete an acme-dns registration and its values", sync(cx, delete_acmedns)), "", 200, "Removed");

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
    schemas.update(cx.hooks.extra_schemas);
    *document = router->openapi(schemas, api_version()).dump();
    return router;
}

} // namespace certfleet::app
