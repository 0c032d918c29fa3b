// The acme-dns API: routing, registration, the zone kept in step with the store. The update
// path lives in acmedns_update.cpp.
#include "dns/acmedns_api.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <nlohmann/json.hpp>

#include "core/errc.hpp"
#include "dns/acmedns_accounts.hpp"
#include "dns/acmedns_rules.hpp"

namespace certfleet::dns {
namespace {

namespace http = boost::beast::http;

net::server_response json_response(unsigned status, std::string body)
{
    net::server_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

// The allowfrom list of a /register body; nullopt when the body is not what acme-dns decodes
// (a JSON object, or null, whose allowfrom is an array of strings, or null).
std::optional<std::vector<std::string>> requested_allowfrom(std::string_view body)
{
    std::vector<std::string> out;
    if (body.empty()) {
        return out;
    }
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !(j.is_object() || j.is_null())) {
        return std::nullopt;
    }
    const auto* list = acmedns_field(j, "allowfrom");
    if (list == nullptr || list->is_null()) {
        return out;
    }
    if (!list->is_array()) {
        return std::nullopt;
    }
    for (const auto& item : *list) {
        if (!item.is_string()) {
            return std::nullopt;
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::string address_text(const boost::asio::ip::address& a)
{
    return unmapped(a).to_string();
}

} // namespace

net::server_response acmedns_error(unsigned status, std::string_view code)
{
    // Byte for byte acme-dns's body; the codes are ours, never text from a request.
    return json_response(status, "{\"error\": \"" + std::string(code) + "\"}");
}

acmedns_api::acmedns_api(acmedns_options options, acmedns_ports ports)
    : options_(std::move(options)), ports_(std::move(ports))
{}

net::server_response acmedns_api::handle(const net::server_request& request)
{
    const auto route = [&](http::verb method, auto&& serve) {
        if (request.method != method) {
            auto r = acmedns_error(405, "method_not_allowed");
            r.headers.emplace_back("Allow", std::string(http::to_string(method)));
            return r;
        }
        return serve();
    };
    if (request.path == "/update") {
        return route(http::verb::post, [&] { return update(request); });
    }
    if (request.path == "/register" &&
        options_.registration != acmedns_registration_policy::disabled) {
        return route(http::verb::post, [&] { return register_account(request); });
    }
    if (request.path == "/health") {
        return route(http::verb::get, [] { return json_response(200, ""); });
    }
    return acmedns_error(404, "not_found");
}

std::optional<boost::asio::ip::address> acmedns_api::source(const net::server_request& request
) const
{
    if (options_.proxy_header.empty()) {
        return unmapped(request.peer);
    }
    const auto header = request.header(options_.proxy_header);
    if (!header) {
        return std::nullopt;
    }
    // The last entry is the one our proxy added; those before it come from the client.
    auto last = std::string(header->substr(header->rfind(',') + 1));
    boost::algorithm::trim(last);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(last, ec);
    if (ec) {
        return std::nullopt;
    }
    return unmapped(address);
}

std::string acmedns_api::describe_source(const net::server_request& request) const
{
    std::string text = address_text(request.peer);
    if (!options_.proxy_header.empty()) {
        const auto s = source(request);
        text += s ? " (" + options_.proxy_header + " " + address_text(*s) + ")"
                  : " (no usable " + options_.proxy_header + ")";
    }
    return text;
}

// Who may register: nullopt (with the reason) or how the caller was let in, for created_by.
std::optional<std::string>
acmedns_api::registration_grant(const net::server_request& request, std::string& reason) const
{
    const auto from = describe_source(request);
    if (options_.registration == acmedns_registration_policy::open) {
        return "api from " + from;
    }
    if (const auto authorization = request.header("Authorization");
        authorization && boost::algorithm::istarts_with(*authorization, "Bearer ")) {
        auto token = std::string(authorization->substr(7));
        boost::algorithm::trim(token);
        if (ports_.may_register && ports_.may_register(token)) {
            return "api token from " + from;
        }
        reason = "the bearer token may not register";
        return std::nullopt;
    }
    const auto address = source(request);
    for (const auto& n : options_.register_from) {
        if (address && n.contains(*address)) {
            return "api from " + from;
        }
    }
    reason = "registration is closed: no bearer token, and the source is not in register_from";
    return std::nullopt;
}

net::server_response acmedns_api::register_account(const net::server_request& request)
{
    std::string reason;
    auto grant = registration_grant(request, reason);
    if (!grant) {
        ++stats_.registrations_forbidden;
        log(acmedns_log_level::warning,
            "acme-dns: registration refused from " + describe_source(request) + ": " + reason);
        return acmedns_error(401, "forbidden");
    }
    const auto allowfrom = requested_allowfrom(request.body);
    if (!allowfrom) {
        ++stats_.registrations_bad_request;
        log(acmedns_log_level::info, "acme-dns: registration from " + describe_source(request) +
                                         ": the body is not a JSON object with an allowfrom list");
        return acmedns_error(400, "malformed_json_payload");
    }
    std::vector<ip_network> networks;
    for (const auto& text : *allowfrom) {
        auto n = ip_network::parse(text);
        if (!n || networks.size() == options_.max_allowfrom) {
            ++stats_.registrations_bad_request;
            log(acmedns_log_level::info,
                "acme-dns: registration from " + describe_source(request) +
                    (n ? ": more than " + std::to_string(options_.max_allowfrom) +
                             " allowfrom networks"
                       : ": an allowfrom entry is not a network in CIDR notation"));
            return acmedns_error(400, "invalid_allowfrom_cidr");
        }
        networks.push_back(std::move(*n));
    }
    auto created =
        create_acmedns_account(ports_.store, options_.zone, networks, *grant, ports_.clock());
    if (!created) {
        ++stats_.registrations_failed;
        log(acmedns_log_level::error,
            "acme-dns: cannot store a registration: " + created.error().message());
        return acmedns_error(500, "db_error");
    }
    ++stats_.registrations_ok;
    log(acmedns_log_level::info, "acme-dns: registered user " + created->username + " at " +
                                     created->fulldomain + " (" + *grant + ")");
    nlohmann::ordered_json body{
        {"username", created->username},     {"password", std::string(created->key.view())},
        {"fulldomain", created->fulldomain}, {"subdomain", created->subdomain},
        {"allowfrom", created->allowfrom},
    };
    return json_response(201, body.dump());
}

bool acmedns_api::sync()
{
    const auto expired = ports_.store.purge_acmedns_values(ports_.clock());
    const auto live = ports_.store.acmedns_values();
    if (!expired || !live) {
        log(acmedns_log_level::error, "acme-dns: cannot read the stored TXT values: " +
                                          (expired ? live.error() : expired.error()).message());
        return false;
    }
    stats_.values_expired += expired->size();
    std::set<std::pair<std::string, std::string>> wanted;
    for (const auto& v : *live) {
        wanted.emplace(acmedns_fulldomain(v.subdomain, options_.zone), v.value);
    }
    for (const auto& p : published_) {
        if (!wanted.contains(p)) {
            ports_.board.cleanup(p.first, p.second);
        }
    }
    std::size_t added = 0;
    for (auto it = wanted.begin(); it != wanted.end();) {
        if (published_.contains(*it)) {
            ++it;
        } else if (auto ec = ports_.board.present(it->first, it->second, options_.ttl)) {
            log(acmedns_log_level::error,
                "acme-dns: cannot serve a TXT value at " + it->first + ": " + ec.message());
            it = wanted.erase(it);
        } else {
            ++added;
            ++it;
        }
    }
    if (!expired->empty() || added > 0) {
        log(acmedns_log_level::debug,
            "acme-dns: " + std::to_string(expired->size()) + " TXT value(s) expired, " +
                std::to_string(added) + " served anew, " + std::to_string(wanted.size()) + " live");
    }
    published_ = std::move(wanted);
    return true;
}

boost::system::result<void> acmedns_api::remove(std::string_view username)
{
    const auto canonical = canonical_uuid(username);
    if (!canonical) {
        return make_error_code(core::errc::not_found);
    }
    auto r = ports_.store.find_acmedns_registration(*canonical);
    if (!r) {
        return r.error();
    }
    if (auto removed = ports_.store.remove_acmedns_registration(*canonical); !removed) {
        return removed;
    }
    const auto fqdn = acmedns_fulldomain(r->subdomain, options_.zone);
    for (auto it = published_.begin(); it != published_.end();) {
        if (it->first == fqdn) {
            ports_.board.cleanup(it->first, it->second);
            it = published_.erase(it);
        } else {
            ++it;
        }
    }
    log(acmedns_log_level::info, "acme-dns: deleted user " + *canonical);
    return {};
}

void acmedns_api::log(acmedns_log_level level, std::string_view line) const
{
    if (ports_.log) {
        ports_.log(level, line);
    }
}

} // namespace certfleet::dns
