#pragma once
// Registrations of the acme-dns compatible API over the store: what POST /register, the
// `certfleet acmedns` commands and the REST API share. These functions return data; they print
// and log nothing, and they do not touch the DNS zone (acmedns_api does, for its own process).
//
// Errors: the store's (core/store.hpp), not_found for an unknown username (also for a text that
// is not a UUID), and core::errc::crypto_failure when no random bytes can be had.

#include <boost/system/result.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/secret.hpp"
#include "core/store.hpp"
#include "dns/ip_network.hpp"

namespace certfleet::dns {

// What a new registration hands its client, once: the key is never stored or shown again.
struct acmedns_credentials
{
    std::string username;
    core::secret key; // 40 characters
    std::string subdomain;
    std::string fulldomain; // <subdomain>.<zone>: what the customer's CNAME points at
    std::vector<std::string> allowfrom;
};

// A registration as operators see it: never its key, nor the key's hash.
struct acmedns_account
{
    std::string username;
    std::string subdomain;
    std::string fulldomain;
    std::vector<std::string> allowfrom;
    core::time_point created_at{};
    std::string created_by;
    std::vector<core::acmedns_value> values; // live TXT values, oldest first
};

// Draws a username, a key and a subdomain and stores the registration (the key as its SHA-256).
// `zone`: the challenge zone, lower case, without the final dot.
[[nodiscard]] boost::system::result<acmedns_credentials> create_acmedns_account(
    core::store& store,
    std::string_view zone,
    const std::vector<ip_network>& allowfrom,
    std::string created_by,
    core::time_point now
);

[[nodiscard]] boost::system::result<std::vector<acmedns_account>>
list_acmedns_accounts(core::store& store, std::string_view zone);

[[nodiscard]] boost::system::result<acmedns_account>
describe_acmedns_account(core::store& store, std::string_view zone, std::string_view username);

// Removes the registration and its values from the store.
[[nodiscard]] boost::system::result<void>
delete_acmedns_account(core::store& store, std::string_view username);

// "<subdomain>.<zone>".
[[nodiscard]] std::string acmedns_fulldomain(std::string_view subdomain, std::string_view zone);

} // namespace certfleet::dns
