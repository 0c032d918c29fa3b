// bench/sweep: plan the renewals of N stored certificates, as `certfleet renew --due` does
// before it renews anything: read every certificate's newest version from the store and run
// the renewal policy on each. Two steps, so that the planning's peak memory is its own:
//   bench_sweep create FILE N   a synthetic store (90-day certificates renewed at two thirds
//                               of their lifetime, about 1 % due now)
//   bench_sweep plan FILE       prints seconds and peak resident memory, one figure a line
//   bench_sweep metrics FILE    seconds of one GET /metrics body over that store
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <random>

#include "app/metrics.hpp"
#include "app/settings.hpp"
#include "app/sweep.hpp"
#include "core/sqlite_store.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
using clock_type = std::chrono::system_clock;

namespace {

int create(const std::string& file, long count)
{
    auto store = core::open_sqlite_store(file);
    const auto now = clock_type::now();
    std::mt19937_64 random(42);
    // In a fleet that renews when a third of the lifetime is left, expiries spread over the
    // last two thirds; 1 % lag behind (failing renewals) and are due now.
    std::uniform_int_distribution<long> in_service(30 * 24 * 60, 90 * 24 * 60);
    std::uniform_int_distribution<long> lagging(-24 * 60, 30 * 24 * 60);
    std::uniform_int_distribution<int> percent(0, 99);
    auto r = store->in_transaction([&]() -> core::store_result<void> {
        for (long i = 0; i < count; ++i) {
            core::certificate_spec spec;
            spec.names = {"host" + std::to_string(i) + ".example.com"};
            auto id = store->add_certificate(spec, now);
            if (!id) {
                return id.error();
            }
            core::certificate_record cert;
            cert.id = *id;
            cert.state = core::certificate_state::valid;
            core::certificate_version v;
            v.certificate_id = *id;
            v.chain_pem = "-";
            v.key_sealed = "-";
            v.serial_hex = std::to_string(i);
            v.sha256_hex = "-";
            v.not_after =
                now +
                std::chrono::minutes(percent(random) == 0 ? lagging(random) : in_service(random));
            v.not_before = v.not_after - 90 * 24h;
            if (auto added = store->add_version(v, 0, cert, now); !added) {
                return added.error();
            }
        }
        return {};
    });
    if (!r) {
        std::cerr << "bench/sweep: cannot create the store: " << r.error().message() << "\n";
        return 1;
    }
    return 0;
}

int plan(const std::string& file)
{
    auto store = core::open_sqlite_store(file, {.create = false});
    app::server_settings settings;
    const auto t0 = std::chrono::steady_clock::now();
    const auto due = app::select_renewals(*store, settings, {}, clock_type::now());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto rows = store->planning_rows();
    std::cout << "certificates " << (rows ? rows->size() : 0) << "\n";
    std::cout << "due_now " << due.size() << "\n";
    std::cout << "plan_seconds " << seconds << "\n";
    std::cout << "peak_rss_mib " << static_cast<double>(u.ru_maxrss) / 1024.0 << "\n";
    return 0;
}

int metrics(const std::string& file)
{
    auto store = core::open_sqlite_store(file, {.create = false});
    app::metrics_sources sources;
    sources.store = store.get();
    const auto t0 = std::chrono::steady_clock::now();
    const auto text = app::render_metrics(sources, clock_type::now());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "metrics_seconds " << seconds << "\n";
    std::cout << "metrics_bytes " << text.size() << "\n";
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "create" && argc == 4) {
        return create(argv[2], std::stol(argv[3]));
    }
    if (mode == "plan" && argc == 3) {
        return plan(argv[2]);
    }
    if (mode == "metrics" && argc == 3) {
        return metrics(argv[2]);
    }
    std::cerr << "usage: bench_sweep create FILE N | bench_sweep plan FILE | bench_sweep metrics "
                 "FILE\n";
    return 2;
}
