// certfleet cert add|list|show|renew|revoke|export: the certificates certfleet keeps issued.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "app/ca_session.hpp"
#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/control.hpp"
#include "app/planning.hpp"
#include "app/renew_report.hpp"
#include "app/sealed_keys.hpp"
#include "core/atomic_file.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/random.hpp"
#include "dns/name.hpp"

namespace certfleet::app {
namespace {

struct cert_options
{
    std::string config_file;
    std::vector<std::string> names;
    std::string key_type = "ec-p256";
    std::string ca = "default";
    std::string profile;
    core::row_id id = 0;
    bool json = false;
    std::string reason = "unspecified";
    std::string out_dir;
    std::string pfx_password_file;
};

nlohmann::json
summary_json(const core::certificate_record& c, const std::optional<core::certificate_version>& v)
{
    nlohmann::json j{
        {"id", c.id},
        {"names", c.spec.names},
        {"key_type", c.spec.key_type},
        {"ca", c.spec.ca},
        {"profile", c.spec.profile ? nlohmann::json(*c.spec.profile) : nlohmann::json()},
        {"state", core::to_string(c.state)},
        {"next_attempt_at",
         c.next_attempt_at ? nlohmann::json(format_time(c.next_attempt_at)) : nlohmann::json()},
        {"failures", c.consecutive_failures},
        {"last_problem", c.last_problem},
        {"alert", c.alert},
    };
    if (v) {
        j["serial"] = v->serial_hex;
        j["sha256"] = v->sha256_hex;
        j["not_before"] = format_time(v->not_before);
        j["not_after"] = format_time(v->not_after);
        if (v->ari_window_start) {
            j["ari_window"] = {format_time(v->ari_window_start), format_time(v->ari_window_end)};
        }
    }
    return j;
}

std::optional<core::certificate_record> find_certificate(state& st, core::row_id id)
{
    auto c = st.store->get_certificate(id);
    if (!c) {
        std::cerr << "certfleet: no certificate " << id << " (see certfleet cert list).\n";
        return std::nullopt;
    }
    return *c;
}

struct issued_certificate
{
    core::certificate_record cert;
    core::certificate_version version;
};

// The certificate and its newest version, or nullopt after saying why (`what` names the
// action: "to revoke", "to export").
std::optional<issued_certificate> find_issued(state& st, core::row_id id, std::string_view what)
{
    auto c = find_certificate(st, id);
    if (!c) {
        return std::nullopt;
    }
    auto v = st.store->latest_version(c->id);
    if (!v || !*v) {
        std::cerr << "certfleet: certificate " << c->id << " has no issued version " << what
                  << " (see certfleet cert show " << c->id << ").\n";
        return std::nullopt;
    }
    return issued_certificate{std::move(*c), std::move(**v)};
}

void record_event(state& st, core::row_id id, std::string kind, std::string message)
{
    core::event_record e;
    e.at = std::chrono::system_clock::now();
    e.certificate_id = id;
    e.kind = std::move(kind);
    e.message = std::move(message);
    if (auto r = st.store->append_event(e); !r) {
        std::cerr << "certfleet: cannot append to the event log: " << r.error().message() << '\n';
    }
}

int add_certificate(const cert_options& o)
{
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        core::certificate_spec spec;
        std::set<std::string> seen;
        for (const auto& text : o.names) {
            auto name = core::lower_name(text);
            if (!seen.insert(name).second) {
                continue;
            }
            const auto bare = core::managed_name_for(name);
            if (!dns::canonical_name(bare)) {
                std::cerr << "certfleet: '" << text << "' is not a valid DNS name.\n";
                return exit_usage;
            }
            if (!st.store->find_domain(bare)) {
                std::cerr << "certfleet: " << bare
                          << " is not a managed domain: run `certfleet domain add " << bare
                          << "`, create the CNAME it prints, then add the certificate.\n";
                return exit_usage;
            }
            spec.names.push_back(name);
        }
        if (!core::key_type_from_string(o.key_type)) {
            std::cerr << "certfleet: --key '" << o.key_type
                      << "' is not one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096.\n";
            return exit_usage;
        }
        if (find_ca(s, o.ca) == nullptr) {
            std::cerr
                << "certfleet: no CA named '" << o.ca
                << "' in the configuration ([acme] is \"default\"; others are [[ca]] tables).\n";
            return exit_usage;
        }
        spec.key_type = o.key_type;
        spec.ca = o.ca;
        if (!o.profile.empty()) {
            spec.profile = o.profile;
        }
        auto id = st.store->add_certificate(spec, std::chrono::system_clock::now());
        if (!id) {
            std::cerr << "certfleet: cannot add the certificate: " << id.error().message() << '\n';
            return exit_failure;
        }
        record_event(st, *id, "added", "added " + join(spec.names, ", "));
        bool server = false;
        if (auto running = control_client::connect(s.control_socket)) {
            server = running->reschedule({*id});
        }
        if (o.json) {
            std::cout
                << nlohmann::json{{"id", *id}, {"names", spec.names}, {"server_notified", server}}
                       .dump()
                << '\n';
        } else {
            std::cout
                << "certificate " << *id << ": " << join(spec.names, ", ")
                << (server ? " (the running server issues it now)"
                           : " (issued by `certfleet serve`, or now with `certfleet renew --due`)")
                << '\n';
        }
        return exit_ok;
    });
}

int list_certificates(const cert_options& o)
{
    return with_state(o.config_file, [&](const server_settings&, state& st) {
        auto all = st.store->list_certificates();
        if (!all) {
            std::cerr << "certfleet: " << all.error().message() << '\n';
            return exit_failure;
        }
        const auto now = std::chrono::system_clock::now();
        nlohmann::json out = nlohmann::json::array();
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : *all) {
            auto v = st.store->latest_version(c.id);
            const auto version = v ? *v : std::optional<core::certificate_version>{};
            out.push_back(summary_json(c, version));
            rows.push_back({
                std::to_string(c.id),
                join(c.spec.names, ","),
                std::string(core::to_string(c.state)) + (c.alert ? " ALERT" : ""),
                version ? format_time(version->not_after) : "-",
                c.next_attempt_at ? relative_time(*c.next_attempt_at, now) : "-",
                c.last_problem.substr(0, 60),
            });
        }
        if (o.json) {
            std::cout << out.dump() << '\n';
        } else {
            print_table(
                std::cout, {"ID", "NAMES", "STATE", "EXPIRES", "NEXT", "LAST PROBLEM"}, rows
            );
        }
        return exit_ok;
    });
}

int show_certificate(const cert_options& o)
{
    return with_state(o.config_file, [&](const server_settings&, state& st) {
        auto c = find_certificate(st, o.id);
        if (!c) {
            return exit_failure;
        }
        auto versions = st.store->versions(c->id);
        auto open = st.store->open_order(c->id);
        core::event_filter filter;
        filter.certificate_id = c->id;
        filter.limit = 1000;
        auto events = st.store->events(filter);
        auto j = summary_json(
            *c, versions && !versions->empty() ? std::optional(versions->back()) : std::nullopt
        );
        j["versions"] = nlohmann::json::array();
        if (versions) {
            for (const auto& v : *versions) {
                j["versions"].push_back(
                    {{"serial", v.serial_hex},
                     {"sha256", v.sha256_hex},
                     {"not_before", format_time(v.not_before)},
                     {"not_after", format_time(v.not_after)},
                     {"issued_at", format_time(v.created_at)}}
                );
            }
        }
        if (open && *open) {
            j["open_order"] = {
                {"state", core::to_string((*open)->state)},
                {"url", (*open)->order_url},
                {"attempts", (*open)->attempts},
                {"last_problem", (*open)->last_problem}};
        }
        j["events"] = nlohmann::json::array();
        if (events) {
            for (const auto& e : *events) {
                j["events"].push_back(
                    {{"at", format_time(e.at)}, {"kind", e.kind}, {"message", e.message}}
                );
            }
        }
        if (o.json) {
            std::cout << j.dump(2) << '\n';
            return exit_ok;
        }
        std::cout << "certificate " << c->id << ": " << join(c->spec.names, ", ")
                  << "\n  state: " << core::to_string(c->state)
                  << (c->alert ? " (ALERT: expires before its next attempt)" : "")
                  << "\n  key: " << c->spec.key_type << ", CA: " << c->spec.ca
                  << (c->spec.profile ? ", profile: " + *c->spec.profile : std::string())
                  << "\n  next attempt: " << format_time(c->next_attempt_at) << '\n';
        if (!c->last_problem.empty()) {
            std::cout << "  last problem: " << c->last_problem << '\n';
        }
        for (const auto& v : j["versions"]) {
            std::cout << "  version serial " << v["serial"].get<std::string>() << ", valid "
                      << v["not_before"].get<std::string>() << " to "
                      << v["not_after"].get<std::string>() << '\n';
        }
        if (j.contains("open_order")) {
            std::cout << "  order in flight: " << j["open_order"]["state"].get<std::string>() << ' '
                      << j["open_order"]["url"].get<std::string>() << '\n';
        }
        for (const auto& e : j["events"]) {
            std::cout << "  " << e["at"].get<std::string>() << ' ' << e["kind"].get<std::string>()
                      << ": " << e["message"].get<std::string>() << '\n';
        }
        return exit_ok;
    });
}

int revocation_reason(const std::string& name)
{
    // RFC 5280 5.3.1 CRLReason codes that ACME CAs accept (RFC 8555 7.6).
    const std::vector<std::pair<std::string, int>> reasons{
        {"unspecified", 0},
        {"keyCompromise", 1},
        {"affiliationChanged", 3},
        {"superseded", 4},
        {"cessationOfOperation", 5}};
    for (const auto& [n, code] : reasons) {
        if (n == name) {
            return code;
        }
    }
    return -1;
}

int revoke_certificate(const cert_options& o)
{
    const int reason = revocation_reason(o.reason);
    if (reason < 0) {
        std::cerr << "certfleet: --reason '" << o.reason
                  << "' is not one of unspecified, keyCompromise, affiliationChanged, superseded, "
                     "cessationOfOperation.\n";
        return exit_usage;
    }
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        auto issued = find_issued(st, o.id, "to revoke");
        if (!issued) {
            return exit_failure;
        }
        auto* c = &issued->cert;
        const auto* v = &issued->version;
        const auto* ca = find_ca(s, c->spec.ca);
        if (ca == nullptr) {
            std::cerr << "certfleet: the certificate's CA '" << c->spec.ca
                      << "' is not configured.\n";
            return exit_usage;
        }
        boost::asio::io_context io(1);
        ca_session session(io.get_executor(), *ca, *st.store, st.vault);
        std::string problem;
        bool done = false;
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
                auto account = co_await session.ensure_account();
                if (!account) {
                    problem = account.error().message();
                    co_return;
                }
                auto r = co_await session.client().revoke(v->chain_pem, reason);
                if (!r) {
                    problem = r.error().message();
                    co_return;
                }
                done = true;
            },
            boost::asio::detached
        );
        io.run();
        if (!done) {
            std::cerr << "certfleet: the CA did not revoke certificate " << c->id << ": " << problem
                      << "\nIt stays as it was; try again, or revoke at the CA directly.\n";
            return exit_failure;
        }
        c->state = core::certificate_state::revoked;
        c->next_attempt_at.reset();
        c->alert = false;
        (void)st.store->update_certificate(*c);
        record_event(
            st, c->id, "revoked", "revoked serial " + v->serial_hex + " (" + o.reason + ")"
        );
        if (auto running = control_client::connect(s.control_socket)) {
            (void)running->reschedule({c->id});
        }
        std::cout << "revoked certificate " << c->id << " (serial " << v->serial_hex
                  << "); it will not be renewed.\n";
        return exit_ok;
    });
}

int export_certificate(const cert_options& o)
{
    return with_state(o.config_file, [&](const server_settings&, state& st) {
        auto issued = find_issued(st, o.id, "to export");
        if (!issued) {
            return exit_failure;
        }
        const auto* c = &issued->cert;
        const auto* v = &issued->version;
        auto pem = st.vault.open(v->key_sealed, certificate_key_context(c->id));
        auto key = pem ? core::private_key::from_pem(pem->view())
                       : boost::system::result<core::private_key>(pem.error());
        if (!key) {
            std::cerr << "certfleet: the stored key of certificate " << c->id
                      << " cannot be opened: " << key.error().message() << '\n';
            return exit_failure;
        }
        auto chain = core::parse_pem_chain(v->chain_pem);
        if (!chain || chain->empty()) {
            std::cerr << "certfleet: the stored chain is unreadable.\n";
            return exit_failure;
        }
        // The leaf alone, then the rest of the chain, as PEM blocks cut from the stored text.
        const auto& text = v->chain_pem;
        const auto end_marker = std::string("-----END CERTIFICATE-----");
        const auto leaf_end = text.find(end_marker) + end_marker.size();
        const auto leaf_pem = text.substr(0, leaf_end) + "\n";
        auto rest = text.substr(leaf_end);
        rest.erase(0, rest.find_first_not_of("\r\n"));

        const std::filesystem::path dir(o.out_dir);
        if (auto ec = core::ensure_directory(dir, 0700)) {
            std::cerr << "certfleet: cannot create " << dir << ": " << ec.message() << '\n';
            return exit_failure;
        }
        core::secret password;
        bool new_password_file = false;
        if (!o.pfx_password_file.empty()) {
            std::ifstream in(o.pfx_password_file);
            std::string line;
            if (!in || !std::getline(in, line)) {
                std::cerr << "certfleet: cannot read the PFX password from " << o.pfx_password_file
                          << '\n';
                return exit_usage;
            }
            password = core::secret::adopt(std::move(line));
        } else {
            password = core::random_password().value();
            new_password_file = true;
        }
        auto pfx = core::make_pkcs12(*key, text, password.view(), c->spec.names.front());
        if (!pfx) {
            std::cerr << "certfleet: cannot build the PFX: " << pfx.error().message() << '\n';
            return exit_failure;
        }
        const auto key_pem = core::secret::adopt(key->to_pem());
        const std::string password_line = std::string(password.view()) + "\n";
        std::vector<core::file_content> files{
            {dir / "cert.pem", leaf_pem, {.mode = 0644}},
            {dir / "chain.pem", rest, {.mode = 0644}},
            {dir / "fullchain.pem", text, {.mode = 0644}},
            {dir / "key.pem", key_pem.view(), {.mode = 0600}},
            {dir / "certificate.pfx", *pfx, {.mode = 0600}},
        };
        if (new_password_file) {
            files.push_back({dir / "pfx-password.txt", password_line, {.mode = 0600}});
        }
        if (auto ec = core::write_files_atomically(files)) {
            std::cerr << "certfleet: cannot write to " << dir << ": " << ec.message()
                      << "\nNothing was replaced.\n";
            return exit_failure;
        }
        std::cout
            << "wrote cert.pem, chain.pem, fullchain.pem, key.pem (0600), certificate.pfx (0600)"
            << (new_password_file ? " and pfx-password.txt (0600)" : "") << " to " << dir << '\n';
        return exit_ok;
    });
}

} // namespace

void add_cert_command(CLI::App& app, command_runner& run)
{
    auto* cert = app.add_subcommand("cert", "The certificates certfleet keeps issued and renewed");
    cert->require_subcommand(1);
    auto o = std::make_shared<cert_options>();

    auto* add = cert->add_subcommand(
        "add", "Add a certificate: the scheduler issues it and keeps it renewed"
    );
    add->add_option("-n,--name", o->names, "A DNS name (repeat; \"*.example.com\" for a wildcard)")
        ->required();
    add->add_option(
        "--key", o->key_type, "ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096"
    );
    add->add_option("--ca", o->ca, "The CA's name in the configuration (default: default)");
    add->add_option(
        "--profile", o->profile, "The CA's certificate profile, when it offers profiles"
    );
    add->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*add, o->config_file);
    add->callback([o, &run] { run = [o] { return add_certificate(*o); }; });

    auto* list = cert->add_subcommand(
        "list", "Every certificate: state, expiry, next attempt, last problem"
    );
    list->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*list, o->config_file);
    list->callback([o, &run] { run = [o] { return list_certificates(*o); }; });

    auto* show = cert->add_subcommand("show", "One certificate: versions, order in flight, events");
    show->add_option("id", o->id, "Certificate id")->required();
    show->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*show, o->config_file);
    show->callback([o, &run] { run = [o] { return show_certificate(*o); }; });

    auto* renew = cert->add_subcommand("renew", "Renew one certificate now, whatever its plan");
    renew->add_option("id", o->id, "Certificate id")->required();
    renew->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*renew, o->config_file);
    renew->callback([o, &run] {
        run = [o] {
            sweep_selection selection;
            selection.ids = {o->id};
            sweep_output output;
            output.json = o->json;
            return run_sweep(o->config_file, selection, output, std::chrono::seconds(900));
        };
    });

    auto* revoke = cert->add_subcommand(
        "revoke", "Revoke the current version at the CA; never renew it again"
    );
    revoke->add_option("id", o->id, "Certificate id")->required();
    revoke->add_option(
        "--reason", o->reason,
        "unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation"
    );
    add_config_option(*revoke, o->config_file);
    revoke->callback([o, &run] { run = [o] { return revoke_certificate(*o); }; });

    auto* exp = cert->add_subcommand("export", "Write the current version as PEM files and a PFX");
    exp->add_option("id", o->id, "Certificate id")->required();
    exp->add_option("--out", o->out_dir, "Directory (created 0700 when missing)")->required();
    exp->add_option(
        "--pfx-password-file", o->pfx_password_file,
        "The PFX password (first line); default: a new random one written to pfx-password.txt"
    );
    add_config_option(*exp, o->config_file);
    exp->callback([o, &run] { run = [o] { return export_certificate(*o); }; });
}

} // namespace certfleet::app
