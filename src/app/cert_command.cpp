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
#include "app/rest_client.hpp"
#include "app/sealed_keys.hpp"
#include "core/atomic_file.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/random.hpp"
#include "dns/name.hpp"

namespace certfleet::app {
namespace {
namespace http = boost::beast::http;

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
    remote_options remote;
};

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

// The certificate and its newest version, or nullopt after saying why.
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

std::string text_of(const nlohmann::json& value)
{
    return value.is_string() ? value.get<std::string>() : "-";
}

std::vector<std::string> names_of(const nlohmann::json& c)
{
    return c["names"].get<std::vector<std::string>>();
}

int add_certificate(const cert_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        nlohmann::json request{{"names", o.names}, {"key_type", o.key_type}, {"ca", o.ca}};
        if (!o.profile.empty()) {
            request["profile"] = o.profile;
        }
        auto reply = api.call(http::verb::post, "/api/v1/certificates", request);
        if (!reply.ok()) {
            return report_failure(reply);
        }
        const auto& added = reply.body;
        // Remotely the server plans it itself; locally a running server was told, if any.
        const bool server = api.remote() || added.value("server_notified", false);
        if (o.json) {
            std::cout
                << nlohmann::
                       json{{"id", added["id"]}, {"names", added["names"]}, {"server_notified", server}}
                           .dump()
                << '\n';
        } else {
            std::cout
                << "certificate " << added["id"].get<core::row_id>() << ": "
                << join(names_of(added), ", ")
                << (server ? " (the running server issues it now)"
                           : " (issued by `certfleet serve`, or now with `certfleet renew --due`)")
                << '\n';
        }
        return exit_ok;
    });
}

int list_certificates(const cert_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        rest_reply failure;
        auto all = api.list_all("/api/v1/certificates", failure);
        if (!all) {
            return report_failure(failure);
        }
        if (o.json) {
            std::cout << all->dump() << '\n';
            return exit_ok;
        }
        const auto now = std::chrono::system_clock::now();
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : *all) {
            const auto next = c["next_attempt_at"].is_string()
                                  ? parse_time(c["next_attempt_at"].get<std::string>())
                                  : std::nullopt;
            rows.push_back({
                std::to_string(c["id"].get<core::row_id>()),
                join(names_of(c), ","),
                c["state"].get<std::string>() + (c.value("alert", false) ? " ALERT" : ""),
                text_of(c["not_after"]),
                next ? relative_time(*next, now) : "-",
                c.value("last_problem", std::string()).substr(0, 60),
            });
        }
        print_table(std::cout, {"ID", "NAMES", "STATE", "EXPIRES", "NEXT", "LAST PROBLEM"}, rows);
        return exit_ok;
    });
}

int show_certificate(const cert_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(http::verb::get, "/api/v1/certificates/" + std::to_string(o.id));
        if (!reply.ok()) {
            return report_failure(reply);
        }
        const auto& j = reply.body;
        if (o.json) {
            std::cout << j.dump(2) << '\n';
            return exit_ok;
        }
        std::cout << "certificate " << j["id"].get<core::row_id>() << ": "
                  << join(names_of(j), ", ") << "\n  state: " << j["state"].get<std::string>()
                  << (j.value("alert", false) ? " (ALERT: expires before its next attempt)" : "")
                  << "\n  key: " << j["key_type"].get<std::string>()
                  << ", CA: " << j["ca"].get<std::string>()
                  << (j["profile"].is_string() ? ", profile: " + j["profile"].get<std::string>()
                                               : std::string())
                  << "\n  next attempt: " << text_of(j["next_attempt_at"]) << '\n';
        if (!j.value("last_problem", std::string()).empty()) {
            std::cout << "  last problem: " << j["last_problem"].get<std::string>() << '\n';
        }
        for (const auto& v : j["versions"]) {
            std::cout << "  version serial " << v["serial"].get<std::string>() << ", valid "
                      << v["not_before"].get<std::string>() << " to "
                      << v["not_after"].get<std::string>() << '\n';
        }
        if (j["open_order"].is_object()) {
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

int revoke_certificate(const cert_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(
            http::verb::post, "/api/v1/certificates/" + std::to_string(o.id) + "/revoke",
            nlohmann::json{{"reason", o.reason}}
        );
        if (!reply.ok()) {
            return report_failure(reply);
        }
        std::cout << "revoked certificate " << o.id << " (serial "
                  << reply.body["serial"].get<std::string>() << "); it will not be renewed.\n";
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
    add_remote_options(*add, o->remote);
    add->callback([o, &run] { run = [o] { return add_certificate(*o); }; });

    auto* list = cert->add_subcommand(
        "list", "Every certificate: state, expiry, next attempt, last problem"
    );
    list->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*list, o->config_file);
    add_remote_options(*list, o->remote);
    list->callback([o, &run] { run = [o] { return list_certificates(*o); }; });

    auto* show = cert->add_subcommand("show", "One certificate: versions, order in flight, events");
    show->add_option("id", o->id, "Certificate id")->required();
    show->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*show, o->config_file);
    add_remote_options(*show, o->remote);
    show->callback([o, &run] { run = [o] { return show_certificate(*o); }; });

    auto* renew = cert->add_subcommand("renew", "Renew one certificate now, whatever its plan");
    renew->add_option("id", o->id, "Certificate id")->required();
    renew->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*renew, o->config_file);
    add_remote_options(*renew, o->remote);
    renew->callback([o, &run] {
        run = [o] {
            sweep_selection selection;
            selection.ids = {o->id};
            sweep_output output;
            output.json = o->json;
            return run_sweep(
                o->config_file, selection, output, std::chrono::seconds(900), o->remote
            );
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
    add_remote_options(*revoke, o->remote);
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
