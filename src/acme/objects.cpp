#include "acme/objects.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "acme/errc.hpp"

namespace certfleet::acme {
namespace {

using detail::content;
using detail::presence;
using value_t = nlohmann::json::value_t;

constexpr std::size_t max_identifiers = 100;
constexpr std::size_t max_authorizations = 100;
constexpr std::size_t max_challenges = 20;
constexpr std::size_t max_contacts = 100;
constexpr std::size_t min_token_size = 22; // ceil(128 / 6), RFC 8555 8.1

constexpr std::array<std::string_view, 8> status_names{
    "pending", "ready", "processing", "valid", "invalid", "deactivated", "expired", "revoked",
};

// RFC 8555 7.1.6: which statuses each object can be in.
constexpr std::initializer_list<status> order_states{
    status::pending, status::ready, status::processing, status::valid, status::invalid,
};
constexpr std::initializer_list<status> authorization_states{
    status::pending,     status::valid,   status::invalid,
    status::deactivated, status::expired, status::revoked,
};
constexpr std::initializer_list<status> challenge_states{
    status::pending,
    status::processing,
    status::valid,
    status::invalid,
};
constexpr std::initializer_list<status> account_states{
    status::valid,
    status::deactivated,
    status::revoked,
};

// Challenge types whose token the client uses (RFC 8555 8.3, 8.4; RFC 8737 3).
constexpr std::array<std::string_view, 3> token_challenge_types{"http-01", "dns-01", "tls-alpn-01"};

boost::system::result<status>
read_status(const nlohmann::json& obj, std::initializer_list<status> allowed) noexcept
{
    auto s = detail::string_member(obj, "status", presence::required);
    if (!s) {
        return s.error();
    }
    const auto value = status_from_string(**s);
    if (!value || std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
        return make_error_code(errc::malformed_response);
    }
    return *value;
}

boost::system::result<identifier> read_identifier(const nlohmann::json& value) noexcept
{
    if (!value.is_object()) {
        return make_error_code(errc::malformed_response);
    }
    auto type = detail::string_member(value, "type", presence::required);
    if (!type) {
        return type.error();
    }
    auto v = detail::string_member(value, "value", presence::required);
    if (!v) {
        return v.error();
    }
    return identifier{std::move(**type), std::move(**v)};
}

// An optional "error" member: a problem document, read leniently once it is an object.
boost::system::result<std::optional<problem>> read_error(const nlohmann::json& obj) noexcept
{
    auto e = detail::member(obj, "error", value_t::object, presence::optional);
    if (!e) {
        return e.error();
    }
    if (*e == nullptr) {
        return std::optional<problem>{};
    }
    return std::optional<problem>{detail::problem_from_json(**e, 0)};
}

boost::system::result<challenge> read_challenge(const nlohmann::json& obj) noexcept
{
    if (!obj.is_object()) {
        return make_error_code(errc::malformed_response);
    }
    challenge c;
    auto type = detail::string_member(obj, "type", presence::required);
    if (!type) {
        return type.error();
    }
    c.type = std::move(**type);
    auto url = detail::string_member(obj, "url", presence::required, content::http_url);
    if (!url) {
        return url.error();
    }
    c.url = std::move(**url);
    auto state = read_status(obj, challenge_states);
    if (!state) {
        return state.error();
    }
    c.state = *state;
    const bool uses_token =
        std::find(token_challenge_types.begin(), token_challenge_types.end(), c.type) !=
        token_challenge_types.end();
    auto token =
        detail::string_member(obj, "token", uses_token ? presence::required : presence::optional);
    if (!token) {
        return token.error();
    }
    if (*token) {
        // The token goes into a key authorization, a hash and a DNS record: only base64url.
        if (!is_valid_token(**token)) {
            return make_error_code(errc::malformed_response);
        }
        c.token = std::move(**token);
    }
    auto error = read_error(obj);
    if (!error) {
        return error.error();
    }
    c.error = std::move(*error);
    return c;
}

} // namespace

std::optional<status> status_from_string(std::string_view s) noexcept
{
    for (std::size_t i = 0; i < status_names.size(); ++i) {
        if (status_names[i] == s) {
            return static_cast<status>(i);
        }
    }
    return std::nullopt;
}

std::string_view to_string(status s) noexcept
{
    const auto i = static_cast<std::size_t>(s);
    return i < status_names.size() ? status_names[i] : std::string_view("unknown");
}

bool is_valid_token(std::string_view token) noexcept
{
    return token.size() >= min_token_size && std::all_of(token.begin(), token.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
           });
}

const challenge* authorization::find(std::string_view type) const noexcept
{
    const auto it = std::find_if(challenges.begin(), challenges.end(), [&](const challenge& c) {
        return c.type == type;
    });
    return it == challenges.end() ? nullptr : &*it;
}

boost::system::result<order> parse_order(std::string_view body) noexcept
{
    auto doc = detail::parse_object(body);
    if (!doc) {
        return doc.error();
    }
    const auto& obj = *doc;
    order o;
    auto state = read_status(obj, order_states);
    if (!state) {
        return state.error();
    }
    o.state = *state;
    auto expires = detail::string_member(obj, "expires", presence::optional);
    if (!expires) {
        return expires.error();
    }
    o.expires = std::move(*expires);

    auto ids = detail::member(obj, "identifiers", value_t::array, presence::required);
    if (!ids) {
        return ids.error();
    }
    if ((*ids)->size() > max_identifiers) {
        return make_error_code(errc::value_too_large);
    }
    if ((*ids)->empty()) {
        return make_error_code(errc::malformed_response);
    }
    for (const auto& value : **ids) {
        auto id = read_identifier(value);
        if (!id) {
            return id.error();
        }
        o.identifiers.push_back(std::move(*id));
    }

    auto authz = detail::string_array_member(
        obj, "authorizations", max_authorizations, presence::required, content::http_url
    );
    if (!authz) {
        return authz.error();
    }
    o.authorizations = std::move(*authz);
    auto finalize = detail::string_member(obj, "finalize", presence::required, content::http_url);
    if (!finalize) {
        return finalize.error();
    }
    o.finalize = std::move(**finalize);
    auto certificate =
        detail::string_member(obj, "certificate", presence::optional, content::http_url);
    if (!certificate) {
        return certificate.error();
    }
    o.certificate = std::move(*certificate);
    auto error = read_error(obj);
    if (!error) {
        return error.error();
    }
    o.error = std::move(*error);
    auto replaces = detail::string_member(obj, "replaces", presence::optional);
    if (!replaces) {
        return replaces.error();
    }
    o.replaces = std::move(*replaces);
    auto profile = detail::string_member(obj, "profile", presence::optional);
    if (!profile) {
        return profile.error();
    }
    o.profile = std::move(*profile);
    return o;
}

boost::system::result<authorization> parse_authorization(std::string_view body) noexcept
{
    auto doc = detail::parse_object(body);
    if (!doc) {
        return doc.error();
    }
    const auto& obj = *doc;
    authorization a;
    auto id = detail::member(obj, "identifier", value_t::object, presence::required);
    if (!id) {
        return id.error();
    }
    auto ident = read_identifier(**id);
    if (!ident) {
        return ident.error();
    }
    a.id = std::move(*ident);
    auto state = read_status(obj, authorization_states);
    if (!state) {
        return state.error();
    }
    a.state = *state;
    auto expires = detail::string_member(obj, "expires", presence::optional);
    if (!expires) {
        return expires.error();
    }
    a.expires = std::move(*expires);
    auto wildcard = detail::member(obj, "wildcard", value_t::boolean, presence::optional);
    if (!wildcard) {
        return wildcard.error();
    }
    a.wildcard = *wildcard != nullptr && (*wildcard)->get<bool>();

    auto challenges = detail::member(obj, "challenges", value_t::array, presence::required);
    if (!challenges) {
        return challenges.error();
    }
    if ((*challenges)->size() > max_challenges) {
        return make_error_code(errc::value_too_large);
    }
    for (const auto& value : **challenges) {
        auto c = read_challenge(value);
        if (!c) {
            return c.error();
        }
        a.challenges.push_back(std::move(*c));
    }
    return a;
}

boost::system::result<challenge> parse_challenge(std::string_view body) noexcept
{
    auto doc = detail::parse_object(body);
    if (!doc) {
        return doc.error();
    }
    return read_challenge(*doc);
}

boost::system::result<account> parse_account(std::string_view body) noexcept
{
    auto doc = detail::parse_object(body);
    if (!doc) {
        return doc.error();
    }
    const auto& obj = *doc;
    account a;
    auto state = read_status(obj, account_states);
    if (!state) {
        return state.error();
    }
    a.state = *state;
    auto contact = detail::string_array_member(obj, "contact", max_contacts, presence::optional);
    if (!contact) {
        return contact.error();
    }
    a.contact = std::move(*contact);
    auto orders = detail::string_member(obj, "orders", presence::optional, content::http_url);
    if (!orders) {
        return orders.error();
    }
    a.orders = std::move(*orders);
    return a;
}

nlohmann::json new_order_payload(
    const std::vector<identifier>& identifiers,
    const std::optional<std::string>& replaces,
    const std::optional<std::string>& profile
)
{
    auto ids = nlohmann::json::array();
    for (const auto& id : identifiers) {
        ids.push_back({{"type", id.type}, {"value", id.value}});
    }
    nlohmann::json payload{{"identifiers", std::move(ids)}};
    if (replaces) {
        payload["replaces"] = *replaces;
    }
    if (profile) {
        payload["profile"] = *profile;
    }
    return payload;
}

nlohmann::json new_account_payload(
    const std::vector<std::string>& contact, bool terms_agreed, bool only_return_existing
)
{
    auto payload = nlohmann::json::object();
    if (!contact.empty()) {
        payload["contact"] = contact;
    }
    if (terms_agreed) {
        payload["termsOfServiceAgreed"] = true;
    }
    if (only_return_existing) {
        payload["onlyReturnExisting"] = true;
    }
    return payload;
}

std::vector<identifier> dns_identifiers(const std::vector<std::string>& names)
{
    std::vector<identifier> out;
    out.reserve(names.size());
    for (const auto& name : names) {
        out.push_back(identifier{"dns", name});
    }
    return out;
}

} // namespace certfleet::acme
