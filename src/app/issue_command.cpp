// certfleet issue: one certificate now, on the machinery of `serve` and `renew` (the issuer:
// preflight, step retries, the key sealed before the CSR, the DNS observer's wake-up, events),
// over the configured store or a temporary one, then fullchain.pem and key.pem installed as a
// pair. Exit 0 issued, 1 a failure happened, 2 usage or configuration error.

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/log.hpp"
#include "app/oneshot_state.hpp"
#include "app/sealed_keys.hpp"
#include "app/sweep.hpp"
#include "core/atomic_file.hpp"
#include "core/challenge_name.hpp"
#include "core/config_error.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/key_type.hpp"

namespace certfleet::app {
namespace {

struct issue_options
{
    std::string config_file;
    std::vector<std::string> names;
    std::string out_dir = ".";
    std::string key_type = "ec-p256";
    int deadline_s = 900;
    bool verbose = false;
};

// acme.account_key: the account key file to use, relative to the configuration. Without a
// [store] it defaults to account.key beside the configuration; with one, the store's account is
// used unless the file is named.
std::optional<std::filesystem::path> account_key_setting(const server_settings& settings)
{
    if (settings.account_key_file) {
        return settings.account_key_file;
    }
    if (settings.backend) {
        return std::nullopt;
    }
    return settings.config_dir / "account.key";
}

// The first name that is not a managed domain, with what to do; nullopt when all are.
std::optional<std::string>
unmanaged_name(core::store& store, const std::vector<std::string>& names, bool temporary)
{
    for (const auto& name : names) {
        const auto bare = core::managed_name_for(name);
        if (store.find_domain(bare)) {
            continue;
        }
        std::string text = name + " is not a managed domain: ";
        if (temporary) {
            text += "add a [[domain]] entry with its CNAME target (name = \"" + bare +
                    "\", target = \"<label>.<our zone>\")";
        } else {
            text += "run `certfleet domain add " + bare + "`";
        }
        return text + " and create the CNAME " + core::challenge_name_for(name) +
               " at its DNS provider.";
    }
    return std::nullopt;
}

// The stored certificate with exactly these names, key type and CA that is not revoked, or a
// new one.
core::row_id certificate_for(core::store& store, const core::certificate_spec& spec)
{
    if (auto all = store.list_certificates()) {
        for (const auto& c : *all) {
            if (c.state != core::certificate_state::revoked && c.spec.names == spec.names &&
                c.spec.key_type == spec.key_type && c.spec.ca == spec.ca) {
                return c.id;
            }
        }
    }
    auto added = store.add_certificate(spec, std::chrono::system_clock::now());
    if (!added) {
        throw startup_error("cannot add the certificate to the store: " + added.error().message());
    }
    return *added;
}

void print_failure(const run_result& r)
{
    switch (r.outcome) {
    case run_outcome::preflight_failed:
        std::cerr << "certfleet: no order was placed: " << r.problem << '\n';
        return;
    case run_outcome::busy:
        std::cerr << "certfleet: " << r.problem << ": run again once it has finished.\n";
        return;
    default:
        std::cerr << "certfleet: issuance failed: " << r.problem << '\n';
        if (r.outcome == run_outcome::retrying && r.next_attempt_at) {
            std::cerr << "It is worth trying again after " << format_time(r.next_attempt_at)
                      << " (or give it longer with --deadline-s).\n";
        }
    }
}

// fullchain.pem and key.pem of the certificate's newest version, both or neither (a full disk
// leaves the old pair in place, never a new certificate beside an old key); files replaced
// keep their owner, group and mode. Prints the JSON summary on success.
int install_pair(state& st, core::row_id id, const issue_options& options)
{
    auto version = st.store->latest_version(id);
    auto orders = st.store->orders_of(id);
    if (!version || !*version || !orders) {
        std::cerr << "certfleet: the issued certificate cannot be read back from the store.\n";
        return exit_failure;
    }
    const auto& v = **version;
    auto key_pem = st.vault.open(v.key_sealed, certificate_key_context(id));
    if (!key_pem) {
        std::cerr << "certfleet: the stored key cannot be opened: " << key_pem.error().message()
                  << '\n';
        return exit_failure;
    }
    const std::filesystem::path dir(options.out_dir);
    if (auto ec = core::ensure_directory(dir, 0700)) {
        std::cerr << "certfleet: cannot create " << dir << ": " << ec.message() << '\n';
        return exit_failure;
    }
    std::vector<core::file_content> files;
    files.push_back(core::file_content{dir / "fullchain.pem", v.chain_pem, {.mode = 0644}});
    files.push_back(core::file_content{dir / "key.pem", key_pem->view(), {.mode = 0600}});
    if (auto ec = core::write_files_atomically(files)) {
        std::cerr << "certfleet: cannot write fullchain.pem and key.pem in " << dir << ": "
                  << ec.message() << "\nNothing was replaced: free the space or fix the "
                  << "permissions, then run again.\n";
        return exit_failure;
    }
    nlohmann::json summary{
        {"names", options.names},
        {"certificate", (dir / "fullchain.pem").string()},
        {"key", (dir / "key.pem").string()},
        {"order", orders->empty() ? std::string() : orders->back().order_url},
        {"serial", v.serial_hex},
        {"sha256", v.sha256_hex},
    };
    if (auto chain = core::parse_pem_chain(v.chain_pem); chain && !chain->empty()) {
        summary["issuer"] = chain->front().issuer_cn;
    }
    std::cout << summary.dump() << '\n';
    return exit_ok;
}

int issue_with(server_settings settings, const issue_options& options, core::key_type type)
{
    const auto* ca = find_ca(settings, "default");
    if (ca == nullptr) {
        throw core::config_error("acme: missing section [acme] (directory = \"https://...\")");
    }
    const auto account_key_file = account_key_setting(settings);
    oneshot_state st(settings);
    if (auto unmanaged = unmanaged_name(*st.opened().store, options.names, st.temporary())) {
        std::cerr << "certfleet: " << *unmanaged << '\n';
        return exit_usage;
    }
    if (account_key_file) {
        auto key = load_or_create_account_key(*account_key_file);
        if (!key) {
            std::cerr << "certfleet: cannot use the account key " << *account_key_file << ": "
                      << key.error().message()
                      << "\nA key that exists is never replaced: fix its permissions or the path "
                         "(acme.account_key), or move it away to register a new account.\n";
            return exit_failure;
        }
        import_account_key(st.opened(), *ca, *key);
    }
    core::certificate_spec spec;
    spec.names = options.names;
    spec.key_type = std::string(core::to_string(type));
    const auto id = certificate_for(*st.opened().store, spec);

    std::optional<run_result> result;
    const auto mode = run_renewals(
        settings, st.opened(), {id}, sweep_options{std::chrono::seconds(options.deadline_s)},
        [&](const run_result& r) { result = r; }
    );
    if (!mode || !result) {
        return exit_failure;
    }
    if (result->outcome != run_outcome::issued) {
        print_failure(*result);
        return exit_failure;
    }
    return install_pair(st.opened(), id, options);
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
    return with_settings(options.config_file, [&](const server_settings& settings) {
        try {
            return issue_with(settings, options, *type);
        } catch (const core::config_error& e) {
            std::cerr << "certfleet: configuration error: " << e.what()
                      << "\nFix the file and run again.\n";
            return exit_usage;
        }
    });
}

} // namespace

void add_issue_command(CLI::App& app, command_runner& run)
{
    auto options = std::make_shared<issue_options>();
    auto* cmd = app.add_subcommand(
        "issue", "Issue one certificate now (preflight, order, DNS-01 answered by our own "
                 "authority) and write fullchain.pem and key.pem"
    );
    cmd->add_option(
           "-c,--config", options->config_file,
           "TOML configuration with [dns], [acme] and [[domain]] (and optionally [store], "
           "[preflight])"
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
    cmd->add_option(
           "--deadline-s", options->deadline_s,
           "Retry transient failures (network, 5xx, rate limits) within this time"
    )
        ->check(CLI::Range(0, 86400));
    cmd->add_flag("-v,--verbose", options->verbose, "Log debug messages");
    cmd->footer("Exit codes: 0 issued, 1 a failure happened (nothing was replaced), 2 usage or "
                "configuration error.");
    cmd->callback([options, &run] { run = [options] { return issue(*options); }; });
}

} // namespace certfleet::app
