#include "acme/directory.hpp"

#include <algorithm>
#include <array>

#include "acme/errc.hpp"
#include "acme/problem.hpp"
#include "net/url.hpp"

namespace certfleet::acme {
namespace {

using detail::content;
using detail::presence;
using value_t = nlohmann::json::value_t;

constexpr std::size_t max_caa_identities = 100;
constexpr std::size_t max_profiles = 100;

struct url_field
{
    std::string_view key;
    std::string directory::*target;
    presence p;
};

boost::system::result<directory_meta> parse_meta(const nlohmann::json& meta) noexcept
{
    directory_meta out;
    auto tos = detail::string_member(meta, "termsOfService", presence::optional);
    if (!tos) {
        return tos.error();
    }
    out.terms_of_service = tos->value_or("");
    auto website = detail::string_member(meta, "website", presence::optional);
    if (!website) {
        return website.error();
    }
    out.website = website->value_or("");
    auto caa =
        detail::string_array_member(meta, "caaIdentities", max_caa_identities, presence::optional);
    if (!caa) {
        return caa.error();
    }
    out.caa_identities = std::move(*caa);
    auto eab =
        detail::member(meta, "externalAccountRequired", value_t::boolean, presence::optional);
    if (!eab) {
        return eab.error();
    }
    out.external_account_required = *eab != nullptr && (*eab)->get<bool>();

    // draft-ietf-acme-profiles 3: "profiles" maps each profile name to a human-readable
    // description (often a URL).
    auto profiles = detail::member(meta, "profiles", value_t::object, presence::optional);
    if (!profiles) {
        return profiles.error();
    }
    if (*profiles != nullptr) {
        if ((*profiles)->size() > max_profiles) {
            return make_error_code(errc::value_too_large);
        }
        for (const auto& [name, description] : (*profiles)->items()) {
            if (!description.is_string() || name.empty()) {
                return make_error_code(errc::malformed_response);
            }
            const auto& text = description.get_ref<const std::string&>();
            if (name.size() > detail::max_string_size || text.size() > detail::max_string_size) {
                return make_error_code(errc::value_too_large);
            }
            out.profiles.emplace_back(name, text);
        }
    }
    return out;
}

} // namespace

bool directory::has_profile(std::string_view name) const noexcept
{
    return std::any_of(meta.profiles.begin(), meta.profiles.end(), [&](const auto& p) {
        return p.first == name;
    });
}

boost::system::result<directory> parse_directory(std::string_view body) noexcept
{
    auto doc = detail::parse_object(body);
    if (!doc) {
        return doc.error();
    }
    static constexpr std::array<url_field, 7> fields{{
        {"newNonce", &directory::new_nonce, presence::required},
        {"newAccount", &directory::new_account, presence::required},
        {"newOrder", &directory::new_order, presence::required},
        {"revokeCert", &directory::revoke_cert, presence::required},
        {"keyChange", &directory::key_change, presence::required},
        {"newAuthz", &directory::new_authz, presence::optional},
        {"renewalInfo", &directory::renewal_info, presence::optional},
    }};
    directory out;
    for (const auto& f : fields) {
        auto url = detail::string_member(*doc, f.key, f.p, content::http_url);
        if (!url) {
            return url.error();
        }
        out.*f.target = url->value_or("");
    }
    auto meta = detail::member(*doc, "meta", value_t::object, presence::optional);
    if (!meta) {
        return meta.error();
    }
    if (*meta != nullptr) {
        auto m = parse_meta(**meta);
        if (!m) {
            return m.error();
        }
        out.meta = std::move(*m);
    }
    return out;
}

bool transport_allowed(std::string_view url) noexcept
{
    const auto u = net::parse_url(url);
    return !u || u->scheme == "https" || u->host_is_loopback();
}

std::optional<std::string> first_refused_url(const directory& d)
{
    for (const std::string* url :
         {&d.new_nonce, &d.new_account, &d.new_order, &d.revoke_cert, &d.key_change, &d.new_authz,
          &d.renewal_info}) {
        if (!url->empty() && !transport_allowed(*url)) {
            return *url;
        }
    }
    return std::nullopt;
}

} // namespace certfleet::acme
