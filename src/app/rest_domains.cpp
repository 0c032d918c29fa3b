// The REST routes of managed domains and their preflight.
#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <variant>

#include "app/offload.hpp"
#include "app/preflight.hpp"
#include "app/rest_handlers.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "dns/name.hpp"

namespace certfleet::app::rest {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

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

} // namespace

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
    record_event(
        *cx.st.store, std::nullopt, "domain_added", "added domain " + managed + " by " + call.caller
    );
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
                   ? api_error(
                         404, "not_found",
                         "no managed domain " + name + " (see certfleet domain list)"
                     )
                   : store_failure(removed.error());
    }
    record_event(
        *cx.st.store, std::nullopt, "domain_removed",
        "removed domain " + name + " by " + call.caller
    );
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
    if (names != body.value.end() &&
        (!names->is_array() ||
         !std::all_of(names->begin(), names->end(), [](const json& n) { return n.is_string(); }))) {
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
                    text + " is not managed: add it first (certfleet domain add " +
                        core::lower_name(text) + ")"
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
    // Lookups block for up to their timeout: never on the I/O thread.
    static asio::thread_pool lookups(2);
    const auto* preflight = &cx->settings.preflight;
    const auto report = co_await offload(lookups.get_executor(), [&request, preflight] {
        return run_preflight(request, *preflight);
    });

    const auto at = std::chrono::system_clock::now();
    json results = json::array();
    for (const auto& v : report.verdicts) {
        if (v.check == "delegation") {
            (void)cx->st.store->record_domain_check(v.name, v.status, v.detail, at);
        }
        results.push_back(
            {{"name", v.name},
             {"check", v.check},
             {"ok", v.ok},
             {"status", v.status},
             {"detail", v.detail}}
        );
    }
    json out{{"ok", report.ok}, {"results", std::move(results)}};
    co_return json_response(out);
}

} // namespace certfleet::app::rest
