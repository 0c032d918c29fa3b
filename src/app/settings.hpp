#pragma once
// Everything `certfleet serve` and the store-backed commands read from the configuration file:
// the DNS authority ([dns]), where the state lives ([store]), the CAs ([acme] is the CA named
// "default"; more as [[ca]] tables), the preflight ([preflight]), renewal timing ([renewal])
// domains seeded into the store ([[domain]]) and the acme-dns compatible API ([acmedns]).
// Throws core::config_error naming the key.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "acme/client.hpp"
#include "core/renewal_policy.hpp"
#include "dns/acmedns_options.hpp"
#include "dns/config.hpp"

namespace certfleet::app {

struct ca_settings
{
    std::string name = "default";
    std::string directory;
    std::optional<std::string> ca_bundle;
    std::vector<std::string> contact;
    std::optional<acme::external_account_binding> eab;
    // The CA's issuer domain names for CAA (RFC 8659 4.2); empty: the directory's caaIdentities.
    std::vector<std::string> caa_identities;
    unsigned max_concurrent_orders = 8;
    std::optional<std::string> preferred_chain;
};

struct seeded_domain
{
    std::string name;
    std::string label;
    std::string where; // "domain[2]", for errors naming both places
};

struct preflight_settings
{
    bool delegation = true;
    bool caa = true;
    std::vector<std::string> resolvers; // host:port; empty: the system's
    std::chrono::milliseconds timeout{2000};
};

// The acme-dns compatible API on its own listener: plain HTTP (loopback, or behind a proxy that
// terminates TLS), or HTTPS when a certificate and its key are given.
struct acmedns_settings
{
    bool enabled = false;
    std::vector<boost::asio::ip::tcp::endpoint> listen;
    std::filesystem::path tls_certificate; // the chain, PEM; empty: plain HTTP
    std::filesystem::path tls_key;
    dns::acmedns_options api;
};

// The HTTPS API listener ([api]); serve runs it when the section is present.
struct api_settings
{
    bool enabled = false;
    std::vector<boost::asio::ip::tcp::endpoint> listen;
    // "self-signed": the certificate `certfleet init` made (cert_file, key_file); "files": the
    // operator's; "acme": issued for `name` through our own zone and renewed like any other
    // (the self-signed one serves until the first is issued); "off": plain HTTP (behind a
    // TLS-terminating proxy, or on loopback).
    std::string tls = "self-signed";
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    std::string name; // tls = "acme"
    // The URL agents reach the API at ("https://certfleet.example.net:8443"), written into join
    // tokens; empty: https:// and the first listen address.
    std::string url;
    bool public_metrics = false; // /metrics without a token
    std::size_t max_connections = 1024;
    // Connections one source address may hold: agents behind one NAT address each hold one.
    std::size_t max_connections_per_source = 256;
    std::uint64_t max_body_bytes = 1024 * 1024;
    // Failed authentications one source address may make at once, and how many per minute after.
    unsigned failed_auth_burst = 10;
    unsigned failed_auth_per_minute = 10;
};

struct server_settings
{
    dns::dns_config dns;
    std::filesystem::path config_file; // empty: the embedded defaults
    std::filesystem::path config_dir;  // where the file's relative paths lead
    bool backend = false; // a [store] section: serve runs the issuance backend, not DNS alone
    std::filesystem::path database;
    std::filesystem::path master_key_file;
    std::filesystem::path control_socket; // beside the database
    std::string challenge_zone;           // where labels live: the first dns.zone apex
    std::vector<ca_settings> cas;
    // [acme] account_key: the file the one-shot `issue` keeps the account's key in.
    std::optional<std::filesystem::path> account_key_file;
    std::vector<seeded_domain> domains;
    preflight_settings preflight;
    core::renewal_policy_options renewal;
    std::chrono::seconds order_timeout{600};
    api_settings api;
    acmedns_settings acmedns;
};

// `file` empty: $CERTFLEET_CONFIG, else ./certfleet.toml when it exists, else the embedded
// defaults.
[[nodiscard]] server_settings load_settings(const std::string& file);

[[nodiscard]] const ca_settings* find_ca(const server_settings& s, std::string_view name);

// "<label>.<zone>" without a final dot.
[[nodiscard]] std::string delegation_target(const server_settings& s, std::string_view label);

// The configuration file a command uses when none is given.
[[nodiscard]] std::string default_config_file();

} // namespace certfleet::app
