// certfleet's DNS authority as the open internet treats it: reflection floods (response rate
// limiting), a query whose reply cannot be sent amid others (a UDP batch), a client holding
// every TCP slot, clients that do not read, a process out of file descriptors. Each server runs
// in this process on 127.0.0.1, so that the test can read its counters and hold it still.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "support/dns_messages.hpp"
#include "support/rig.hpp"
#include "support/rig_authority.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_net.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
using dns::rr_type;

namespace {

constexpr std::string_view apex = "acme.abuse.test";
constexpr zone_names name{apex};

// "multi" holds three 200-byte TXT values: a small query, a large answer.
std::shared_ptr<const dns::zone> abuse_zone()
{
    std::string records;
    for (const char tag : {'a', 'b', 'c'}) {
        records += "multi TXT \"" + std::string(200, tag) + "\"\n";
    }
    for (int i = 0; i < 8; ++i) {
        records += "big TXT \"" + std::to_string(i) + std::string(199, 'x') + "\"\n";
    }
    records += "one TXT \"hello\"\n";
    return make_zone({.apex = std::string(apex), .records = records});
}

struct udp_tally
{
    std::size_t bytes_in = 0;
    std::size_t bytes_out = 0;
    int full = 0;      // answers with records
    int truncated = 0; // TC=1 slips
};

void count(udp_tally& t, const std::vector<std::uint8_t>& m)
{
    t.bytes_out += m.size();
    const auto r = decode_response(m);
    REQUIRE(r);
    if (r->flag(dns::flag::tc)) {
        CHECK(r->answer.empty());
        ++t.truncated;
    } else {
        CHECK(r->answer.size() == 3);
        ++t.full;
    }
}

// Sends `queries` copies of `query` (about 4,000 a second), reading answers as they come, then
// for 300 ms more.
udp_tally flood(udp_client& client, const std::vector<std::uint8_t>& query, int queries)
{
    udp_tally t;
    for (int i = 0; i < queries; ++i) {
        client.send(query);
        t.bytes_in += query.size();
        while (auto m = client.receive(0ms)) {
            count(t, *m);
        }
        if (i % 5 == 4) {
            // Paced, so that the server's socket buffer never overflows: every query counts.
            std::this_thread::sleep_for(1ms);
        }
    }
    while (auto m = client.receive(300ms)) {
        count(t, *m);
    }
    return t;
}

// Holds the thread that calls it (the server's UDP thread) at its first call until released.
struct holding_observer final : core::challenge_observer
{
    std::promise<void> entered;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> calls{0};

    void challenge_queried(std::string_view) noexcept override
    {
        if (calls.fetch_add(1) == 0) {
            entered.set_value();
            released.wait_for(std::chrono::seconds(2));
        }
    }
};

// One complete query and answer on `tcp`.
bool answered(tcp_client& tcp, std::string_view label = "one")
{
    tcp.send_message(make_query({.name = name(label), .type = rr_type::txt}));
    return tcp.receive_message(2s).has_value();
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("dns abuse: response rate limiting cuts a reflection flood to the rate, with slips")
    {
        dns::server_options options;
        options.rate_limit.responses_per_second = 10;
        options.rate_limit.slip = 2;
        in_process_authority authority({abuse_zone()}, options);
        const auto query =
            make_query({.name = name("multi"), .type = rr_type::txt, .edns_payload = 4096});

        udp_client attacker(authority.port());
        const auto started = std::chrono::steady_clock::now();
        const auto t = flood(attacker, query, 400);
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - started
        )
                                 .count();
        INFO(
            "full ", t.full, ", truncated ", t.truncated, ", in ", t.bytes_in, ", out ", t.bytes_out
        );
        // The rate per second, each second the flood lasted.
        CHECK(t.full >= 10);
        CHECK(t.full <= 10 * (seconds + 2));
        // Every second limited answer goes out truncated, the size of the query.
        const int limited = 400 - t.full;
        CHECK(t.truncated >= limited / 2 - 1);
        CHECK(t.truncated <= limited / 2 + 1);
        // No amplification left: about as many bytes out as in (23x before).
        CHECK(t.bytes_out < 3 * t.bytes_in);

        const auto stats = authority.stats();
        CHECK(stats.udp_queries == 400);
        CHECK(stats.rate_limited_truncated == static_cast<std::uint64_t>(t.truncated));
        CHECK(
            stats.rate_limited_dropped + stats.rate_limited_truncated ==
            static_cast<std::uint64_t>(limited)
        );

        // Another /24 and another answer keep their own budgets during the flood.
        udp_client neighbour(authority.port(), "127.0.1.1");
        auto r = neighbour.exchange(query, 2s);
        REQUIRE(r);
        CHECK_FALSE(decode_response(*r)->flag(dns::flag::tc));
        r = attacker.exchange(make_query({.name = name("one"), .type = rr_type::txt}), 2s);
        REQUIRE(r);
        CHECK(decode_response(*r)->answer.size() == 1);
    }

    TEST_CASE("dns abuse: with rate limiting off every query is answered")
    {
        dns::server_options options;
        options.rate_limit.enabled = false;
        in_process_authority authority({abuse_zone()}, options);
        const auto query =
            make_query({.name = name("multi"), .type = rr_type::txt, .edns_payload = 4096});
        udp_client client(authority.port());
        const auto t = flood(client, query, 200);
        CHECK(t.full == 200);
        CHECK(authority.stats().rate_limited_dropped == 0);
    }

    TEST_CASE(
        "dns abuse: a reply that cannot be sent (source port 0) costs only itself in its batch"
    )
    {
        // The UDP thread answers in a loop of its own; the observer it calls for a challenge
        // answer holds it still, so that the forged query and ten others queue up behind.
        holding_observer holder;
        dns::server_options options; // one thread
        options.observer = &holder;
        in_process_authority authority({abuse_zone()}, options);
        REQUIRE_FALSE(authority.challenges().present(name("_hold"), "hold", 10s));
        // A raw socket forges a datagram from 127.0.0.1 port 0: the kernel refuses any reply.
        socket_handle raw(::socket(AF_INET, SOCK_RAW, IPPROTO_UDP));
        REQUIRE_MESSAGE(raw.get() >= 0, "a raw socket needs CAP_NET_RAW: ", std::strerror(errno));
        const auto forged_query =
            make_query({.name = name("one"), .type = rr_type::txt, .id = 999});
        std::vector<std::uint8_t> datagram(sizeof(udphdr) + forged_query.size());
        udphdr header{};
        header.uh_sport = 0;
        header.uh_dport = htons(authority.port());
        header.uh_ulen = htons(static_cast<std::uint16_t>(datagram.size()));
        header.uh_sum = 0; // none: allowed over IPv4
        std::memcpy(datagram.data(), &header, sizeof header);
        std::memcpy(datagram.data() + sizeof header, forged_query.data(), forged_query.size());
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

        udp_client holding(authority.port());
        holding.send(make_query({.name = name("_hold"), .type = rr_type::txt}));
        REQUIRE(holder.entered.get_future().wait_for(2s) == std::future_status::ready);
        REQUIRE(
            ::sendto(
                raw.get(), datagram.data(), datagram.size(), 0,
                reinterpret_cast<const sockaddr*>(&to), sizeof to
            ) == static_cast<ssize_t>(datagram.size())
        );
        udp_client client(authority.port());
        for (std::uint16_t id = 1; id <= 10; ++id) {
            client.send(make_query({.name = name("one"), .type = rr_type::txt, .id = id}));
        }
        holder.release.set_value();
        REQUIRE(holding.receive(2s));
        int answers = 0;
        while (auto m = client.receive(1s)) {
            ++answers;
        }
        CHECK(answers == 10);
        CHECK(authority.stats().dropped == 1);
    }

    TEST_CASE("dns abuse: one source cannot hold every TCP slot, its own idle ones make room")
    {
        dns::server_options options;
        options.max_tcp_connections = 8;
        options.max_tcp_per_source = 4;
        in_process_authority authority({abuse_zone()}, options);
        std::vector<std::unique_ptr<tcp_client>> hog;
        for (int i = 0; i < 12; ++i) {
            hog.push_back(std::make_unique<tcp_client>(authority.port()));
            CHECK(answered(*hog.back()));
        }
        // Another client gets a slot and its answer.
        tcp_client other(authority.port(), 2s, "127.0.0.2");
        CHECK(answered(other));
        // The hog's first connections were closed, its last four still work.
        for (int i = 0; i < 8; ++i) {
            CHECK(hog[static_cast<std::size_t>(i)]->wait_closed(2s));
        }
        for (int i = 8; i < 12; ++i) {
            CHECK(answered(*hog[static_cast<std::size_t>(i)]));
        }
        CHECK(authority.stats().tcp_evicted_connections == 8);
    }

    TEST_CASE("dns abuse: a full server evicts the connection idle the longest for a new client")
    {
        dns::server_options options;
        options.max_tcp_connections = 3;
        in_process_authority authority({abuse_zone()}, options);
        tcp_client first(authority.port(), 2s, "127.0.0.11");
        tcp_client second(authority.port(), 2s, "127.0.0.12");
        REQUIRE(answered(first));
        REQUIRE(answered(second));
        std::this_thread::sleep_for(200ms);
        tcp_client third(authority.port(), 2s, "127.0.0.13");
        REQUIRE(answered(third));
        CHECK(answered(second));             // second is active again: first is now the idlest
        std::this_thread::sleep_for(1100ms); // idle for long enough to be evicted
        tcp_client fourth(authority.port(), 2s, "127.0.0.14");
        CHECK(answered(fourth));
        CHECK(first.wait_closed(2s));
        CHECK(answered(third));
        CHECK(authority.stats().tcp_evicted_connections == 1);
    }

    TEST_CASE("dns abuse: a TCP connection is closed at its lifetime however busy it keeps")
    {
        dns::server_options options;
        options.tcp_max_lifetime = 400ms;
        in_process_authority authority({abuse_zone()}, options);
        tcp_client tcp(authority.port());
        const auto started = std::chrono::steady_clock::now();
        bool closed = false;
        while (std::chrono::steady_clock::now() - started < 3s) {
            try {
                if (!answered(tcp)) {
                    closed = true;
                    break;
                }
            } catch (const rig_error&) { // reset under our feet
                closed = true;
                break;
            }
            std::this_thread::sleep_for(50ms);
        }
        CHECK(closed);
        CHECK(std::chrono::steady_clock::now() - started < 1500ms);
        CHECK(authority.stats().tcp_expired_connections == 1);
    }

    TEST_CASE("dns abuse: a client that does not read gets a small send buffer, not megabytes")
    {
        dns::server_options options;
        options.tcp_send_buffer = 8192;
        in_process_authority authority({abuse_zone()}, options);
        // A small receive window: what the server cannot send waits in its own send buffer.
        socket_handle s(::socket(AF_INET, SOCK_STREAM, 0));
        const int small = 4096;
        REQUIRE(::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(authority.port());
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(s.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
        sockaddr_in local{};
        socklen_t length = sizeof local;
        REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&local), &length) == 0);

        // 1,000 pipelined queries for 1.7 KB answers, never read.
        std::vector<std::uint8_t> pipeline;
        const auto q = make_query({.name = name("big"), .type = rr_type::txt});
        for (int i = 0; i < 1000; ++i) {
            pipeline.push_back(static_cast<std::uint8_t>(q.size() >> 8));
            pipeline.push_back(static_cast<std::uint8_t>(q.size()));
            pipeline.insert(pipeline.end(), q.begin(), q.end());
        }
        REQUIRE(
            ::send(s.get(), pipeline.data(), pipeline.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(pipeline.size())
        );
        std::this_thread::sleep_for(500ms);

        // The server's side of the connection in /proc/net/tcp: local port = the server's,
        // remote port = ours; tx_queue is what waits in its send buffer.
        char wanted[32];
        std::snprintf(wanted, sizeof wanted, ":%04X ", authority.port());
        char remote[32];
        std::snprintf(remote, sizeof remote, ":%04X ", ntohs(local.sin_port));
        std::ifstream table("/proc/net/tcp");
        std::string line;
        std::optional<unsigned long> queued;
        while (std::getline(table, line)) {
            std::istringstream fields(line);
            std::string sl, local_address, remote_address, state, queues;
            fields >> sl >> local_address >> remote_address >> state >> queues;
            if ((local_address + " ").find(wanted) != std::string::npos &&
                (remote_address + " ").find(remote) != std::string::npos) {
                queued = std::stoul(queues.substr(0, queues.find(':')), nullptr, 16);
            }
        }
        REQUIRE(queued);
        INFO("bytes queued in the server's send buffer: ", *queued);
        CHECK(*queued <= 64 * 1024); // the autotuned buffer took megabytes
    }

    TEST_CASE("dns abuse: accept() out of file descriptors backs off instead of spinning")
    {
        in_process_authority authority({abuse_zone()}); // one thread: the io thread serves all
        std::promise<clockid_t> clock_promise;
        authority.post([&] {
            clockid_t id{};
            pthread_getcpuclockid(pthread_self(), &id);
            clock_promise.set_value(id);
        });
        const clockid_t server_clock = clock_promise.get_future().get();
        auto cpu_time = [&] {
            timespec ts{};
            clock_gettime(server_clock, &ts);
            return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
        };

        // Fill the descriptor table (under a lowered soft limit, restored on the way out) but
        // for one, which the client takes: the server's accept() then fails with EMFILE.
        rlimit saved{};
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
        std::vector<socket_handle> fillers;
        struct restore
        {
            rlimit limit;
            ~restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
        } restore_limit{saved};
        std::size_t open_now = 0;
        for ([[maybe_unused]] const auto& entry :
             std::filesystem::directory_iterator("/proc/self/fd")) {
            ++open_now;
        }
        rlimit lowered = saved;
        lowered.rlim_cur = open_now + 32;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
        // No doctest assertion until the descriptors are back: a failing one must be reported.
        int fill_error = 0;
        for (;;) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                fill_error = errno;
                break;
            }
            fillers.emplace_back(fd);
        }
        fillers.pop_back();
        auto client = std::make_unique<tcp_client>(authority.port()); // into the backlog
        std::this_thread::sleep_for(100ms);
        const auto before = cpu_time();
        std::this_thread::sleep_for(500ms);
        const auto used = cpu_time() - before;
        // Descriptors back before any check: reporting may need some (sanitizers do).
        fillers.clear();
        ::setrlimit(RLIMIT_NOFILE, &saved);
        REQUIRE(fill_error == EMFILE);
        const auto used_ms = std::chrono::duration_cast<std::chrono::milliseconds>(used).count();
        INFO("server thread CPU in 500 ms: ", used_ms, " ms");
        CHECK(used < 100ms); // a spinning accept loop takes all 500

        // The waiting client is accepted and answered.
        CHECK(answered(*client));
        CHECK(authority.stats().accept_errors > 0);
    }

    TEST_CASE("dns abuse: serve refuses a TCP connection cap the descriptor limit cannot hold")
    {
        temp_dir dir("certfleet-fd-limit");
        const std::string zone =
            "[[dns.zone]]\napex = \"acme.abuse.test\"\n"
            "soa = { mname = \"ns1\", rname = \"hostmaster.acme.abuse.test.\" }\n"
            "ns = [ { name = \"ns1\", addresses = [\"127.0.0.1\"] } ]\n";
        const auto file = dir.write(
            "limit.toml", "[dns]\nlisten = [\"127.0.0.1:" + std::to_string(free_port()) +
                              "\"]\nmax_tcp_connections = 2000\n" + zone
        );
        const auto r =
            run({"prlimit", "--nofile=1024:1024", certfleet_binary().string(), "serve", "--config",
                 file.string()},
                {.timeout = 10s});
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("RLIMIT_NOFILE") != std::string::npos);
        CHECK(r.err.find("max_tcp_connections") != std::string::npos);
    }
}
