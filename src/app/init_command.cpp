// certfleet init: a commented configuration, the master key (0600) and the database. Never
// overwrites anything: each file is created exclusively.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/self_signed.hpp"
#include "core/key_vault.hpp"
#include "core/sqlite_store.hpp"

namespace certfleet::app {
namespace {

struct init_options
{
    std::string dir = ".";
    std::string config_file; // an existing configuration: create only its key and database
    std::string zone = "acme.example.net";
    std::vector<std::string> listen{"127.0.0.1:53", "[::1]:53"};
    std::vector<std::string> name_server_addresses{"192.0.2.53"};
    std::string directory = "https://acme-v02.api.letsencrypt.org/directory";
    std::string ca_bundle;
    std::vector<std::string> contact;
    std::vector<std::string> resolvers;
    std::vector<std::string> api_listen{"127.0.0.1:8443", "[::1]:8443"};
};

// The API's self-signed certificate and key, when [api] uses one and they are not there yet.
int create_api_certificate(const server_settings& settings)
{
    const auto& api = settings.api;
    std::error_code exists;
    // tls = "acme" serves it too, until its own certificate is first issued.
    if (!api.enabled || (api.tls != "self-signed" && api.tls != "acme") ||
        std::filesystem::exists(api.cert_file, exists)) {
        return exit_ok;
    }
    auto key = core::private_key::generate(core::key_type::ec_p256);
    core::self_signed_request request;
    request.dns_names = {"localhost"};
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' &&
        std::string(host) != "localhost") {
        request.dns_names.emplace_back(host);
    }
    request.ip_addresses = {"127.0.0.1", "::1"};
    for (const auto& endpoint : api.listen) {
        const auto address = endpoint.address();
        if (!address.is_unspecified() && !address.is_loopback()) {
            request.ip_addresses.push_back(address.to_string());
        }
    }
    auto pem = key ? core::make_self_signed_certificate(*key, request)
                   : boost::system::result<std::string>(key.error());
    if (!pem) {
        std::cerr << "certfleet: cannot make the API's certificate: " << pem.error().message()
                  << '\n';
        return exit_failure;
    }
    const auto key_pem = core::secret::adopt(key->to_pem());
    if (auto ec = core::create_file_exclusively(api.key_file, key_pem.view(), 0600)) {
        std::cerr << "certfleet: cannot create " << api.key_file << ": " << ec.message() << '\n';
        return exit_failure;
    }
    if (auto ec = core::create_file_exclusively(api.cert_file, *pem, 0644)) {
        std::cerr << "certfleet: cannot create " << api.cert_file << ": " << ec.message() << '\n';
        return exit_failure;
    }
    auto parsed = core::parse_pem_chain(*pem);
    std::cout << "API certificate: " << api.cert_file
              << " (self-signed; pin it with --ca-fingerprint "
              << (parsed ? core::to_hex(parsed->front().sha256_fingerprint) : std::string("?"))
              << ")\n";
    return exit_ok;
}

std::string quoted_list(const std::vector<std::string>& items)
{
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "\"" : ", \"") + items[i] + "\"";
    }
    return out + "]";
}

std::string config_text(const init_options& o)
{
    std::string text = R"(# certfleet configuration. Relative paths are relative to this file.

[store]
database = "certfleet.db"          # SQLite, WAL mode; `certfleet backup FILE` copies it live
master_key_file = "master.key"     # seals every private key; CERTFLEET_MASTER_KEY overrides it

[dns]                              # the authoritative DNS of the delegated challenge zone
listen = )" + quoted_list(o.listen) +
                       R"(
challenge_ttl = 10

[[dns.zone]]
apex = ")" + o.zone + R"("
soa = { mname = "ns1", rname = "hostmaster.)" +
                       o.zone + R"(.", serial = 1, minimum = 10 }
ns = [ { name = "ns1", addresses = )" +
                       quoted_list(o.name_server_addresses) + R"( } ]

[acme]                             # the CA named "default"; more CAs as [[ca]] tables with a name
directory = ")" + o.directory +
                       "\"\n";
    if (!o.ca_bundle.empty()) {
        text += "ca_bundle = \"" + o.ca_bundle + "\"\n";
    }
    text += "contact = " + quoted_list(o.contact) + R"(
# caa_identities = ["letsencrypt.org"]   # the CA's CAA names, when its directory has none
max_concurrent_orders = 8

[preflight]                        # before any order: the CNAME and CAA of every name
resolvers = )" +
            quoted_list(o.resolvers) +
            R"(              # host:port; empty: the system's resolvers
delegation = true
caa = true

[renewal]
max_jitter_s = 3600
first_backoff_s = 300
max_backoff_s = 14400

[api]                              # REST API, /metrics; tokens: certfleet token create
listen = )" +
            quoted_list(o.api_listen) +
            R"(
tls = "self-signed"                # api-cert.pem, made by init (pin its SHA-256); or "files"
                                   # (cert_file, key_file), "acme" (name = ...), "off"
# public_metrics = false           # true: /metrics without a token

# The acme-dns compatible API, for lego, acme.sh, certbot and other acme-dns clients:
# [acmedns]
# listen = ["127.0.0.1:8053"]
# registration = "closed"          # "closed": tokens of scope register, register_from; "open"; "disabled"
# register_from = ["127.0.0.0/8"]
# tls_certificate = "acmedns.pem"  # with tls_key: HTTPS
# tls_key = "acmedns.key"
)";
    return text;
}

int create_state_files(const server_settings& settings)
{
    if (auto ec = core::key_vault::create_file(settings.master_key_file)) {
        std::cerr << "certfleet: cannot create the master key " << settings.master_key_file << ": "
                  << ec.message()
                  << (ec == boost::system::errc::file_exists
                          ? "\ninit never replaces a master key: the stored keys depend on it. "
                            "Remove it yourself only if the database is new too.\n"
                          : "\nCheck the directory and its permissions.\n");
        return exit_failure;
    }
    std::error_code exists;
    if (std::filesystem::exists(settings.database, exists)) {
        std::cerr << "certfleet: " << settings.database
                  << " exists already: init never replaces a database.\n";
        return exit_failure;
    }
    try {
        auto opened = open_state(settings, true);
    } catch (const std::exception& e) {
        std::cerr << "certfleet: " << e.what() << '\n';
        return exit_failure;
    }
    ::chmod(settings.database.c_str(), 0600);
    std::cout << "master key: " << settings.master_key_file << " (0600; back it up apart from the "
              << "database)\ndatabase:   " << settings.database << '\n';
    return create_api_certificate(settings);
}

int run_init(const init_options& o)
{
    if (!o.config_file.empty()) {
        return with_settings(o.config_file, [](const server_settings& s) {
            return create_state_files(s);
        });
    }
    const std::filesystem::path dir(o.dir);
    if (auto ec = core::ensure_directory(dir, 0700)) {
        std::cerr << "certfleet: cannot create " << dir << ": " << ec.message() << '\n';
        return exit_failure;
    }
    const auto config = dir / "certfleet.toml";
    if (auto ec = core::create_file_exclusively(config, config_text(o), 0600)) {
        std::cerr << "certfleet: cannot create " << config << ": " << ec.message()
                  << (ec == boost::system::errc::file_exists
                          ? "\ninit never overwrites: edit the file, or choose another --dir.\n"
                          : "\n");
        return exit_failure;
    }
    std::cout << "configuration: " << config << '\n';
    return with_settings(config.string(), [](const server_settings& s) {
        return create_state_files(s);
    });
}

} // namespace

void add_init_command(CLI::App& app, command_runner& run)
{
    auto o = std::make_shared<init_options>();
    auto* cmd = app.add_subcommand(
        "init", "Create a commented configuration, the master key (0600) and the database"
    );
    cmd->add_option("--dir", o->dir, "Directory for the three files (created 0700)");
    cmd->add_option(
           "-c,--config", o->config_file,
           "Use this existing configuration: create only its master key and database"
    )
        ->check(CLI::ExistingFile);
    cmd->add_option("--zone", o->zone, "The delegated challenge zone");
    cmd->add_option("--listen", o->listen, "DNS listen addresses (host:port)");
    cmd->add_option("--ns-address", o->name_server_addresses, "Public addresses of ns1.<zone>");
    cmd->add_option("--directory", o->directory, "The ACME directory URL");
    cmd->add_option("--ca-bundle", o->ca_bundle, "PEM bundle to trust for the CA's HTTPS");
    cmd->add_option("--contact", o->contact, "Account contact, e.g. mailto:ops@example.com");
    cmd->add_option("--resolver", o->resolvers, "Preflight resolver host:port");
    cmd->add_option("--api-listen", o->api_listen, "HTTPS API listen addresses (host:port)");
    cmd->callback([o, &run] { run = [o] { return run_init(*o); }; });
}

} // namespace certfleet::app
