// bench/api: the HTTPS API under load, beside an anchor serving the same bytes.
//   bench_api populate FILE N      N issued certificates in the store at FILE (none due)
//   bench_api latency NAME URL TOKEN PIN REQUESTS
//                                  sequential GETs over one kept-alive TLS connection; prints
//                                  NAME_p50_ms and NAME_p99_ms
//   bench_api throughput NAME URL TOKEN PIN BODY SECONDS CONNECTIONS
//                                  POSTs of BODY from CONNECTIONS concurrent kept-alive clients
//                                  for SECONDS; prints NAME_per_second
// PIN is the SHA-256 of the server's certificate; TOKEN "-" sends no Authorization.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <iostream>
#include <random>

#include "core/sqlite_store.hpp"
#include "net/http_client.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

int populate(const std::string& file, long count)
{
    auto store = core::open_sqlite_store(file, {.create = false});
    const auto now = std::chrono::system_clock::now();
    std::mt19937_64 random(7);
    std::uniform_int_distribution<long> days_left(70, 89);
    auto r = store->in_transaction([&]() -> core::store_result<void> {
        for (long i = 0; i < count; ++i) {
            core::certificate_spec spec;
            spec.names = {"host" + std::to_string(i) + ".example.com", "alt" + std::to_string(i) + ".example.com"};
            auto id = store->add_certificate(spec, now);
            if (!id) {
                return id.error();
            }
            core::certificate_record cert;
            cert.id = *id;
            cert.state = core::certificate_state::valid;
            cert.next_attempt_at = now + 60 * 24h;
            core::certificate_version v;
            v.certificate_id = *id;
            v.chain_pem = "-";
            v.key_sealed = "-";
            v.serial_hex = std::to_string(1000000 + i);
            v.sha256_hex = std::string(64, 'a');
            v.not_after = now + days_left(random) * 24h;
            v.not_before = v.not_after - 90 * 24h;
            if (auto added = store->add_version(v, 0, cert, now); !added) {
                return added.error();
            }
        }
        return {};
    });
    if (!r) {
        std::cerr << "bench/api: cannot populate the store: " << r.error().message() << "\n";
        return 1;
    }
    return 0;
}

net::http_client_options client_options(const std::string& pin)
{
    net::http_client_options o;
    o.pinned_sha256 = pin;
    o.max_body_bytes = std::size_t{64} * 1024 * 1024;
    return o;
}

net::http_request make_request(http::verb method, const std::string& url, const std::string& token, const std::string& body)
{
    net::http_request r;
    r.method = method;
    r.url = url;
    r.body = body;
    if (!body.empty()) {
        r.content_type = "application/json";
    }
    if (token != "-") {
        r.headers.emplace_back("Authorization", "Bearer " + token);
    }
    return r;
}

double percentile(std::vector<double> samples, double p)
{
    std::sort(samples.begin(), samples.end());
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(p * static_cast<double>(samples.size())))];
}

asio::awaitable<void> sequential(net::http_client& client, net::http_request request, int n, std::vector<double>& out, int& failures)
{
    for (int i = 0; i < n + 20; ++i) { // the first 20 warm up
        const auto t0 = std::chrono::steady_clock::now();
        auto r = co_await client.request(request);
        const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!r || r->status != 200) {
            ++failures;
        } else if (i >= 20) {
            out.push_back(ms);
        }
    }
}

int latency(const std::string& name, const std::string& url, const std::string& token, const std::string& pin, int n)
{
    asio::io_context io;
    net::http_client client(io.get_executor(), client_options(pin));
    std::vector<double> samples;
    int failures = 0;
    asio::co_spawn(io, sequential(client, make_request(http::verb::get, url, token, ""), n, samples, failures), asio::detached);
    io.run();
    if (samples.empty() || failures > 0) {
        std::cerr << "bench/api: " << name << ": " << failures << " requests failed\n";
        return 1;
    }
    std::cout << name << "_p50_ms " << percentile(samples, 0.50) << "\n";
    std::cout << name << "_p99_ms " << percentile(samples, 0.99) << "\n";
    return 0;
}

asio::awaitable<void> hammer(
    net::http_client& client, net::http_request request, std::chrono::steady_clock::time_point until, long& done, long& failed
)
{
    while (std::chrono::steady_clock::now() < until) {
        auto r = co_await client.request(request);
        if (r && r->status < 300) {
            ++done;
        } else {
            ++failed;
        }
    }
}

int throughput(
    const std::string& name, const std::string& url, const std::string& token, const std::string& pin,
    const std::string& body, double seconds, int connections
)
{
    asio::io_context io;
    auto options = client_options(pin);
    options.max_idle_connections_per_host = static_cast<std::size_t>(connections);
    net::http_client client(io.get_executor(), options);
    long done = 0;
    long failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto until = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    for (int i = 0; i < connections; ++i) {
        asio::co_spawn(io, hammer(client, make_request(http::verb::post, url, token, body), until, done, failed), asio::detached);
    }
    io.run();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (failed > 0) {
        std::cerr << "bench/api: " << name << ": " << failed << " requests failed\n";
    }
    std::cout << name << "_per_second " << static_cast<double>(done) / elapsed << "\n";
    return failed > done / 100 ? 1 : 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "populate") {
        return populate(a[1], std::stol(a[2]));
    }
    if (a.size() == 6 && a[0] == "latency") {
        return latency(a[1], a[2], a[3], a[4], std::stoi(a[5]));
    }
    if (a.size() == 8 && a[0] == "throughput") {
        return throughput(a[1], a[2], a[3], a[4], a[5], std::stod(a[6]), std::stoi(a[7]));
    }
    std::cerr << "usage: bench_api populate FILE N | latency NAME URL TOKEN PIN N | "
                 "throughput NAME URL TOKEN PIN BODY SECONDS CONNECTIONS\n";
    return 2;
}
