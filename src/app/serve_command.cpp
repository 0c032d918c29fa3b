#include <toml++/toml.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>

#include "app/authority.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/log.hpp"
#include "core/config_error.hpp"
#include "dns/config.hpp"
#include "dns/server.hpp"

namespace certfleet::app {
namespace {

struct serve_options
{
    std::string config_file;
    std::vector<std::string> listen_override;
    bool verbose = false;
};

// SIGHUP: the zones are read again from the configuration file and served from the next query
// on; queries keep being answered meanwhile, and the challenge records stay. A configuration
// that does not load leaves the running zones in place.
void reload_on_hangup(
    boost::asio::signal_set& hangup, const serve_options& options, authority& dns_authority
)
{
    hangup.async_wait([&](boost::system::error_code ec, int) {
        if (ec) {
            return;
        }
        log(level::info, "received SIGHUP, reloading the zones from " +
                             (options.config_file.empty() ? std::string("the embedded defaults")
                                                          : options.config_file));
        try {
            const auto loaded = load_config(options.config_file);
            dns_authority.replace_zones(dns::parse_dns_config(loaded.table, loaded.base_dir));
            log(level::info, "reloaded the zones (listeners and limits change on restart only)");
        } catch (const core::config_error& e) {
            log(level::error,
                std::string("reload failed, still serving the previous zones: ") + e.what());
        }
        reload_on_hangup(hangup, options, dns_authority);
    });
}

int serve(const serve_options& options)
{
    if (options.verbose) {
        set_log_level(level::debug);
    }
    dns::dns_config config;
    try {
        const auto loaded = load_config(options.config_file);
        config = dns::parse_dns_config(loaded.table, loaded.base_dir);
        if (!options.listen_override.empty()) {
            config.server.listen.clear();
            for (const auto& text : options.listen_override) {
                auto endpoint = dns::parse_endpoint(text, 53);
                if (!endpoint) {
                    throw core::config_error(
                        "--listen: '" + text + "' is not an address with an optional port"
                    );
                }
                config.server.listen.push_back(*endpoint);
            }
        }
    } catch (const core::config_error& e) {
        std::cerr << "certfleet: configuration error: " << e.what()
                  << "\nFix the file (see README, section Configuration) and start again.\n";
        return exit_usage;
    }

    boost::asio::io_context io(1);
    authority dns_authority(io, config);
    if (!dns_authority.start()) {
        return exit_failure;
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::signal_set hangup(io, SIGHUP);
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec) {
            return;
        }
        log(level::info, std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                             ", shutting down");
        dns_authority.stop();
        hangup.cancel();
    });
    reload_on_hangup(hangup, options, dns_authority);
    io.run();
    const auto stats = dns_authority.server().stats();
    log(level::info, "stopped after " + std::to_string(stats.udp_queries) + " UDP and " +
                         std::to_string(stats.tcp_queries) + " TCP queries; dropped " +
                         std::to_string(stats.dropped) + ", rate-limited " +
                         std::to_string(stats.rate_limited_dropped) + " dropped and " +
                         std::to_string(stats.rate_limited_truncated) +
                         " truncated; TCP connections refused " +
                         std::to_string(stats.tcp_refused_connections) + ", evicted " +
                         std::to_string(stats.tcp_evicted_connections) + ", expired " +
                         std::to_string(stats.tcp_expired_connections) + "; accept errors " +
                         std::to_string(stats.accept_errors));
    return exit_ok;
}

} // namespace

void add_serve_command(CLI::App& app, command_runner& run)
{
    auto options = std::make_shared<serve_options>();
    auto* cmd =
        app.add_subcommand("serve", "Run the server: the authoritative DNS of the challenge zone");
    cmd->add_option(
           "-c,--config", options->config_file,
           "TOML configuration file (default: the embedded defaults)"
    )
        ->check(CLI::ExistingFile);
    cmd->add_option(
        "--listen", options->listen_override,
        "Serve DNS on these addresses instead of dns.listen (host:port)"
    );
    cmd->add_flag("-v,--verbose", options->verbose, "Log debug messages");
    cmd->callback([options, &run] { run = [options] { return serve(*options); }; });
}

} // namespace certfleet::app
