#include "app/rest_views.hpp"

#include <charconv>

#include "app/cli_support.hpp"
#include "app/openapi_schema.hpp"
#include "core/errc.hpp"

namespace certfleet::app::rest {
using nlohmann::json;
using namespace schema;

namespace {

json time_or_null(std::optional<std::chrono::system_clock::time_point> t)
{
    return t ? json(format_time(t)) : json();
}

std::optional<std::int64_t> positive_integer(std::string_view text)
{
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || p != end || value <= 0) {
        return std::nullopt;
    }
    return value;
}

} // namespace

json domain_json(const server_settings& s, const core::domain_record& d)
{
    const auto target = delegation_target(s, d.label);
    return {
        {"name", d.name},
        {"label", d.label},
        {"target", target},
        {"record", "_acme-challenge." + d.name + ". CNAME " + target + "."},
        {"check", d.check_status},
        {"check_detail", d.check_detail},
        {"checked_at", time_or_null(d.checked_at)},
    };
}

json certificate_json(
    const core::certificate_record& c, const std::optional<core::certificate_version>& v
)
{
    json j{
        {"id", c.id},
        {"names", c.spec.names},
        {"key_type", c.spec.key_type},
        {"ca", c.spec.ca},
        {"profile", c.spec.profile ? json(*c.spec.profile) : json()},
        {"state", core::to_string(c.state)},
        {"next_attempt_at", time_or_null(c.next_attempt_at)},
        {"failures", c.consecutive_failures},
        {"last_problem", c.last_problem},
        {"alert", c.alert},
        {"created_at", format_time(c.created_at)},
        {"serial", v ? json(v->serial_hex) : json()},
        {"sha256", v ? json(v->sha256_hex) : json()},
        {"not_before", v ? json(format_time(v->not_before)) : json()},
        {"not_after", v ? json(format_time(v->not_after)) : json()},
        {"ari_window", json()},
    };
    if (v && v->ari_window_start) {
        j["ari_window"] = {format_time(v->ari_window_start), format_time(v->ari_window_end)};
    }
    return j;
}

json version_json(const core::certificate_version& v)
{
    return {
        {"id", v.id},
        {"serial", v.serial_hex},
        {"sha256", v.sha256_hex},
        {"not_before", format_time(v.not_before)},
        {"not_after", format_time(v.not_after)},
        {"issued_at", format_time(v.created_at)},
        {"ari_window_start", time_or_null(v.ari_window_start)},
        {"ari_window_end", time_or_null(v.ari_window_end)},
    };
}

json order_json(const core::order_record& o)
{
    return {
        {"id", o.id},
        {"certificate_id", o.certificate_id},
        {"state", core::to_string(o.state)},
        {"url", o.order_url},
        {"authorizations", o.authorization_urls},
        {"finalize_url", o.finalize_url},
        {"certificate_url", o.certificate_url},
        {"replaces", o.replaces ? json(*o.replaces) : json()},
        {"attempts", o.attempts},
        {"last_problem", o.last_problem},
        {"created_at", format_time(o.created_at)},
        {"updated_at", format_time(o.updated_at)},
    };
}

json event_json(const core::event_record& e)
{
    return {
        {"id", e.id},
        {"at", format_time(e.at)},
        {"certificate_id", e.certificate_id ? json(*e.certificate_id) : json()},
        {"kind", e.kind},
        {"message", e.message},
    };
}

json token_json(const core::api_token& t)
{
    return {
        {"id", t.id},
        {"name", t.name},
        {"scope", t.scope},
        {"created_at", format_time(t.created_at)},
        {"expires_at", time_or_null(t.expires_at)},
        {"revoked_at", time_or_null(t.revoked_at)},
    };
}

json planned_json(const planned_renewal& p)
{
    return {
        {"id", p.id},         {"names", p.names}, {"renew_at", format_time(p.renew_at)},
        {"reason", p.reason}, {"alert", p.alert},
    };
}

json acmedns_account_json(const dns::acmedns_account& a)
{
    json values = json::array();
    for (const auto& v : a.values) {
        values.push_back(
            {{"txt", v.value},
             {"updated_at", format_time(v.updated_at)},
             {"expires_at", format_time(v.expires_at)}}
        );
    }
    return {
        {"username", a.username},
        {"subdomain", a.subdomain},
        {"fulldomain", a.fulldomain},
        {"allowfrom", a.allowfrom},
        {"created_at", format_time(a.created_at)},
        {"created_by", a.created_by},
        {"values", values},
    };
}

json schemas()
{
    const json nullable_time = nullable("string");
    json s;
    s["Health"] = object_schema({{"status", string_type}}, json::array({"status"}));
    s["Session"] = object_schema(
        {{"name", string_type},
         {"scope", string_type},
         {"server_time", string_type},
         {"api_version", string_type}},
        json::array({"name", "scope", "server_time", "api_version"})
    );
    s["Domain"] = object_schema(
        {{"name", string_type},
         {"label", string_type},
         {"target", string_type},
         {"record", string_type},
         {"check", string_type},
         {"check_detail", string_type},
         {"checked_at", nullable_time},
         {"added", boolean_type}},
        json::array({"name", "label", "target", "record"})
    );
    s["DomainPage"] = page_schema("Domain");
    s["DomainCreate"] = object_schema({{"name", string_type}}, json::array({"name"}));
    s["Removed"] = object_schema({{"removed", string_type}}, json::array({"removed"}));
    s["CheckRequest"] = object_schema({{"names", string_list}}, json::array());
    s["CheckReport"] = object_schema(
        {{"ok", boolean_type},
         {"results", array_of(object_schema(
                         {{"name", string_type},
                          {"check", string_type},
                          {"ok", boolean_type},
                          {"status", string_type},
                          {"detail", string_type}},
                         json::array({"name", "check", "ok", "status", "detail"})
                     ))}},
        json::array({"ok", "results"})
    );
    s["Certificate"] = object_schema(
        {{"id", integer_type},
         {"names", string_list},
         {"key_type", string_type},
         {"ca", string_type},
         {"profile", nullable("string")},
         {"state", string_type},
         {"next_attempt_at", nullable_time},
         {"failures", integer_type},
         {"last_problem", string_type},
         {"alert", boolean_type},
         {"created_at", string_type},
         {"serial", nullable("string")},
         {"sha256", nullable("string")},
         {"not_before", nullable_time},
         {"not_after", nullable_time},
         {"ari_window", {{"type", json::array({"array", "null"})}, {"items", string_type}}}},
        json::array({"id", "names", "key_type", "ca", "state"})
    );
    s["CertificatePage"] = page_schema("Certificate");
    s["CertificateCreate"] = object_schema(
        {{"names", string_list},
         {"key_type", string_type},
         {"ca", string_type},
         {"profile", string_type}},
        json::array({"names"})
    );
    s["Version"] = object_schema(
        {{"id", integer_type},
         {"serial", string_type},
         {"sha256", string_type},
         {"not_before", string_type},
         {"not_after", string_type},
         {"issued_at", string_type},
         {"ari_window_start", nullable_time},
         {"ari_window_end", nullable_time}},
        json::array({"id", "serial", "sha256", "not_before", "not_after"})
    );
    s["VersionList"] = object_schema({{"items", array_of(ref("Version"))}}, json::array({"items"}));
    s["Order"] = object_schema(
        {{"id", integer_type},
         {"certificate_id", integer_type},
         {"state", string_type},
         {"url", string_type},
         {"authorizations", string_list},
         {"finalize_url", string_type},
         {"certificate_url", string_type},
         {"replaces", nullable("string")},
         {"attempts", integer_type},
         {"last_problem", string_type},
         {"created_at", string_type},
         {"updated_at", string_type}},
        json::array({"id", "certificate_id", "state"})
    );
    s["OrderList"] = object_schema({{"items", array_of(ref("Order"))}}, json::array({"items"}));
    s["Event"] = object_schema(
        {{"id", integer_type},
         {"at", string_type},
         {"certificate_id", nullable("integer")},
         {"kind", string_type},
         {"message", string_type}},
        json::array({"id", "at", "kind", "message"})
    );
    s["EventPage"] = page_schema("Event");
    s["CertificateDetail"] = {
        {"allOf",
         json::array(
             {ref("Certificate"),
              object_schema(
                  {{"versions", array_of(ref("Version"))},
                   {"open_order", {{"oneOf", json::array({ref("Order"), {{"type", "null"}}})}}},
                   {"events", array_of(ref("Event"))}},
                  json::array({"versions", "open_order", "events"})
              )}
         )}};
    s["CertificateCreated"] = object_schema(
        {{"id", integer_type}, {"names", string_list}, {"server_notified", boolean_type}},
        json::array({"id", "names"})
    );
    s["Revocation"] = object_schema({{"reason", string_type}}, json::array());
    s["Revoked"] = object_schema(
        {{"id", integer_type}, {"serial", string_type}, {"reason", string_type}},
        json::array({"id", "serial", "reason"})
    );
    s["RenewalRequest"] = object_schema(
        {{"all", boolean_type},
         {"names", string_list},
         {"ids", array_of(integer_type)},
         {"dry_run", boolean_type}},
        json::array()
    );
    s["Planned"] = object_schema(
        {{"id", integer_type},
         {"names", string_list},
         {"renew_at", string_type},
         {"reason", string_type},
         {"alert", boolean_type}},
        json::array({"id", "names", "renew_at", "reason"})
    );
    s["RunResult"] = object_schema(
        {{"id", integer_type},
         {"names", string_list},
         {"outcome", string_type},
         {"problem", string_type},
         {"next_attempt_at", integer_type}, // Unix seconds
         {"serial", string_type},
         {"not_after", integer_type},
         {"alert", boolean_type},
         {"duration_ms", integer_type}},
        json::array({"id", "names", "outcome"})
    );
    s["RenewalReport"] = object_schema(
        {{"started", string_type},
         {"dry_run", boolean_type},
         {"planned", array_of(ref("Planned"))},
         {"results", array_of(ref("RunResult"))}},
        json::array({"started", "planned", "results"})
    );
    s["Status"] = object_schema(
        {{"certificates", integer_type},
         {"by_state", {{"type", "object"}, {"additionalProperties", integer_type}}},
         {"next_renewals", array_of({{"type", "object"}})},
         {"failures", array_of({{"type", "object"}})},
         {"alerts", array_of({{"type", "object"}})},
         {"earliest_expiry", nullable_time}},
        json::array({"certificates", "by_state", "next_renewals", "failures", "alerts"})
    );
    s["Token"] = object_schema(
        {{"id", integer_type},
         {"name", string_type},
         {"scope", string_type},
         {"created_at", string_type},
         {"expires_at", nullable_time},
         {"revoked_at", nullable_time}},
        json::array({"id", "name", "scope", "created_at"})
    );
    s["AcmednsRegistration"] = object_schema(
        {{"username", string_type},
         {"subdomain", string_type},
         {"fulldomain", string_type},
         {"allowfrom", string_list},
         {"created_at", string_type},
         {"created_by", string_type},
         {"values",
          array_of(object_schema(
              {{"txt", string_type}, {"updated_at", string_type}, {"expires_at", string_type}},
              json::array({"txt", "updated_at", "expires_at"})
          ))}},
        json::array({"username", "subdomain", "fulldomain", "allowfrom", "values"})
    );
    s["AcmednsRegistrationList"] =
        object_schema({{"items", array_of(ref("AcmednsRegistration"))}}, json::array({"items"}));
    s["TokenList"] = object_schema({{"items", array_of(ref("Token"))}}, json::array({"items"}));
    s["TokenCreate"] = object_schema(
        {{"name", string_type},
         {"scope",
          {{"type", "string"}, {"enum", json::array({"read", "renew", "admin", "register"})}}},
         {"expires_in_seconds", integer_type}},
        json::array({"name", "scope"})
    );
    s["TokenCreated"] = {
        {"allOf",
         json::array({ref("Token"), object_schema({{"token", string_type}}, json::array({"token"}))}
         )}};
    return s;
}

parsed_body object_body(const api_call& call, bool optional)
{
    parsed_body out;
    if (call.request.body.empty() && optional) {
        out.value = json::object();
        return out;
    }
    out.value = json::parse(call.request.body, nullptr, false);
    if (out.value.is_discarded() || !out.value.is_object()) {
        out.error = bad_request("the request body must be a JSON object");
    }
    return out;
}

std::optional<core::row_id> parse_id(std::string_view text)
{
    return positive_integer(text);
}

std::optional<core::row_id> id_parameter(const api_call& call, std::string_view name)
{
    const auto it = call.path.find(std::string(name));
    if (it == call.path.end()) {
        return std::nullopt;
    }
    return positive_integer(it->second);
}

std::optional<page_request> page_parameters(const api_call& call, net::server_response& error)
{
    page_request p;
    if (auto limit = call.request.query_parameter("limit")) {
        auto n = positive_integer(*limit);
        if (!n || static_cast<std::size_t>(*n) > max_page) {
            error = bad_request("limit must be an integer from 1 to " + std::to_string(max_page));
            return std::nullopt;
        }
        p.limit = static_cast<std::size_t>(*n);
    }
    if (auto cursor = call.request.query_parameter("cursor")) {
        p.cursor = *cursor;
    }
    return p;
}

json page(json items, const std::optional<std::string>& next)
{
    return {{"items", std::move(items)}, {"next_cursor", next ? json(*next) : json()}};
}

std::optional<core::row_id> cursor_id(const page_request& p)
{
    if (p.cursor.empty()) {
        return core::row_id{0};
    }
    const auto id = positive_integer(p.cursor);
    if (!id) {
        return std::nullopt;
    }
    return *id;
}

net::server_response store_failure(const boost::system::error_code& ec)
{
    if (ec == core::errc::storage_full) {
        return api_error(507, "storage_full", "the server's disk is full; nothing was changed");
    }
    if (ec == core::errc::busy) {
        auto r = api_error(503, "busy", "the store is busy; retry");
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    return api_error(500, "storage_failure", "the store failed: " + ec.message());
}

net::server_response bad_request(std::string_view message)
{
    return api_error(400, "invalid_request", message);
}

} // namespace certfleet::app::rest
