// bench/api: the HTTPS API under load, beside an anchor serving the same bytes.
//   bench_api populate FILE N      N issued certificates in the store at FILE (none due)
//   bench_api latency NAME URL TOKEN PIN REQUESTS
//                                  sequential GETs over one kept-alive TLS connection; prints
//                                  NAME_p50_ms and NAME_p99_ms
//   bench_api throughput NAME URL TOKEN PIN BODY SECONDS CONNECTIONS
//                                  POSTs of BODY from CONNECTIONS concurrent kept-alive clients
//                                  for SECONDS; prints NAME_per_second
//   bench_api acmedns URL PIN USER KEY SUBDOMAIN DNS_PORT FULLDOMAIN SECONDS CONNECTIONS N
//                                  acme-dns POST /update: per second from CONNECTIONS kept-alive
//                                  TLS clients for SECONDS, then N times the time from a 200 to
//                                  the new value in our DNS's TXT answer (p50, p99)
// PIN is the SHA-256 of the server's certificate; TOKEN "-" sends no Authorization.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
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
            spec.names = {
                "host" + std::to_string(i) + ".example.com",
                "alt" + std::to_string(i) + ".example.com"};
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

net::http_request make_request(
    http::verb method, const std::string& url, const std::string& token, const std::string& body
)
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
    return samples[std::min(
        samples.size() - 1, static_cast<std::size_t>(p * static_cast<double>(samples.size()))
    )];
}

asio::awaitable<void> sequential(
    net::http_client& client,
    net::http_request request,
    int n,
    std::vector<double>& out,
    int& failures
)
{
    for (int i = 0; i < n + 20; ++i) { // the first 20 warm up
        const auto t0 = std::chrono::steady_clock::now();
        auto r = co_await client.request(request);
        const auto ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        if (!r || r->status != 200) {
            ++failures;
        } else if (i >= 20) {
            out.push_back(ms);
        }
    }
}

int latency(
    const std::string& name,
    const std::string& url,
    const std::string& token,
    const std::string& pin,
    int n
)
{
    asio::io_context io;
    net::http_client client(io.get_executor(), client_options(pin));
    std::vector<double> samples;
    int failures = 0;
    asio::co_spawn(
        io, sequential(client, make_request(http::verb::get, url, token, ""), n, samples, failures),
        asio::detached
    );
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
    net::http_client& client,
    net::http_request request,
    std::chrono::steady_clock::time_point until,
    long& done,
    long& failed
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
    const std::string& name,
    const std::string& url,
    const std::string& token,
    const std::string& pin,
    const std::string& body,
    double seconds,
    int connections
)
{
    asio::io_context io;
    auto options = client_options(pin);
    options.max_idle_connections_per_host = static_cast<std::size_t>(connections);
    net::http_client client(io.get_executor(), options);
    long done = 0;
    long failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto until = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(seconds)
                            );
    for (int i = 0; i < connections; ++i) {
        asio::co_spawn(
            io,
            hammer(client, make_request(http::verb::post, url, token, body), until, done, failed),
            asio::detached
        );
    }
    io.run();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (failed > 0) {
        std::cerr << "bench/api: " << name << ": " << failed << " requests failed\n";
    }
    std::cout << name << "_per_second " << static_cast<double>(done) / elapsed << "\n";
    return failed > done / 100 ? 1 : 0;
}

std::string random_txt(std::mt19937_64& random)
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out(43, 'A');
    for (auto& c : out) {
        c = alphabet[random() % 64];
    }
    return out;
}

// One UDP TXT query to 127.0.0.1:port; whether the answer (within 1 s) holds `value`.
bool dns_answers(int fd, std::uint16_t port, const std::string& name, const std::string& value)
{
    // One question, and an OPT record (EDNS0, 1232 bytes): several values outgrow 512 bytes.
    std::string query("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01", 12);
    std::size_t start = 0;
    for (;;) {
        const auto dot = name.find('.', start);
        const auto label =
            name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        query += static_cast<char>(label.size());
        query += label;
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    query += std::string("\x00\x00\x10\x00\x01", 5);
    query += std::string("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::sendto(
            fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to
        ) < 0) {
        return false;
    }
    char reply[4096];
    const auto n = ::recv(fd, reply, sizeof reply, 0);
    return n > 0 && std::string_view(reply, static_cast<std::size_t>(n)).find(value) !=
                        std::string_view::npos;
}

asio::awaitable<void> update_then_resolve(
    net::http_client& client,
    net::http_request request,
    std::string subdomain,
    std::uint16_t dns_port,
    std::string fulldomain,
    int n,
    std::vector<double>& samples,
    int& failures
)
{
    std::mt19937_64 random(11);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < n; ++i) {
        const auto value = random_txt(random);
        request.body = nlohmann::json{{"subdomain", subdomain}, {"txt", value}}.dump();
        auto r = co_await client.request(request);
        const auto t0 = std::chrono::steady_clock::now();
        if (!r || r->status != 200) {
            ++failures;
            continue;
        }
        bool seen = false;
        for (int tries = 0; tries < 1000 && !seen; ++tries) {
            seen = dns_answers(fd, dns_port, fulldomain, value);
        }
        if (!seen) {
            ++failures;
            continue;
        }
        samples.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
        );
    }
    ::close(fd);
}

int acmedns(const std::vector<std::string>& a)
{
    const auto& url = a[1];
    const auto& pin = a[2];
    const auto& subdomain = a[5];
    const auto dns_port = static_cast<std::uint16_t>(std::stoi(a[6]));
    const auto& fulldomain = a[7];
    net::http_request update = make_request(http::verb::post, url + "/update", "-", "");
    update.content_type = "application/json";
    update.headers = {{"X-Api-User", a[3]}, {"X-Api-Key", a[4]}};
    std::mt19937_64 random(5);
    update.body = nlohmann::json{{"subdomain", subdomain}, {"txt", random_txt(random)}}.dump();

    // Throughput: the same valid update from every connection.
    {
        asio::io_context io;
        auto options = client_options(pin);
        const int connections = std::stoi(a[9]);
        options.max_idle_connections_per_host = static_cast<std::size_t>(connections);
        net::http_client client(io.get_executor(), options);
        long done = 0;
        long failed = 0;
        const auto t0 = std::chrono::steady_clock::now();
        const auto until = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(std::stod(a[8]))
                                );
        for (int i = 0; i < connections; ++i) {
            asio::co_spawn(io, hammer(client, update, until, done, failed), asio::detached);
        }
        io.run();
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (failed > 0) {
            std::cerr << "bench/api: acmedns: " << failed << " updates failed\n";
            return 1;
        }
        std::cout << "acmedns_update_per_second " << static_cast<double>(done) / elapsed << "\n";
    }
    // Update to answer.
    asio::io_context io;
    net::http_client client(io.get_executor(), client_options(pin));
    std::vector<double> samples;
    int failures = 0;
    asio::co_spawn(
        io,
        update_then_resolve(
            client, update, subdomain, dns_port, fulldomain, std::stoi(a[10]), samples, failures
        ),
        asio::detached
    );
    io.run();
    if (samples.empty() || failures > 0) {
        std::cerr << "bench/api: acmedns: " << failures << " updates not answered\n";
        return 1;
    }
    std::cout << "acmedns_update_to_dns_p50_ms " << percentile(samples, 0.50) << "\n";
    std::cout << "acmedns_update_to_dns_p99_ms " << percentile(samples, 0.99) << "\n";
    return 0;
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
    if (a.size() == 11 && a[0] == "acmedns") {
        return acmedns(a);
    }
    std::cerr << "usage: bench_api populate FILE N | latency NAME URL TOKEN PIN N | "
                 "throughput NAME URL TOKEN PIN BODY SECONDS CONNECTIONS\n";
    return 2;
}
