// bench/agents: N agents long-polling one `certfleet serve` on loopback, simulated in this
// process (agent_sim.hpp). Modes:
//   bench_agents seed CONFIG N TOKENS_FILE
//       a certificate with one version (self-signed leaf, key sealed under the master key, as
//       the issuer stores it) and N join tokens (deploy_service), one a line in TOKENS_FILE;
//       prints the certificate's id. Run before the server starts.
//   bench_agents run CONFIG HOST PORT TOKENS_FILE CERTIFICATE SERVER_PID
//       enrolls the N agents over HTTPS, assigns the certificate to each (in the store, one
//       transaction), lets every agent fetch, verify and report the first version and wait in
//       its next poll; reads the server's memory then; adds a new version (the renewal) and
//       measures until every agent has received and verified it. One figure a line.
// Environment: BENCH_REPORTS=0 leaves out the agents' "staged" reports.
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/deploy_service.hpp"
#include "app/sealed_keys.hpp"
#include "app/settings.hpp"
#include "app/state.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/self_signed.hpp"

#include "agent_sim.hpp"

using namespace certfleet;
using namespace std::chrono_literals;

namespace {

constexpr double goal_rss_mib = 300;
constexpr double goal_delivery_s = 10;

// A new version of `certificate` as the issuer would store it; returns its id.
core::store_result<core::row_id> add_version(
    app::state& st, core::row_id certificate, bench::steady::time_point* committed = nullptr
)
{
    const auto now = std::chrono::system_clock::now();
    auto key = core::private_key::generate(core::key_type::ec_p256).value();
    auto pem = core::make_self_signed_certificate(
                   key, {.common_name = "bench.certfleet.test",
                         .dns_names = {"bench.certfleet.test"},
                         .validity = std::chrono::hours(24 * 90)}
    )
                   .value();
    auto chain = core::parse_pem_chain(pem).value();
    auto sealed = st.vault.seal(key.to_pem(), app::certificate_key_context(certificate)).value();
    core::certificate_version v;
    v.certificate_id = certificate;
    v.chain_pem = pem;
    v.key_sealed = std::move(sealed);
    v.serial_hex = core::to_hex(chain.front().serial);
    v.sha256_hex = core::to_hex(chain.front().sha256_fingerprint);
    v.not_before = chain.front().not_before;
    v.not_after = chain.front().not_after;
    auto cert = st.store->get_certificate(certificate);
    if (!cert) {
        return cert.error();
    }
    cert->state = core::certificate_state::valid;
    cert->next_attempt_at = now + 24h * 60; // the scheduler leaves it alone
    auto id = st.store->add_version(v, 0, *cert, now);
    if (committed != nullptr) {
        *committed = bench::steady::now();
    }
    return id;
}

int seed(const std::string& config, long count, const std::string& tokens_file)
{
    const auto settings = app::load_settings(config);
    auto st = app::open_state(settings);
    core::certificate_spec spec;
    spec.names = {"bench.certfleet.test"};
    const auto certificate = st.store->add_certificate(spec, std::chrono::system_clock::now());
    if (!certificate || !add_version(st, *certificate)) {
        std::cerr << "bench/agents: cannot store the certificate\n";
        return 1;
    }
    app::deploy_service deploy(settings, st);
    std::ofstream out(tokens_file);
    char name[32];
    for (long i = 0; i < count; ++i) {
        std::snprintf(name, sizeof name, "agent-%05ld", i);
        auto made = deploy.create_join_token(name, "", 24h, std::chrono::system_clock::now());
        if (const auto* r = std::get_if<app::deploy_refusal>(&made)) {
            std::cerr << "bench/agents: join token: " << r->message << "\n";
            return 1;
        }
        out << std::get<app::made_join_token>(made).text << "\n";
    }
    std::cout << *certificate << "\n";
    return out ? 0 : 1;
}

// VmRSS and VmHWM of a process, in MiB.
std::pair<double, double> memory_mib(long pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    double rss = 0;
    double hwm = 0;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key;
        double kib = 0;
        fields >> key >> kib;
        if (key == "VmRSS:") {
            rss = kib / 1024;
        } else if (key == "VmHWM:") {
            hwm = kib / 1024;
        }
    }
    return {rss, hwm};
}

// utime + stime of a process, in clock ticks.
long cpu_ticks(long pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) { // fields 3..13
        fields >> skip;
    }
    long utime = 0;
    long stime = 0;
    fields >> utime >> stime;
    return utime + stime;
}

// Turns the agents' io until the server has spent no CPU for half a second: every poll it was
// sent has been answered or is waiting.
void until_server_idle(bench::agent_sim& sim, long pid)
{
    long last = cpu_ticks(pid);
    for (int quiet = 0, rounds = 0; quiet < 2 && rounds < 120; ++rounds) {
        sim.run_until([] { return false; }, 250ms);
        const long now = cpu_ticks(pid);
        quiet = now == last ? quiet + 1 : 0;
        last = now;
    }
}

bool assign_all(app::state& st, bench::agent_sim& sim, core::row_id certificate)
{
    auto& deployments = st.store->deployments();
    auto done = st.store->in_transaction([&]() -> core::store_result<void> {
        for (auto& a : sim.agents()) {
            auto agent = deployments.find_agent(a.name);
            if (!agent) {
                return agent.error();
            }
            core::assignment_record r;
            r.agent_id = agent->id;
            r.certificate_id = certificate;
            r.target = "files";
            r.options_json = R"({"dir":"/etc/ssl/bench"})";
            r.created_at = std::chrono::system_clock::now();
            if (auto added = deployments.add_assignment(r); !added) {
                return added.error();
            }
        }
        return {};
    });
    return done.has_value();
}

double seconds(bench::steady::duration d)
{
    return std::chrono::duration<double>(d).count();
}

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

int run(const std::vector<std::string>& a)
{
    const auto settings = app::load_settings(a[1]);
    auto st = app::open_state(settings);
    std::vector<std::string> tokens;
    {
        std::ifstream in(a[4]);
        for (std::string line; std::getline(in, line);) {
            tokens.push_back(line);
        }
    }
    const core::row_id certificate = std::stoll(a[5]);
    const long pid = std::stol(a[6]);
    const std::size_t n = tokens.size();
    const std::string tag = "agents=" + std::to_string(n) + " ";
    bench::sim_options options;
    options.host = a[2];
    options.port = static_cast<std::uint16_t>(std::stoi(a[3]));
    const char* reports = std::getenv("BENCH_REPORTS");
    options.report = reports == nullptr || std::string(reports) != "0";
    boost::asio::io_context io;
    bench::agent_sim sim(io, options, std::move(tokens));
    const auto& c = sim.counters();
    const auto failed = [&](const char* phase) {
        std::cerr << "bench/agents: " << phase << ": " << c.failed << " agents failed; "
                  << c.problem << "\n";
        return 1;
    };

    std::cout << tag << "server_rss_before_mib=" << memory_mib(pid).first << "\n";
    auto t0 = bench::steady::now();
    sim.start();
    sim.run_until([&] { return c.enrolled + c.failed == n; }, 600s);
    if (c.enrolled != n) {
        return failed("enrollment");
    }
    std::cout << tag << "enroll_s=" << seconds(bench::steady::now() - t0) << "\n";
    if (!assign_all(st, sim, certificate)) {
        std::cerr << "bench/agents: cannot assign the certificate\n";
        return 1;
    }
    t0 = bench::steady::now();
    sim.open_gate();
    if (!sim.run_until([&] { return c.waiting == n || c.failed > 0; }, 600s) || c.failed > 0) {
        return failed("first version");
    }
    std::cout << tag << "first_version_to_all_s=" << seconds(bench::steady::now() - t0) << "\n";
    until_server_idle(sim, pid);
    const auto [rss, hwm_before] = memory_mib(pid);
    std::cout << tag << "server_rss_mib=" << rss << "\n";

    const auto first = st.store->latest_version(certificate).value().value().id;
    bench::steady::time_point renewed_at;
    if (!add_version(st, certificate, &renewed_at)) {
        std::cerr << "bench/agents: cannot add the new version\n";
        return 1;
    }
    sim.renewal(first, renewed_at);
    const long ticks = cpu_ticks(pid);
    if (!sim.run_until([&] { return c.renewed == n || c.failed > 0; }, 300s)) {
        std::cerr << "bench/agents: " << c.renewed << " of " << n
                  << " agents received the renewal in time\n";
        return 1;
    }
    if (c.failed > 0) {
        return failed("renewal");
    }
    const double server_cpu =
        static_cast<double>(cpu_ticks(pid) - ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::vector<double> delays;
    for (const auto& agent : sim.agents()) {
        delays.push_back(seconds(*agent.renewed_at - renewed_at));
    }
    const double all = *std::max_element(delays.begin(), delays.end());
    const auto [rss_after, hwm] = memory_mib(pid);
    std::cout << tag << "renewal_to_all_verified_s=" << all << "\n";
    std::cout << tag << "delivery_p50_s=" << percentile(delays, 0.50) << "\n";
    std::cout << tag << "delivery_p99_s=" << percentile(delays, 0.99) << "\n";
    std::cout << tag << "server_cpu_during_delivery_s=" << server_cpu << "\n";
    std::cout << tag << "server_hwm_mib=" << hwm << "\n";
    std::cout << tag << "rss_vs_goal=" << rss / goal_rss_mib << "\n";
    std::cout << tag << "delivery_vs_goal=" << all / goal_delivery_s << "\n";
    (void)hwm_before;
    (void)rss_after;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> a(argv + 1, argv + argc);
    try {
        if (a.size() == 4 && a[0] == "seed") {
            return seed(a[1], std::stol(a[2]), a[3]);
        }
        if (a.size() == 7 && a[0] == "run") {
            return run(a);
        }
    } catch (const std::exception& e) {
        std::cerr << "bench/agents: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: bench_agents seed CONFIG N TOKENS_FILE | "
                 "run CONFIG HOST PORT TOKENS_FILE CERTIFICATE SERVER_PID\n";
    return 2;
}
