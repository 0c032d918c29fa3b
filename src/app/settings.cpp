#include "app/settings.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <map>

#include "app/config_file.hpp"
#include "core/challenge_name.hpp"
#include "core/config_error.hpp"
#include "core/config_values.hpp"
#include "dns/name.hpp"
#include "dns/server.hpp"

namespace certfleet::app {
namespace {

using core::config_error;

ca_settings
parse_ca(const toml::table& t, const std::string& path, const std::filesystem::path& base)
{
    ca_settings ca;
    ca.name = core::optional_string(t, "name", path).value_or("default");
    ca.directory = core::required_string(t, "directory", path);
    if (auto bundle = core::optional_string(t, "ca_bundle", path)) {
        ca.ca_bundle = (base / *bundle).string();
    }
    ca.contact = core::string_array(t, "contact", path);
    if (const auto* eab = t.get_as<toml::table>("eab")) {
        ca.eab = acme::external_account_binding{
            core::required_string(*eab, "key_id", path + ".eab"),
            core::required_string(*eab, "hmac_key", path + ".eab")};
    }
    ca.caa_identities = core::string_array(t, "caa_identities", path);
    ca.max_concurrent_orders =
        core::config_integer<unsigned>(t, "max_concurrent_orders", path, ca.max_concurrent_orders);
    if (ca.max_concurrent_orders == 0) {
        throw config_error(path + ".max_concurrent_orders: must be at least 1");
    }
    ca.preferred_chain = core::optional_string(t, "preferred_chain", path);
    return ca;
}

std::vector<ca_settings> parse_cas(const toml::table& root, const std::filesystem::path& base)
{
    std::vector<ca_settings> cas;
    if (const auto* acme = root.get_as<toml::table>("acme")) {
        cas.push_back(parse_ca(*acme, "acme", base));
    }
    if (const auto* list = root.get_as<toml::array>("ca")) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string path = "ca[" + std::to_string(i) + "]";
            const auto* t = (*list)[i].as_table();
            if (t == nullptr) {
                throw config_error(path + ": expected a table { name = ..., directory = ... }");
            }
            cas.push_back(parse_ca(*t, path, base));
        }
    }
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < cas.size(); ++i) {
        const std::string where = i == 0 && root.contains("acme") ? "acme" : "ca";
        if (!seen.emplace(cas[i].name, where).second) {
            throw config_error(
                "two CAs are named '" + cas[i].name + "' (" + seen[cas[i].name] + " and " + where +
                "): give each its own name"
            );
        }
    }
    return cas;
}

std::string label_of_target(std::string target, const std::string& zone, const std::string& path)
{
    target = core::lower_name(target);
    const std::string suffix = "." + zone;
    if (target.size() <= suffix.size() || !target.ends_with(suffix)) {
        throw config_error(
            path + ".target: '" + target + "' is not a label in the challenge zone " + zone
        );
    }
    auto label = target.substr(0, target.size() - suffix.size());
    if (label.find('.') != std::string::npos) {
        throw config_error(path + ".target: '" + target + "' must be one label under " + zone);
    }
    return label;
}

std::vector<seeded_domain> parse_domains(const toml::table& root, const std::string& zone)
{
    std::vector<seeded_domain> out;
    const auto* list = root.get_as<toml::array>("domain");
    if (list == nullptr) {
        return out;
    }
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string path = "domain[" + std::to_string(i) + "]";
        const auto* t = (*list)[i].as_table();
        if (t == nullptr) {
            throw config_error(path + ": expected a table { name = ..., target = ... }");
        }
        seeded_domain d;
        d.name = core::lower_name(core::required_string(*t, "name", path));
        d.where = path;
        d.label = label_of_target(core::required_string(*t, "target", path), zone, path);
        if (auto [it, fresh] = seen.emplace(d.name, path); !fresh) {
            throw config_error(
                "the domain " + d.name + " is listed twice: " + it->second + " and " + path +
                ". Keep one."
            );
        }
        out.push_back(std::move(d));
    }
    return out;
}

preflight_settings parse_preflight(const toml::table& root)
{
    preflight_settings p;
    const auto* t = root.get_as<toml::table>("preflight");
    if (t == nullptr) {
        return p;
    }
    p.delegation = t->get("delegation") == nullptr || t->get("delegation")->value_or(true);
    p.caa = t->get("caa") == nullptr || t->get("caa")->value_or(true);
    p.resolvers = core::string_array(*t, "resolvers", "preflight");
    p.timeout = std::chrono::milliseconds(
        core::config_integer<unsigned>(*t, "timeout_ms", "preflight", 2000)
    );
    return p;
}

api_settings parse_api(const toml::table& root, const std::filesystem::path& database)
{
    api_settings a;
    const auto* t = root.get_as<toml::table>("api");
    if (t == nullptr) {
        return a;
    }
    a.enabled = true;
    const auto listen = core::string_array(*t, "listen", "api");
    for (const auto& text : listen.empty() ? std::vector<std::string>{"127.0.0.1:8443"} : listen) {
        auto endpoint = dns::parse_endpoint(text, 8443);
        if (!endpoint) {
            throw config_error(
                "api.listen: '" + text +
                "' is not an address with an optional port (\"127.0.0.1:8443\", \"[::1]:8443\")"
            );
        }
        a.listen.emplace_back(endpoint->address(), endpoint->port());
    }
    a.tls = core::optional_string(*t, "tls", "api").value_or("self-signed");
    if (a.tls != "self-signed" && a.tls != "files" && a.tls != "acme" && a.tls != "off") {
        throw config_error("api.tls: '" + a.tls + "' is not one of self-signed, files, acme, off");
    }
    const auto dir = database.parent_path();
    a.cert_file =
        core::optional_string(*t, "cert_file", "api").value_or((dir / "api-cert.pem").string());
    a.key_file =
        core::optional_string(*t, "key_file", "api").value_or((dir / "api-key.pem").string());
    if (a.cert_file.is_relative()) {
        a.cert_file = dir / a.cert_file;
    }
    if (a.key_file.is_relative()) {
        a.key_file = dir / a.key_file;
    }
    a.name = core::lower_name(core::optional_string(*t, "name", "api").value_or(""));
    if (a.tls == "acme" && a.name.empty()) {
        throw config_error(
            "api.name: tls = \"acme\" needs the name to issue the API's certificate for"
        );
    }
    a.url = core::optional_string(*t, "url", "api").value_or("");
    if (!a.url.empty() && !a.url.starts_with("https://")) {
        throw config_error("api.url: agents speak HTTPS only: give an https:// URL");
    }
    a.public_metrics =
        t->get("public_metrics") != nullptr && t->get("public_metrics")->value_or(false);
    a.max_connections = core::config_integer<unsigned>(*t, "max_connections", "api", 1024);
    a.max_connections_per_source =
        core::config_integer<unsigned>(*t, "max_connections_per_source", "api", 256);
    a.max_body_bytes = core::config_integer<unsigned>(*t, "max_body_bytes", "api", 1024 * 1024);
    a.failed_auth_burst = core::config_integer<unsigned>(*t, "failed_auth_burst", "api", 10);
    a.failed_auth_per_minute =
        core::config_integer<unsigned>(*t, "failed_auth_per_minute", "api", 10);
    if (a.max_connections == 0 || a.max_connections_per_source == 0 || a.max_body_bytes == 0 ||
        a.failed_auth_burst == 0 || a.failed_auth_per_minute == 0) {
        throw config_error("api: max_connections, max_connections_per_source, max_body_bytes, "
                           "failed_auth_burst and failed_auth_per_minute must be at least 1");
    }
    return a;
}

core::renewal_policy_options parse_renewal(const toml::table& root)
{
    core::renewal_policy_options r;
    const auto* t = root.get_as<toml::table>("renewal");
    if (t == nullptr) {
        return r;
    }
    r.max_jitter =
        std::chrono::seconds(core::config_integer<unsigned>(*t, "max_jitter_s", "renewal", 3600));
    r.first_backoff =
        std::chrono::seconds(core::config_integer<unsigned>(*t, "first_backoff_s", "renewal", 300));
    r.max_backoff = std::chrono::seconds(
        core::config_integer<unsigned>(*t, "max_backoff_s", "renewal", 4 * 3600)
    );
    if (r.first_backoff.count() == 0 || r.max_backoff < r.first_backoff) {
        throw config_error("renewal: first_backoff_s must be at least 1 and at most max_backoff_s");
    }
    return r;
}

bool config_bool(const toml::table& t, std::string_view key, const std::string& path, bool fallback)
{
    const auto* node = t.get(key);
    if (node == nullptr) {
        return fallback;
    }
    if (!node->is_boolean()) {
        throw config_error(path + "." + std::string(key) + ": expected true or false");
    }
    return node->value_or(fallback);
}

dns::acmedns_registration_policy registration_policy(const toml::table& t)
{
    const auto text = core::optional_string(t, "registration", "acmedns").value_or("closed");
    if (text == "closed") {
        return dns::acmedns_registration_policy::closed;
    }
    if (text == "open") {
        return dns::acmedns_registration_policy::open;
    }
    if (text == "disabled") {
        return dns::acmedns_registration_policy::disabled;
    }
    throw config_error(
        "acmedns.registration: '" + text +
        "' is not one of \"closed\" (tokens and register_from), \"open\" (anyone), \"disabled\""
    );
}

std::vector<boost::asio::ip::tcp::endpoint> acmedns_listen(const toml::table& t)
{
    std::vector<boost::asio::ip::tcp::endpoint> out;
    for (const auto& text : core::string_array(t, "listen", "acmedns")) {
        const auto endpoint = dns::parse_endpoint(text, 0);
        if (!endpoint || endpoint->port() == 0) {
            throw config_error(
                "acmedns.listen: '" + text +
                "' is not an address with a port (\"127.0.0.1:8053\", \"[::1]:8053\")"
            );
        }
        out.emplace_back(endpoint->address(), endpoint->port());
    }
    if (out.empty()) {
        throw config_error(
            "acmedns.listen: missing; give the addresses of the API, e.g. [\"127.0.0.1:8053\"]"
        );
    }
    return out;
}

// [acmedns]: off unless the section is there (and not `enabled = false`).
acmedns_settings
parse_acmedns(const toml::table& root, const std::filesystem::path& base, const server_settings& s)
{
    acmedns_settings a;
    const auto* t = root.get_as<toml::table>("acmedns");
    if (t == nullptr) {
        return a;
    }
    a.enabled = config_bool(*t, "enabled", "acmedns", true);
    if (!a.enabled) {
        return a;
    }
    if (!s.backend) {
        throw config_error("acmedns: the acme-dns API keeps its registrations in the store: add "
                           "a [store] section");
    }
    a.listen = acmedns_listen(*t);
    const auto certificate = core::optional_string(*t, "tls_certificate", "acmedns");
    const auto key = core::optional_string(*t, "tls_key", "acmedns");
    if (certificate.has_value() != key.has_value()) {
        throw config_error("acmedns.tls_certificate and acmedns.tls_key go together: give both "
                           "for HTTPS, or neither for plain HTTP");
    }
    if (certificate) {
        a.tls_certificate = base / *certificate;
        a.tls_key = base / *key;
    }
    auto& api = a.api;
    api.zone = s.challenge_zone;
    api.ttl = s.dns.challenge_ttl;
    api.registration = registration_policy(*t);
    const auto networks = core::string_array(*t, "register_from", "acmedns");
    for (std::size_t i = 0; i < networks.size(); ++i) {
        auto n = dns::ip_network::parse(networks[i]);
        if (!n) {
            throw config_error(
                "acmedns.register_from[" + std::to_string(i) + "]: '" + networks[i] +
                "' is not a network in CIDR notation (\"192.0.2.0/24\", \"2001:db8::/32\")"
            );
        }
        api.register_from.push_back(std::move(*n));
    }
    api.proxy_header = core::optional_string(*t, "proxy_header", "acmedns").value_or("");
    if (api.proxy_header.find_first_of(" \t\r\n:") != std::string::npos) {
        throw config_error("acmedns.proxy_header: expected a header name, e.g. X-Forwarded-For");
    }
    api.value_lifetime = std::chrono::seconds(
        core::config_integer<std::uint32_t>(*t, "value_lifetime_s", "acmedns", 3600)
    );
    api.max_values = core::config_integer<std::uint16_t>(*t, "max_values", "acmedns", 8);
    if (api.value_lifetime.count() == 0 || api.max_values == 0) {
        throw config_error("acmedns: value_lifetime_s and max_values must be at least 1");
    }
    return a;
}

} // namespace

std::string default_config_file()
{
    if (const char* env = std::getenv("CERTFLEET_CONFIG"); env != nullptr && *env != '\0') {
        return env;
    }
    std::error_code ec;
    if (std::filesystem::is_regular_file("certfleet.toml", ec)) {
        return "certfleet.toml";
    }
    return {};
}

server_settings load_settings(const std::string& file)
{
    const std::string chosen = file.empty() ? default_config_file() : file;
    const auto loaded = load_config(chosen);
    const auto& root = loaded.table;
    server_settings s;
    s.config_file = chosen;
    s.config_dir = loaded.base_dir;
    s.dns = dns::parse_dns_config(root, loaded.base_dir);
    if (s.dns.zones.empty()) {
        throw config_error("dns.zone: at least one zone is needed, to hold the challenge labels");
    }
    s.challenge_zone = core::lower_name(dns::name_to_text(s.dns.zones.front()->apex()));
    const auto* store = root.get_as<toml::table>("store");
    s.backend = store != nullptr;
    const toml::table empty;
    const auto& st = store != nullptr ? *store : empty;
    s.database =
        loaded.base_dir / core::optional_string(st, "database", "store").value_or("certfleet.db");
    s.master_key_file =
        loaded.base_dir /
        core::optional_string(st, "master_key_file", "store").value_or("master.key");
    s.control_socket = s.database;
    s.control_socket += ".sock";
    s.cas = parse_cas(root, loaded.base_dir);
    if (const auto* acme = root.get_as<toml::table>("acme")) {
        if (auto key = core::optional_string(*acme, "account_key", "acme")) {
            s.account_key_file = loaded.base_dir / *key;
        }
    }
    s.domains = parse_domains(root, s.challenge_zone);
    s.preflight = parse_preflight(root);
    s.renewal = parse_renewal(root);
    s.api = parse_api(root, s.database);
    if (const auto* issuance = root.get_as<toml::table>("issuance")) {
        s.order_timeout = std::chrono::seconds(
            core::config_integer<unsigned>(*issuance, "order_timeout_s", "issuance", 600)
        );
    }
    s.acmedns = parse_acmedns(root, loaded.base_dir, s);
    return s;
}

const ca_settings* find_ca(const server_settings& s, std::string_view name)
{
    for (const auto& ca : s.cas) {
        if (ca.name == name) {
            return &ca;
        }
    }
    return nullptr;
}

std::string delegation_target(const server_settings& s, std::string_view label)
{
    return std::string(label) + "." + s.challenge_zone;
}

} // namespace certfleet::app
