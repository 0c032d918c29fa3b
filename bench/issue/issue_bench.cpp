// bench/issue: 50 two-name certificates from Pebble through the delegated DNS, with concurrency 1
// and 16. Prints one figure a line: certificates per second for each, the speed-up, and where
// the CPU time goes (certfleet's process — ACME client and DNS authority — vs Pebble's).
//   bench_issue [CERTIFICATES [FIRST_POLL_MS]]   (the client's default first poll is 50 ms)
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "acme/client.hpp"
#include "support/acme_rig.hpp"

#include "order_runner.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

double own_cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double process_cpu_seconds(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14 || i == 15) {
            ticks += std::stod(field);
        }
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct round_result
{
    double seconds = 0;
    int ok = 0;
    double own_cpu = 0;
    double pebble_cpu = 0;
};

std::chrono::milliseconds first_poll{50};

// Each certificate gets its own two names: orders that share a name would pile their TXT values
// on it, and Pebble's VA asks without EDNS, so past 512 bytes it sees a truncated answer.
std::vector<std::string> names_of(int index)
{
    const auto n = std::to_string(index);
    return {"c" + n + "-a.customer.test", "c" + n + "-b.customer.test"};
}

round_result run_round(test::acme_rig& rig, int certificates, int concurrency)
{
    round_result out;
    const auto pebble_pid = rig.pebble().process().pid();
    rig.run(
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            net::http_client http(
                ex, net::http_client_options{.ca_file = rig.pebble().https_ca_file().string()}
            );
            acme::client_options options{rig.pebble().directory_url()};
            options.first_poll_delay = first_poll;
            acme::client client(
                http, core::private_key::generate(core::key_type::ec_p256).value(), options
            );
            acme::account_options account;
            account.agree_to_terms = true;
            if (!co_await client.register_account(account)) {
                throw std::runtime_error("cannot register an account at Pebble");
            }
            const auto cpu0 = own_cpu_seconds();
            const auto pebble0 = process_cpu_seconds(pebble_pid);
            const auto t0 = std::chrono::steady_clock::now();
            co_await bench::run_orders(
                certificates, concurrency,
                [&](int index) -> asio::awaitable<void> {
                    acme::order_request r;
                    r.names = names_of(index);
                    r.timeout = 120s;
                    r.challenge_ttl = 1s;
                    auto issued = co_await client.issue(std::move(r), rig.board());
                    if (issued) {
                        ++out.ok;
                    } else {
                        std::cerr << "order failed: " << issued.error().message() << "\n";
                    }
                }
            );
            out.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            out.own_cpu = own_cpu_seconds() - cpu0;
            out.pebble_cpu = process_cpu_seconds(pebble_pid) - pebble0;
        },
        600s
    );
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    const int certificates = argc > 1 ? std::stoi(argv[1]) : 50;
    if (argc > 2) {
        first_poll = std::chrono::milliseconds(std::stoi(argv[2]));
    }
    try {
        test::acme_rig_options options;
        for (int i = 0; i < certificates; ++i) {
            for (const auto& name : names_of(i)) {
                options.cnames[name] = name.substr(0, name.find('.'));
            }
        }
        test::acme_rig rig(options);
        run_round(rig, 1, 1); // warm-up: connections, caches
        const auto c1 = run_round(rig, certificates, 1);
        const auto c16 = run_round(rig, certificates, 16);
        if (c1.ok != certificates || c16.ok != certificates) {
            std::cerr << "some orders failed\n";
            return 1;
        }
        const double r1 = certificates / c1.seconds;
        const double r16 = certificates / c16.seconds;
        std::cout << "certificates " << certificates << "\n";
        std::cout << "first_poll_ms " << first_poll.count() << "\n";
        std::cout << "certs_per_second_concurrency_1 " << r1 << "\n";
        std::cout << "certs_per_second_concurrency_16 " << r16 << "\n";
        std::cout << "speedup_16_over_1 " << r16 / r1 << "\n";
        std::cout << "certfleet_cpu_ms_per_cert_c1 " << 1000 * c1.own_cpu / certificates << "\n";
        std::cout << "pebble_cpu_ms_per_cert_c1 " << 1000 * c1.pebble_cpu / certificates << "\n";
        std::cout << "certfleet_cpu_ms_per_cert_c16 " << 1000 * c16.own_cpu / certificates << "\n";
        std::cout << "pebble_cpu_ms_per_cert_c16 " << 1000 * c16.pebble_cpu / certificates << "\n";
        std::cout << "wall_ms_per_cert_c1 " << 1000 * c1.seconds / certificates << "\n";
        std::cout << "cpu_ratio_certfleet_over_pebble_c16 " << c16.own_cpu / c16.pebble_cpu << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench/issue: " << e.what() << "\n";
        return 1;
    }
}
