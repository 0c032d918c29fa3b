// bench/issue (backend): 30 certificates through `certfleet serve` (cert add, then wait), one at
// a time and 16 at a time, against the floor in the same run with the same Pebble: the ACME
// client alone, polling every 10 ms with no backoff and no store. One figure a line, with the
// ratio certfleet/floor for each (the goal: at most 1.2).
//   bench_backend [CERTIFICATES]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "acme/client.hpp"
#include "core/challenge_redirect.hpp"
#include "support/backend_rig.hpp"
#include "support/rig_authority.hpp"

#include "order_runner.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

std::string name_of(int index)
{
    return "c" + std::to_string(index) + ".customer.test";
}

// The floor: the ACME client alone against the same Pebble, answering DNS-01 from an
// in-process authority on the port certfleet serve uses, polling every 10 ms.
double floor_seconds(test::backend_rig& rig, int certificates, int concurrency)
{
    dns::server_options dns;
    dns.listen = {
        boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), rig.dns_port())};
    test::in_process_authority authority(
        {test::make_zone({.apex = "acme.delegated.test", .ttl = 1})}, dns
    );
    core::challenge_redirect board(
        authority.challenges(),
        [](std::string_view fqdn) -> std::optional<std::string> {
            // _acme-challenge.cN.customer.test → cN.acme.delegated.test
            std::string name(fqdn);
            const auto first = name.find('.') + 1;
            return name.substr(first, name.find('.', first) - first) + ".acme.delegated.test";
        }
    );
    double seconds = 0;
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            net::http_client http(
                ex, net::http_client_options{.ca_file = rig.pebble().https_ca_file().string()}
            );
            acme::client_options options{rig.pebble().directory_url()};
            options.first_poll_delay = 10ms;
            options.max_poll_delay = 10ms;
            acme::client client(
                http, core::private_key::generate(core::key_type::ec_p256).value(), options
            );
            acme::account_options account;
            account.agree_to_terms = true;
            if (!co_await client.register_account(account)) {
                throw std::runtime_error("cannot register an account at Pebble");
            }
            const auto t0 = std::chrono::steady_clock::now();
            int failed = 0;
            co_await bench::run_orders(
                certificates, concurrency,
                [&](int index) -> asio::awaitable<void> {
                    acme::order_request r;
                    r.names = {name_of(index)};
                    r.timeout = 120s;
                    r.challenge_ttl = 1s;
                    auto issued = co_await client.issue(std::move(r), board);
                    failed += issued ? 0 : 1;
                }
            );
            if (failed > 0) {
                throw std::runtime_error(std::to_string(failed) + " floor orders failed");
            }
            seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        },
        [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        }
    );
    io.run();
    return seconds;
}

// Milliseconds since the epoch of a log line's "2026-12-01T11:58:46.094Z" prefix.
double log_time_ms(const std::string& line)
{
    std::tm tm{};
    std::istringstream in(line.substr(0, 19));
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    const double seconds = static_cast<double>(timegm(&tm));
    return seconds * 1000 + std::stod(line.substr(20, 3));
}

void set_bound(const test::backend_rig& rig, int concurrency)
{
    const auto text = test::read_text_file(rig.config());
    const auto updated = std::regex_replace(
        text, std::regex("max_concurrent_orders = [0-9]+"),
        "max_concurrent_orders = " + std::to_string(concurrency)
    );
    std::ofstream(rig.config()) << updated;
}

// certfleet serve: the certificates are added while it is stopped; the time runs from its
// start (its first log line) to the last "issued" line.
double certfleet_seconds(test::backend_rig& rig, int certificates, int concurrency)
{
    rig.stop_serve();
    set_bound(rig, concurrency);
    for (int i = 0; i < certificates; ++i) {
        if (rig.certfleet({"cert", "add", "--name", name_of(i)}).exit_code != 0) {
            throw std::runtime_error("cert add failed");
        }
    }
    const auto log_file = rig.dir().path() / "certfleet" / "serve.log";
    if (std::filesystem::exists(log_file)) {
        std::filesystem::rename(log_file, rig.dir().path() / "certfleet" / "serve-previous.log");
    }
    rig.start_serve(); // nothing else of ours runs until the last certificate is issued
    const auto until = std::chrono::steady_clock::now() + 300s;
    std::size_t issued = 0;
    double first = -1;
    double last = 0;
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream in(log_file);
        std::string line;
        issued = 0;
        first = -1;
        while (std::getline(in, line)) {
            if (line.size() < 24) {
                continue;
            }
            if (first < 0) {
                first = log_time_ms(line);
            }
            if (line.find(" issued (") != std::string::npos) {
                ++issued;
                last = log_time_ms(line);
            }
        }
        if (issued >= static_cast<std::size_t>(certificates)) {
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    if (issued < static_cast<std::size_t>(certificates)) {
        throw std::runtime_error(
            "certfleet serve issued " + std::to_string(issued) + " of " +
            std::to_string(certificates)
        );
    }
    return (last - first) / 1000;
}

} // namespace

int main(int argc, char** argv)
{
    const int certificates = argc > 1 ? std::stoi(argv[1]) : 30;
    try {
        test::backend_rig_options options;
        for (int i = 0; i < certificates; ++i) {
            options.domains[name_of(i)] = "c" + std::to_string(i);
        }
        options.extra_config = "";
        test::backend_rig rig(options);
        (void)floor_seconds(rig, 2, 1); // warm-up: Pebble, unbound, connections
        const double floor1 = floor_seconds(rig, certificates, 1);
        const double floor16 = floor_seconds(rig, certificates, 16);
        const double serve1 = certfleet_seconds(rig, certificates, 1);
        const double serve16 = certfleet_seconds(rig, certificates, 16);
        rig.stop_serve();
        std::cout << "certificates " << certificates << "\n";
        std::cout << "floor_ms_per_cert_c1 " << 1000 * floor1 / certificates << "\n";
        std::cout << "certfleet_ms_per_cert_c1 " << 1000 * serve1 / certificates << "\n";
        std::cout << "ratio_certfleet_over_floor_c1 " << serve1 / floor1 << "\n";
        std::cout << "floor_ms_per_cert_c16 " << 1000 * floor16 / certificates << "\n";
        std::cout << "certfleet_ms_per_cert_c16 " << 1000 * serve16 / certificates << "\n";
        std::cout << "ratio_certfleet_over_floor_c16 " << serve16 / floor16 << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench/issue: " << e.what() << "\n";
        return 1;
    }
}
