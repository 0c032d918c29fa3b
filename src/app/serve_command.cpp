#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>

#include "app/api_listener.hpp"
#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/control.hpp"
#include "app/log.hpp"
#include "app/runtime.hpp"
#include "core/config_error.hpp"

namespace certfleet::app {
namespace {

struct serve_options
{
    std::string config_file;
    std::vector<std::string> listen_override;
    bool verbose = false;
};

void override_listen(server_settings& s, const std::vector<std::string>& listen)
{
    if (listen.empty()) {
        return;
    }
    s.dns.server.listen.clear();
    for (const auto& text : listen) {
        auto endpoint = dns::parse_endpoint(text, 53);
        if (!endpoint) {
            throw core::config_error(
                "--listen: '" + text + "' is not an address with an optional port"
            );
        }
        s.dns.server.listen.push_back(*endpoint);
    }
}

// Stops on SIGINT/SIGTERM: the scheduler starts nothing more, the listeners close, and the
// orders in flight stay in the store (every step was written first), to be resumed at start.
void stop_on_signals(boost::asio::signal_set& signals, const std::function<void()>& stop)
{
    signals.async_wait([stop](boost::system::error_code ec, int signal) {
        if (ec) {
            return;
        }
        log(level::info, std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                             ", parking orders in flight and shutting down");
        stop();
    });
}

// SIGHUP: the zones are read again from the configuration file and served from the next query
// on; queries keep being answered meanwhile, and the challenge records stay. A configuration
// that does not load leaves the running zones in place.
void reload_on_hangup(
    boost::asio::signal_set& hangup, const std::string& config_file, authority& dns_authority
)
{
    hangup.async_wait([&hangup, config_file, &dns_authority](boost::system::error_code ec, int) {
        if (ec) {
            return;
        }
        log(level::info,
            "received SIGHUP, reloading the zones from " +
                (config_file.empty() ? std::string("the embedded defaults") : config_file));
        try {
            const auto loaded = load_config(config_file);
            dns_authority.replace_zones(dns::parse_dns_config(loaded.table, loaded.base_dir));
            log(level::info, "reloaded the zones (listeners and limits change on restart only)");
        } catch (const core::config_error& e) {
            log(level::error,
                std::string("reload failed, still serving the previous zones: ") + e.what());
        }
        reload_on_hangup(hangup, config_file, dns_authority);
    });
}

void log_dns_stats(const authority& dns_authority)
{
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
}

// API requests in flight get a few seconds to finish; then everything stops.
boost::asio::awaitable<void> drain_then_stop(api_listener& api, boost::asio::io_context& io)
{
    co_await api.shutdown(std::chrono::seconds(5));
    io.stop();
}

int serve_dns_only(const server_settings& s)
{
    boost::asio::io_context io(1);
    // Before the server starts: its UDP threads answer at once, and a signal that follows a first
    // answer must find the handlers in place.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::signal_set hangup(io, SIGHUP);
    authority dns_authority(io, s.dns);
    if (!dns_authority.start()) {
        return exit_failure;
    }
    stop_on_signals(signals, [&] {
        dns_authority.stop();
        hangup.cancel();
    });
    reload_on_hangup(hangup, s.config_file.string(), dns_authority);
    io.run();
    log_dns_stats(dns_authority);
    return exit_ok;
}

int serve_backend(const server_settings& s, state& opened)
{
    boost::asio::io_context io(1);
    // Before the DNS server starts (see serve_dns_only).
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::signal_set hangup(io, SIGHUP);
    runtime rt(io, s, opened);
    control_server control(io.get_executor(), s.control_socket, rt.scheduler());
    if (auto ec = control.start()) {
        std::cerr << "certfleet: cannot open the control socket " << s.control_socket << ": "
                  << ec.message()
                  << (ec == boost::system::errc::address_in_use
                          ? "\nAnother `certfleet serve` runs on this store: stop it first."
                          : "\nCheck the directory of the database and its permissions.")
                  << '\n';
        return exit_failure;
    }
    if (!rt.start_dns() || !rt.start_acmedns()) {
        return exit_failure;
    }
    std::unique_ptr<api_listener> api;
    if (s.api.enabled) {
        rest_hooks hooks;
        hooks.reschedule = [&rt](core::row_id id) { rt.scheduler().reschedule(id); };
        hooks.renew = [&rt](std::vector<core::row_id> ids) {
            return rt.scheduler().run_all_now(std::move(ids));
        };
        hooks.metrics = [&rt] {
            return render_metrics(rt.metrics(), std::chrono::system_clock::now());
        };
        api = std::make_unique<api_listener>(io, s, opened, std::move(hooks));
        if (!api->start()) {
            return exit_failure;
        }
        auto previous = rt.scheduler().on_result;
        rt.scheduler().on_result = [previous, listener = api.get()](const run_result& r) {
            if (previous) {
                previous(r);
            }
            if (r.outcome == run_outcome::issued) {
                listener->certificate_issued(r.certificate_id);
            }
        };
    }
    rt.scheduler().start();
    log(level::info, "issuance backend running: " + std::to_string(rt.scheduler().queued()) +
                         " certificate(s) planned");
    stop_on_signals(signals, [&] {
        control.stop();
        rt.stop();
        hangup.cancel();
        if (api) {
            boost::asio::co_spawn(io, drain_then_stop(*api, io), boost::asio::detached);
        } else {
            io.stop();
        }
    });
    reload_on_hangup(hangup, s.config_file.string(), rt.authority());
    io.run();
    log_dns_stats(rt.authority());
    return exit_ok;
}

int serve(serve_options& options)
{
    if (options.verbose) {
        set_log_level(level::debug);
    }
    return with_settings(options.config_file, [&](const server_settings& loaded) {
        auto s = loaded;
        try {
            override_listen(s, options.listen_override);
        } catch (const core::config_error& e) {
            std::cerr << "certfleet: " << e.what() << '\n';
            return exit_usage;
        }
        if (!s.backend) {
            return serve_dns_only(s);
        }
        auto opened = open_state(s);
        return serve_backend(s, opened);
    });
}

} // namespace

void add_serve_command(CLI::App& app, command_runner& run)
{
    auto options = std::make_shared<serve_options>();
    auto* cmd = app.add_subcommand(
        "serve", "Run the server: scheduler, ACME workers and the DNS authority of the challenge "
                 "zone (DNS alone when the configuration has no [store])"
    );
    cmd->add_option(
           "-c,--config", options->config_file,
           "TOML configuration file (default: $CERTFLEET_CONFIG, ./certfleet.toml, else the "
           "embedded defaults)"
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
