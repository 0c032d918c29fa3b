// POST /update: authenticate the caller as acme-dns does (user, key, source, subdomain), then
// store the TXT value and serve it at once.
#include <nlohmann/json.hpp>

#include "core/crypto/hash.hpp"
#include "core/errc.hpp"
#include "dns/acmedns_accounts.hpp"
#include "dns/acmedns_api.hpp"
#include "dns/acmedns_rules.hpp"

namespace certfleet::dns {
namespace {

struct update_body
{
    std::string subdomain;
    std::string txt;
    bool json = false; // false: not a JSON object at all
};

// What acme-dns reads of the body: a member of the wrong type reads as empty, as Go's decoder
// leaves a field it cannot fill.
update_body parse_update(std::string_view text)
{
    update_body out;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return out;
    }
    out.json = true;
    if (const auto* s = acmedns_field(j, "subdomain"); s != nullptr && s->is_string()) {
        out.subdomain = s->get<std::string>();
    }
    if (const auto* t = acmedns_field(j, "txt"); t != nullptr && t->is_string()) {
        out.txt = t->get<std::string>();
    }
    return out;
}

// acme-dns's rule: an empty list, or one without a valid entry, allows any source.
bool source_allowed(
    const std::vector<std::string>& allowfrom, const std::optional<boost::asio::ip::address>& from
)
{
    bool limited = false;
    for (const auto& text : allowfrom) {
        const auto n = ip_network::parse(text);
        if (!n) {
            continue;
        }
        limited = true;
        if (from && n->contains(*from)) {
            return true;
        }
    }
    return !limited;
}

} // namespace

net::server_response acmedns_api::update(const net::server_request& request)
{
    const auto from = describe_source(request);
    const auto refuse = [&](const std::string& why) {
        ++stats_.updates_forbidden;
        log(acmedns_log_level::warning, "acme-dns: update refused from " + from + ": " + why);
        return acmedns_error(401, "forbidden");
    };
    const auto bad = [&](std::string_view code, const std::string& why) {
        ++stats_.updates_bad_request;
        log(acmedns_log_level::info, "acme-dns: update from " + from + ": " + why);
        return acmedns_error(400, code);
    };
    const auto user_header = request.header("X-Api-User");
    const auto username = user_header ? canonical_uuid(*user_header) : std::nullopt;
    if (!username) {
        return refuse("X-Api-User is missing or not a UUID");
    }
    const auto key = request.header("X-Api-Key");
    if (!key || !valid_acmedns_key(*key)) {
        return refuse("the X-Api-Key of user " + *username + " is missing or malformed");
    }
    const auto presented = core::sha256(*key);
    const auto found = ports_.store.find_acmedns_registration(*username);
    if (!found && found.error() != core::errc::not_found) {
        ++stats_.updates_failed;
        log(acmedns_log_level::error,
            "acme-dns: cannot read user " + *username + ": " + found.error().message());
        return acmedns_error(500, "db_error");
    }
    // Compared for an unknown user too, so that the time taken does not tell who exists.
    static const std::string nobody(32, '\0');
    const bool key_matches =
        core::constant_time_equal(presented, found ? found->key_sha256 : nobody);
    if (!found) {
        return refuse("unknown user " + *username);
    }
    if (!key_matches) {
        return refuse("wrong key for user " + *username);
    }
    if (!source_allowed(found->allowfrom, source(request))) {
        return refuse("source not allowed for user " + *username + " (allowfrom)");
    }
    const auto body = parse_update(request.body);
    if (body.subdomain != found->subdomain) {
        // Not a label at all is a bad request; another registration's label is forbidden.
        if (!body.subdomain.empty() && !valid_acmedns_subdomain(body.subdomain)) {
            return bad("bad_subdomain", "the subdomain of user " + *username + " is not a label");
        }
        return refuse(
            "subdomain mismatch for user " + *username +
            (body.json ? "" : " (the body is not a JSON object)")
        );
    }
    if (!valid_acmedns_txt(body.txt)) {
        return bad(
            "bad_txt", "the TXT value of user " + *username + " is not 43 characters of base64url"
        );
    }
    return publish(*found, body.txt);
}

net::server_response acmedns_api::publish(const core::acmedns_registration& r, std::string_view txt)
{
    const auto now = ports_.clock();
    const core::acmedns_value value{
        r.username, r.subdomain, std::string(txt), now, now + options_.value_lifetime};
    const auto dropped = ports_.store.put_acmedns_value(value, options_.max_values);
    if (!dropped) {
        ++stats_.updates_failed;
        log(acmedns_log_level::error, "acme-dns: cannot store a TXT value of user " + r.username +
                                          ": " + dropped.error().message());
        return acmedns_error(500, "db_error");
    }
    const auto fqdn = acmedns_fulldomain(r.subdomain, options_.zone);
    for (const auto& old : *dropped) {
        ports_.board.cleanup(fqdn, old.value);
        published_.erase({fqdn, old.value});
    }
    if (auto ec = ports_.board.present(fqdn, txt, options_.ttl)) {
        ++stats_.updates_failed;
        log(acmedns_log_level::error,
            "acme-dns: cannot serve a TXT value at " + fqdn + ": " + ec.message());
        return acmedns_error(500, "db_error");
    }
    published_.emplace(fqdn, txt);
    ++stats_.updates_ok;
    log(acmedns_log_level::info,
        "acme-dns: user " + r.username + " set a TXT value at " + fqdn +
            (dropped->empty() ? "" : " (replacing " + std::to_string(dropped->size()) + ")"));
    net::server_response response;
    response.body = "{\"txt\": \"" + std::string(txt) + "\"}"; // acme-dns's body; txt is checked
    return response;
}

} // namespace certfleet::dns
