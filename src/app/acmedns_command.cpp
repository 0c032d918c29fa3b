// certfleet acmedns register|list|show|delete: the registrations of the acme-dns compatible API,
// on the local store. A running server picks up what these commands change within seconds.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/rest_views.hpp"
#include "core/errc.hpp"
#include "dns/acmedns_accounts.hpp"

namespace certfleet::app {
namespace {

struct acmedns_command_options
{
    std::string config_file;
    std::string username;
    std::vector<std::string> allowfrom;
    bool json = false;
};

std::string allowfrom_text(const std::vector<std::string>& allowfrom)
{
    return allowfrom.empty() ? "any source" : join(allowfrom, ", ");
}

// A store error for humans, with what to do when the registration is not there.
void report(const boost::system::error_code& ec, const std::string& username)
{
    std::cerr << "certfleet: ";
    if (ec == core::errc::not_found) {
        std::cerr << "no acme-dns registration " << username
                  << ": see `certfleet acmedns list` for the usernames.\n";
    } else {
        std::cerr << "cannot read the acme-dns registrations: " << ec.message() << '\n';
    }
}

int register_account(const acmedns_command_options& o)
{
    std::vector<dns::ip_network> networks;
    for (const auto& text : o.allowfrom) {
        auto n = dns::ip_network::parse(text);
        if (!n) {
            std::cerr << "certfleet: --allowfrom '" << text
                      << "' is not a network in CIDR notation (192.0.2.0/24, 2001:db8::/32).\n";
            return exit_usage;
        }
        networks.push_back(std::move(*n));
    }
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        auto created = dns::create_acmedns_account(
            *st.store, s.challenge_zone, networks, "cli", std::chrono::system_clock::now()
        );
        if (!created) {
            std::cerr << "certfleet: cannot register: " << created.error().message() << '\n';
            return exit_failure;
        }
        if (!s.acmedns.enabled) {
            std::cerr << "note: [acmedns] is not enabled in the configuration, so `certfleet "
                         "serve` does not serve the API these credentials are for.\n";
        }
        if (o.json) {
            // What acme-dns's POST /register answers, for the clients' account files.
            const nlohmann::ordered_json out{
                {"username", created->username},     {"password", std::string(created->key.view())},
                {"fulldomain", created->fulldomain}, {"subdomain", created->subdomain},
                {"allowfrom", created->allowfrom},
            };
            std::cout << out.dump() << '\n';
            return exit_ok;
        }
        std::cout << "registered " << created->username << "\n  username:   " << created->username
                  << "\n  password:   " << created->key.view()
                  << "   (shown once: give it to the client now)\n  fulldomain: "
                  << created->fulldomain << "\n  subdomain:  " << created->subdomain
                  << "\n  allowfrom:  " << allowfrom_text(created->allowfrom)
                  << "\nFor each name this client answers challenges for, create at its DNS "
                     "provider:\n  _acme-challenge.<name>. CNAME "
                  << created->fulldomain << ".\n";
        return exit_ok;
    });
}

int list_accounts(const acmedns_command_options& o)
{
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        const auto accounts = dns::list_acmedns_accounts(*st.store, s.challenge_zone);
        if (!accounts) {
            report(accounts.error(), "");
            return exit_failure;
        }
        if (o.json) {
            auto out = nlohmann::json::array();
            for (const auto& a : *accounts) {
                out.push_back(rest::acmedns_account_json(a));
            }
            std::cout << out.dump() << '\n';
            return exit_ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& a : *accounts) {
            rows.push_back(
                {a.username, a.fulldomain, allowfrom_text(a.allowfrom),
                 std::to_string(a.values.size()), format_time(a.created_at), a.created_by}
            );
        }
        print_table(
            std::cout, {"USERNAME", "FULLDOMAIN", "ALLOWFROM", "VALUES", "CREATED", "BY"}, rows
        );
        return exit_ok;
    });
}

int show_account(const acmedns_command_options& o)
{
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        const auto a = dns::describe_acmedns_account(*st.store, s.challenge_zone, o.username);
        if (!a) {
            report(a.error(), o.username);
            return exit_failure;
        }
        if (o.json) {
            std::cout << rest::acmedns_account_json(*a).dump() << '\n';
            return exit_ok;
        }
        const auto now = std::chrono::system_clock::now();
        std::cout << "username:   " << a->username << "\nfulldomain: " << a->fulldomain
                  << "\nallowfrom:  " << allowfrom_text(a->allowfrom)
                  << "\ncreated:    " << format_time(a->created_at) << " by " << a->created_by
                  << "\nvalues:     " << a->values.size() << '\n';
        for (const auto& v : a->values) {
            std::cout << "  " << v.value << "  set " << relative_time(v.updated_at, now)
                      << ", expires " << relative_time(v.expires_at, now) << '\n';
        }
        return exit_ok;
    });
}

int delete_account(const acmedns_command_options& o)
{
    return with_state(o.config_file, [&](const server_settings&, state& st) {
        if (auto removed = dns::delete_acmedns_account(*st.store, o.username); !removed) {
            report(removed.error(), o.username);
            return exit_failure;
        }
        std::cout << "deleted " << o.username
                  << "; a running server stops serving its values within seconds. The CNAMEs "
                     "pointing at it can go too.\n";
        return exit_ok;
    });
}

} // namespace

void add_acmedns_command(CLI::App& app, command_runner& run)
{
    auto* acmedns = app.add_subcommand(
        "acmedns", "Registrations of the acme-dns compatible API (for lego, acme.sh, certbot...)"
    );
    acmedns->require_subcommand(1);
    auto o = std::make_shared<acmedns_command_options>();

    auto* reg = acmedns->add_subcommand(
        "register", "Register a client (when API registration is closed): prints its credentials "
                    "once"
    );
    reg->add_option(
        "--allowfrom", o->allowfrom, "Networks its updates may come from (CIDR; default: any)"
    );
    add_config_option(*reg, o->config_file);
    reg->add_flag("--json", o->json, "JSON on stdout, as acme-dns's POST /register answers");
    reg->callback([o, &run] { run = [o] { return register_account(*o); }; });

    auto* list = acmedns->add_subcommand("list", "Every registration, without its key");
    add_config_option(*list, o->config_file);
    list->add_flag("--json", o->json, "JSON on stdout");
    list->callback([o, &run] { run = [o] { return list_accounts(*o); }; });

    auto* show = acmedns->add_subcommand("show", "One registration with its live TXT values");
    show->add_option("username", o->username, "Its username (a UUID)")->required();
    add_config_option(*show, o->config_file);
    show->add_flag("--json", o->json, "JSON on stdout");
    show->callback([o, &run] { run = [o] { return show_account(*o); }; });

    auto* del = acmedns->add_subcommand(
        "delete", "Delete a registration: its key stops working and its values leave the zone"
    );
    del->add_option("username", o->username, "Its username (a UUID)")->required();
    add_config_option(*del, o->config_file);
    del->callback([o, &run] { run = [o] { return delete_account(*o); }; });
}

} // namespace certfleet::app
