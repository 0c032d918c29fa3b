#include "dns/acmedns_accounts.hpp"

#include "core/crypto/hash.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "dns/acmedns_rules.hpp"

namespace certfleet::dns {
namespace {

constexpr std::size_t key_length = 40; // what acme-dns clients expect (and check)

acmedns_account account_of(const core::acmedns_registration& r, std::string_view zone)
{
    acmedns_account a;
    a.username = r.username;
    a.subdomain = r.subdomain;
    a.fulldomain = acmedns_fulldomain(r.subdomain, zone);
    a.allowfrom = r.allowfrom;
    a.created_at = r.created_at;
    a.created_by = r.created_by;
    return a;
}

} // namespace

std::string acmedns_fulldomain(std::string_view subdomain, std::string_view zone)
{
    return std::string(subdomain) + "." + std::string(zone);
}

boost::system::result<acmedns_credentials> create_acmedns_account(
    core::store& store,
    std::string_view zone,
    const std::vector<ip_network>& allowfrom,
    std::string created_by,
    core::time_point now
)
{
    auto username = core::random_uuid();
    auto subdomain = core::random_uuid();
    auto key = core::random_password(key_length);
    if (!username || !subdomain || !key) {
        return make_error_code(core::errc::crypto_failure);
    }
    core::acmedns_registration r;
    r.username = *username;
    r.key_sha256 = core::sha256(key->view());
    r.subdomain = *subdomain;
    for (const auto& n : allowfrom) {
        r.allowfrom.push_back(n.text());
    }
    r.created_at = now;
    r.created_by = std::move(created_by);
    if (auto added = store.add_acmedns_registration(r); !added) {
        return added.error();
    }
    acmedns_credentials c;
    c.username = std::move(r.username);
    c.key = std::move(*key);
    c.fulldomain = acmedns_fulldomain(r.subdomain, zone);
    c.subdomain = std::move(r.subdomain);
    c.allowfrom = std::move(r.allowfrom);
    return c;
}

boost::system::result<std::vector<acmedns_account>>
list_acmedns_accounts(core::store& store, std::string_view zone)
{
    auto registrations = store.list_acmedns_registrations();
    if (!registrations) {
        return registrations.error();
    }
    auto values = store.acmedns_values();
    if (!values) {
        return values.error();
    }
    std::vector<acmedns_account> out;
    out.reserve(registrations->size());
    for (const auto& r : *registrations) {
        out.push_back(account_of(r, zone));
        for (const auto& v : *values) {
            if (v.username == r.username) {
                out.back().values.push_back(v);
            }
        }
    }
    return out;
}

boost::system::result<acmedns_account>
describe_acmedns_account(core::store& store, std::string_view zone, std::string_view username)
{
    const auto canonical = canonical_uuid(username);
    if (!canonical) {
        return make_error_code(core::errc::not_found);
    }
    auto r = store.find_acmedns_registration(*canonical);
    if (!r) {
        return r.error();
    }
    auto values = store.acmedns_values();
    if (!values) {
        return values.error();
    }
    auto a = account_of(*r, zone);
    for (auto& v : *values) {
        if (v.username == a.username) {
            a.values.push_back(std::move(v));
        }
    }
    return a;
}

boost::system::result<void> delete_acmedns_account(core::store& store, std::string_view username)
{
    const auto canonical = canonical_uuid(username);
    if (!canonical) {
        return make_error_code(core::errc::not_found);
    }
    return store.remove_acmedns_registration(*canonical);
}

} // namespace certfleet::dns
