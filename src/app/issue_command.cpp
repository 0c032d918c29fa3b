#include <toml++/toml.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "acme/client.hpp"
#include "app/authority.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/log.hpp"
#include "core/atomic_file.hpp"
#include "core/challenge_name.hpp"
#include "core/challenge_redirect.hpp"
#include "core/config_error.hpp"
#include "core/config_values.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/secret.hpp"
#include "dns/config.hpp"
#include "dns/server.hpp"

namespace certfleet::app {
namespace {

struct issue_options
{
    std::string config_file;
    std::vector<std::string> names;
    std::string out_dir = ".";
    std::string key_type = "ec-p256";
    bool verbose = false;
};

struct acme_settings
{
    std::string directory;
    std::optional<std::string> ca_bundle;
    std::vector<std::string> contact;
    std::filesystem::path account_key_file;
    std::optional<acme::external_account_binding> eab;
    std::map<std::string, std::string> delegations; // managed name → CNAME target
};

acme_settings parse_acme_settings(const toml::table& root, const std::filesystem::path& base)
{
    acme_settings s;
    const auto* acme = root.get_as<toml::table>("acme");
    if (acme == nullptr) {
        throw core::config_error("acme: missing section [acme] (directory = \"https://...\")");
    }
    s.directory = core::required_string(*acme, "directory", "acme");
    if (auto bundle = core::optional_string(*acme, "ca_bundle", "acme")) {
        s.ca_bundle = (base / *bundle).string();
    }
    s.contact = core::string_array(*acme, "contact", "acme");
    s.account_key_file =
        base / core::optional_string(*acme, "account_key", "acme").value_or("account.key");
    if (const auto* eab = acme->get_as<toml::table>("eab")) {
        s.eab = acme::external_account_binding{
            core::required_string(*eab, "key_id", "acme.eab"),
            core::required_string(*eab, "hmac_key", "acme.eab")};
    }
    const auto* domains = root.get_as<toml::array>("domain");
    if (domains != nullptr) {
        for (std::size_t i = 0; i < domains->size(); ++i) {
            const std::string path = "domain[" + std::to_string(i) + "]";
            const auto* t = (*domains)[i].as_table();
            if (t == nullptr) {
                throw core::config_error(path + ": expected a table { name = ..., target = ... }");
            }
            s.delegations[core::managed_name_for(core::required_string(*t, "name", path))] =
                core::required_string(*t, "target", path);
        }
    }
    return s;
}

// The account key: read when anything is at the path (an unreadable file or a dangling symlink
// is an error, never a reason to make another account), created exclusively only when nothing
// is there.
boost::system::result<core::private_key>
load_or_create_account_key(const std::filesystem::path& file)
{
    std::error_code status_error;
    const auto status = std::filesystem::symlink_status(file, status_error);
    if (status.type() != std::filesystem::file_type::not_found) {
        std::ifstream in(file);
        if (!in) {
            return boost::system::error_code(
                errno != 0 ? errno : EACCES, boost::system::generic_category()
            );
        }
        std::stringstream pem;
        pem << in.rdbuf();
        return core::private_key::from_pem(pem.str());
    }
    auto key = core::private_key::generate(core::key_type::ec_p256);
    if (!key) {
        return key.error();
    }
    if (auto ec = core::create_file_exclusively(file, key->to_pem(), 0600)) {
        return ec;
    }
    return key;
}

int issue(const issue_options& options)
{
    if (options.verbose) {
        set_log_level(level::debug);
    }
    const auto type = core::key_type_from_string(options.key_type);
    if (!type) {
        std::cerr << "certfleet: --key-type '" << options.key_type
                  << "' is not one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096\n";
        return exit_usage;
    }
    dns::dns_config dns_config;
    acme_settings settings;
    try {
        const auto loaded = load_config(options.config_file);
        dns_config = dns::parse_dns_config(loaded.table, loaded.base_dir);
        settings = parse_acme_settings(loaded.table, loaded.base_dir);
    } catch (const core::config_error& e) {
        std::cerr << "certfleet: configuration error: " << e.what()
                  << "\nFix the file and run again.\n";
        return exit_usage;
    }
    for (const auto& name : options.names) {
        const auto bare = core::managed_name_for(name);
        if (!settings.delegations.contains(bare)) {
            std::cerr << "certfleet: " << name
                      << " has no [[domain]] entry: add one with its CNAME target "
                      << "(name = \"" << bare
                      << "\", target = \"<label>.<our zone>\") and create the CNAME "
                      << core::challenge_name_for(name) << " at its DNS provider.\n";
            return exit_usage;
        }
    }

    auto account_key = load_or_create_account_key(settings.account_key_file);
    if (!account_key) {
        std::cerr << "certfleet: cannot use the account key " << settings.account_key_file << ": "
                  << account_key.error().message()
                  << "\nA key that exists is never replaced: fix its permissions or the path "
                     "(acme.account_key), or move it away to register a new account.\n";
        return exit_failure;
    }

    boost::asio::io_context io(1);
    authority dns_authority(io, dns_config);
    if (!dns_authority.start()) {
        return exit_failure;
    }
    core::challenge_redirect board(
        dns_authority.challenges(),
        [&](std::string_view fqdn) -> std::optional<std::string> {
            const auto name = core::managed_name_of(fqdn);
            if (!name) {
                return std::nullopt;
            }
            const auto it = settings.delegations.find(*name);
            if (it == settings.delegations.end()) {
                return std::nullopt;
            }
            return it->second;
        }
    );

    net::http_client_options http_options;
    http_options.ca_file = settings.ca_bundle;
    std::optional<net::http_client> http;
    try {
        http.emplace(io.get_executor(), http_options);
    } catch (const std::exception& e) {
        std::cerr << "certfleet: " << e.what() << "\nCheck acme.ca_bundle.\n";
        return exit_usage;
    }
    acme::client client(*http, std::move(*account_key), acme::client_options{settings.directory});

    int exit_code = exit_failure;
    nlohmann::json summary;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            acme::account_options account_options;
            account_options.contact = settings.contact;
            account_options.agree_to_terms = true;
            account_options.eab = settings.eab;
            auto account = co_await client.register_account(std::move(account_options));
            if (!account) {
                std::cerr << "certfleet: " << account.error().message() << "\n";
                dns_authority.stop();
                co_return;
            }
            log(level::info, "account " + account->url);
            acme::order_request request;
            request.names = options.names;
            request.key_type = *type;
            request.challenge_ttl = dns_config.challenge_ttl;
            auto issued = co_await client.issue(std::move(request), board);
            dns_authority.stop();
            if (!issued) {
                std::cerr << "certfleet: issuance failed: " << issued.error().message() << "\n";
                if (auto retry = issued.error().retry_after()) {
                    std::cerr << "The CA asks to retry in " << retry->count() << " s.\n";
                }
                co_return;
            }
            const std::filesystem::path dir(options.out_dir);
            const auto chain = core::parse_pem_chain(issued->certificate_pem);
            const auto key_pem = core::secret::adopt(issued->key.to_pem());
            // Both or neither: a full disk leaves the old pair in place, never a new
            // certificate beside an old key. Existing files keep their owner, group and mode.
            if (auto ec = core::ensure_directory(dir, 0700)) {
                std::cerr << "certfleet: cannot create " << dir << ": " << ec.message() << "\n";
                co_return;
            }
            std::vector<core::file_content> files;
            files.push_back(core::file_content{
                dir / "fullchain.pem", issued->certificate_pem, {.mode = 0644}});
            files.push_back(core::file_content{dir / "key.pem", key_pem.view(), {.mode = 0600}});
            if (auto ec = core::write_files_atomically(files)) {
                std::cerr << "certfleet: cannot write fullchain.pem and key.pem in " << dir << ": "
                          << ec.message() << "\nNothing was replaced.\n";
                co_return;
            }
            summary = {
                {"names", options.names},
                {"certificate", (dir / "fullchain.pem").string()},
                {"key", (dir / "key.pem").string()},
                {"order", issued->order_url},
            };
            if (chain && !chain->empty()) {
                summary["serial"] = core::to_hex(chain->front().serial);
                summary["sha256"] = core::to_hex(chain->front().sha256_fingerprint);
                summary["issuer"] = chain->front().issuer_cn;
            }
            exit_code = exit_ok;
        },
        boost::asio::detached
    );
    io.run();
    if (exit_code == exit_ok) {
        std::cout << summary.dump() << '\n';
    }
    return exit_code;
}

} // namespace

void add_issue_command(CLI::App& app, command_runner& run)
{
    auto options = std::make_shared<issue_options>();
    auto* cmd = app.add_subcommand(
        "issue", "Issue one certificate now: serve the challenge zone, answer DNS-01 ourselves, "
                 "write the files"
    );
    cmd->add_option(
           "-c,--config", options->config_file,
           "TOML configuration with [dns], [acme] and [[domain]]"
    )
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option(
           "-n,--name", options->names,
           "DNS name to include (repeat; \"*.example.com\" for a wildcard)"
    )
        ->required();
    cmd->add_option(
        "-o,--out-dir", options->out_dir,
        "Where to write fullchain.pem and key.pem (created 0700 when missing)"
    );
    cmd->add_option(
        "--key-type", options->key_type, "ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096"
    );
    cmd->add_flag("-v,--verbose", options->verbose, "Log debug messages");
    cmd->callback([options, &run] { run = [options] { return issue(*options); }; });
}

} // namespace certfleet::app
