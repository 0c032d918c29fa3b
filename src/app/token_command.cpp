// certfleet token create|list|revoke: the API's bearer tokens. The secret is printed once, at
// creation; the store keeps its SHA-256 only.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/api_tokens.hpp"
#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/rest_client.hpp"

namespace certfleet::app {
namespace {
namespace http = boost::beast::http;

struct token_options
{
    std::string config_file;
    std::string name;
    std::string scope;
    std::string expires;
    bool json = false;
    remote_options remote;
};

int create_token(const token_options& o)
{
    if (!scope_from_string(o.scope)) {
        std::cerr << "certfleet: --scope '" << o.scope << "' is not one of " << scope_names()
                  << ".\n";
        return exit_usage;
    }
    nlohmann::json request{{"name", o.name}, {"scope", o.scope}};
    if (!o.expires.empty()) {
        const auto seconds = duration_seconds(o.expires);
        if (!seconds) {
            std::cerr << "certfleet: --expires '" << o.expires
                      << "' is not a duration such as 90d, 12h or 30m.\n";
            return exit_usage;
        }
        request["expires_in_seconds"] = *seconds;
    }
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(http::verb::post, "/api/v1/tokens", request);
        if (!reply.ok()) {
            return report_failure(reply);
        }
        if (o.json) {
            std::cout << reply.body.dump() << '\n';
            return exit_ok;
        }
        std::cout << reply.body["token"].get<std::string>() << '\n';
        std::cerr << "token " << o.name << " (scope " << o.scope << ")"
                  << (reply.body["expires_at"].is_string()
                          ? ", expires " + reply.body["expires_at"].get<std::string>()
                          : std::string())
                  << ": shown once; the server keeps only its hash.\n";
        return exit_ok;
    });
}

int list_tokens(const token_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(http::verb::get, "/api/v1/tokens");
        if (!reply.ok()) {
            return report_failure(reply);
        }
        const auto& items = reply.body["items"];
        if (o.json) {
            std::cout << items.dump() << '\n';
            return exit_ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& t : items) {
            const auto text = [](const nlohmann::json& v) {
                return v.is_string() ? v.get<std::string>() : "-";
            };
            rows.push_back(
                {t["name"].get<std::string>(), t["scope"].get<std::string>(),
                 t["created_at"].get<std::string>(), text(t["expires_at"]), text(t["revoked_at"])}
            );
        }
        print_table(std::cout, {"NAME", "SCOPE", "CREATED", "EXPIRES", "REVOKED"}, rows);
        return exit_ok;
    });
}

int revoke_token(const token_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(http::verb::delete_, "/api/v1/tokens/" + url_segment(o.name));
        if (!reply.ok()) {
            return report_failure(reply);
        }
        std::cout << "revoked token " << o.name << "; it is refused from now on.\n";
        return exit_ok;
    });
}

} // namespace

void add_token_command(CLI::App& app, command_runner& run)
{
    auto* token = app.add_subcommand("token", "API tokens: create (printed once), list, revoke");
    token->require_subcommand(1);
    auto o = std::make_shared<token_options>();

    auto* create = token->add_subcommand("create", "Make a token and print it (once)");
    create->add_option("--name", o->name, "A name to list and revoke it by")->required();
    create
        ->add_option("--scope", o->scope, "read, renew, admin or register (acme-dns registration)")
        ->required();
    create->add_option("--expires", o->expires, "Lifetime, e.g. 90d, 12h (default: none)");
    create->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*create, o->config_file);
    add_remote_options(*create, o->remote);
    create->callback([o, &run] { run = [o] { return create_token(*o); }; });

    auto* list =
        token->add_subcommand("list", "Tokens, their scopes and state (never their secrets)");
    list->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*list, o->config_file);
    add_remote_options(*list, o->remote);
    list->callback([o, &run] { run = [o] { return list_tokens(*o); }; });

    auto* revoke = token->add_subcommand("revoke", "Revoke a token by name");
    revoke->add_option("name", o->name, "The token's name")->required();
    add_config_option(*revoke, o->config_file);
    add_remote_options(*revoke, o->remote);
    revoke->callback([o, &run] { run = [o] { return revoke_token(*o); }; });
}

} // namespace certfleet::app
