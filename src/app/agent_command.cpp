// certfleet agent token create|list|show|disable|enable|delete, certfleet cert assign, and
// certfleet deploy now: the administration of deploy (DESIGN section 6), over the REST routes.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/rest_client.hpp"

namespace certfleet::app {
namespace {
namespace http = boost::beast::http;
using nlohmann::json;

struct agent_options
{
    std::string config_file;
    std::string name;
    std::string window;
    std::string expires = "24h";
    std::string certificate;
    std::string target;
    std::vector<std::string> option_pairs; // key=value
    std::string options_json;
    bool json = false;
    remote_options remote;
};

std::string text_or_dash(const json& v)
{
    return v.is_string() && !v.get<std::string>().empty() ? v.get<std::string>() : "-";
}

std::string version_text(const json& v)
{
    return v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : "-";
}

int create_join_token(const agent_options& o)
{
    const auto seconds = duration_seconds(o.expires);
    if (!seconds) {
        std::cerr << "certfleet: --expires '" << o.expires
                  << "' is not a duration such as 24h or 30m.\n";
        return exit_usage;
    }
    json request{{"name", o.name}, {"expires_in_seconds", *seconds}};
    if (!o.window.empty()) {
        request["window"] = o.window;
    }
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(http::verb::post, "/api/v1/agent-tokens", request);
        if (!reply.ok()) {
            return report_failure(reply);
        }
        if (o.json) {
            std::cout << reply.body.dump() << '\n';
            return exit_ok;
        }
        std::cout << reply.body["token"].get<std::string>() << '\n';
        std::cerr << "join token for agent " << o.name << ", server "
                  << text_or_dash(reply.body["server"]) << ", one use, expires "
                  << reply.body["expires_at"].get<std::string>()
                  << ".\nOn the target server: certfleet-agent enroll --token <the token above>\n";
        return exit_ok;
    });
}

void print_agent(const json& a)
{
    std::cout << "agent " << a["name"].get<std::string>()
              << (a["enabled"].get<bool>() ? "" : " (disabled)") << "\n  last contact  "
              << text_or_dash(a["last_seen_at"]) << " from " << text_or_dash(a["last_address"])
              << ", version " << text_or_dash(a["version"]) << "\n  windows       "
              << text_or_dash(a["windows"]);
    if (a["next_window"].is_object()) {
        std::cout << "\n  next window   " << a["next_window"]["start"].get<std::string>() << " to "
                  << a["next_window"]["end"].get<std::string>();
    }
    std::cout << '\n';
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : a["assignments"]) {
        rows.push_back(
            {std::to_string(s["id"].get<std::int64_t>()),
             std::to_string(s["certificate"].get<std::int64_t>()), s["target"].get<std::string>(),
             version_text(s["newest_version"]), version_text(s["staged_version"]),
             version_text(s["deployed_version"]), text_or_dash(s["last_status"]),
             text_or_dash(s["drift"])}
        );
    }
    print_table(
        std::cout,
        {"ASSIGNMENT", "CERT", "TARGET", "NEWEST", "STAGED", "DEPLOYED", "LAST", "DRIFT"}, rows
    );
}

int list_agents(const agent_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(http::verb::get, "/api/v1/agents");
        if (!reply.ok()) {
            return report_failure(reply);
        }
        if (o.json) {
            std::cout << reply.body["items"].dump() << '\n';
            return exit_ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& a : reply.body["items"]) {
            std::size_t pending = 0;
            for (const auto& s : a["assignments"]) {
                pending += s["pending"].get<bool>() ? 1 : 0;
            }
            rows.push_back(
                {a["name"].get<std::string>(), a["enabled"].get<bool>() ? "enabled" : "disabled",
                 text_or_dash(a["last_seen_at"]), text_or_dash(a["windows"]),
                 std::to_string(a["assignments"].size()), std::to_string(pending)}
            );
        }
        print_table(
            std::cout, {"NAME", "STATE", "LAST CONTACT", "WINDOWS", "ASSIGNED", "PENDING"}, rows
        );
        return exit_ok;
    });
}

int agent_request(const agent_options& o, http::verb method, const std::string& suffix)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(method, "/api/v1/agents/" + url_segment(o.name) + suffix);
        if (!reply.ok()) {
            return report_failure(reply);
        }
        if (o.json) {
            std::cout << reply.body.dump() << '\n';
        } else if (method == http::verb::delete_) {
            std::cout << "deleted agent " << o.name << " and its assignments.\n";
        } else {
            print_agent(reply.body);
        }
        return exit_ok;
    });
}

int assign(const agent_options& o)
{
    json options = json::object();
    if (!o.options_json.empty()) {
        options = json::parse(o.options_json, nullptr, false);
        if (!options.is_object()) {
            std::cerr << "certfleet: --options-json must be a JSON object, e.g. "
                         "'{\"dir\":\"/etc/nginx/tls\"}'.\n";
            return exit_usage;
        }
    }
    for (const auto& pair : o.option_pairs) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::cerr << "certfleet: --option '" << pair << "' is not KEY=VALUE.\n";
            return exit_usage;
        }
        // A value that reads as JSON (an array, a number, an object) is taken as such.
        auto value = json::parse(pair.substr(eq + 1), nullptr, false);
        options[pair.substr(0, eq)] =
            value.is_discarded() || value.is_string() ? json(pair.substr(eq + 1)) : value;
    }
    const json request{{"agent", o.name}, {"target", o.target}, {"options", options}};
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(
            http::verb::post, "/api/v1/certificates/" + url_segment(o.certificate) + "/assignments",
            request
        );
        if (!reply.ok()) {
            return report_failure(reply);
        }
        if (o.json) {
            std::cout << reply.body.dump() << '\n';
            return exit_ok;
        }
        std::cout << "assignment " << reply.body["id"].get<std::int64_t>() << ": certificate "
                  << o.certificate << " to agent " << o.name << ", target " << o.target
                  << "; the agent receives it at its next poll.\n";
        return exit_ok;
    });
}

void add_common(CLI::App& cmd, agent_options& o)
{
    cmd.add_flag("--json", o.json, "JSON on stdout");
    add_config_option(cmd, o.config_file);
    add_remote_options(cmd, o.remote);
}

} // namespace

void add_agent_command(CLI::App& app, command_runner& run)
{
    auto* agent = app.add_subcommand(
        "agent", "Agents on the servers that use the certificates: join tokens, list, show, "
                 "disable, enable, delete"
    );
    agent->require_subcommand(1);
    auto o = std::make_shared<agent_options>();

    auto* token = agent->add_subcommand("token", "Join tokens for new agents");
    token->require_subcommand(1);
    auto* create = token->add_subcommand("create", "Make a one-time join token and print it");
    create->add_option("--name", o->name, "The agent's name (its host name fits)")->required();
    create->add_option(
        "--window", o->window,
        "Deployment windows, e.g. \"Sun 02:00-04:00 Europe/Berlin\" (default: any time)"
    );
    create->add_option("--expires", o->expires, "How long the token is valid (default 24h)");
    add_common(*create, *o);
    create->callback([o, &run] { run = [o] { return create_join_token(*o); }; });

    auto* list = agent->add_subcommand("list", "Agents, their last contact and what is pending");
    add_common(*list, *o);
    list->callback([o, &run] { run = [o] { return list_agents(*o); }; });

    const auto named = [&](const char* name, const char* help, http::verb method,
                           std::string suffix) {
        auto* cmd = agent->add_subcommand(name, help);
        cmd->add_option("name", o->name, "The agent's name")->required();
        add_common(*cmd, *o);
        cmd->callback([o, &run, method, suffix] {
            run = [o, method, suffix] { return agent_request(*o, method, suffix); };
        });
    };
    named(
        "show", "One agent: windows, and per assignment what is deployed and staged",
        http::verb::get, ""
    );
    named("disable", "Refuse the agent's requests until enabled", http::verb::post, "/disable");
    named("enable", "Accept the agent's requests again", http::verb::post, "/enable");
    named("delete", "Delete the agent and its assignments", http::verb::delete_, "");

    auto* deploy = app.add_subcommand("deploy", "Deployments: apply now, past the window");
    deploy->require_subcommand(1);
    auto* now = deploy->add_subcommand("now", "The agent applies what it has staged at once");
    now->add_option("--agent", o->name, "The agent's name")->required();
    add_common(*now, *o);
    now->callback([o, &run] {
        run = [o] { return agent_request(*o, http::verb::post, "/deploy-now"); };
    });

    const auto certs = app.get_subcommands([](CLI::App* c) { return c->get_name() == "cert"; });
    if (!certs.empty()) {
        auto* cert = certs.front();
        auto* assign_cmd = cert->add_subcommand(
            "assign", "Deploy a certificate to an agent's target (files, exec, rras)"
        );
        assign_cmd->add_option("id", o->certificate, "The certificate's id")->required();
        assign_cmd->add_option("--agent", o->name, "The agent's name")->required();
        assign_cmd->add_option("--target", o->target, "files, exec or rras")->required();
        assign_cmd->add_option(
            "--option", o->option_pairs,
            "A target option KEY=VALUE (repeatable), e.g. dir=/etc/nginx/tls, "
            "reload='[\"nginx\",\"-s\",\"reload\"]'"
        );
        assign_cmd->add_option(
            "--options-json", o->options_json, "The target's options as a JSON object"
        );
        add_common(*assign_cmd, *o);
        assign_cmd->callback([o, &run] { run = [o] { return assign(*o); }; });
    }
}

} // namespace certfleet::app
