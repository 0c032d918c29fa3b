// dns::server's UDP threads: each socket is answered by a blocking recvmmsg/sendmmsg loop of its
// own, with no event loop in between. The io_context given to the server is never run here:
// UDP must not need it.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "dns/server.hpp"
#include "support/dns_messages.hpp"
#include "unit/dns/loop_server.hpp"

using namespace certfleet;
using namespace certfleet::dns;
using namespace std::chrono_literals;
using test::make_query;
using test::running_server;

namespace {

constexpr const auto& name = test::loop_name;

// A UDP client socket on 127.0.0.1, closed with the object.
class client
{
public:
    explicit client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))
    {
        REQUIRE(fd_ >= 0);
        to_.sin_family = AF_INET;
        to_.sin_port = htons(port);
        to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    ~client() { ::close(fd_); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    void send(const std::vector<std::uint8_t>& query) const
    {
        REQUIRE(
            ::sendto(
                fd_, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to_),
                sizeof to_
            ) == static_cast<ssize_t>(query.size())
        );
    }
    // The next datagram within `timeout`, if any.
    [[nodiscard]] std::optional<std::vector<std::uint8_t>> receive(std::chrono::milliseconds timeout
    ) const
    {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
            return std::nullopt;
        }
        std::vector<std::uint8_t> buf(4096);
        const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) {
            return std::nullopt;
        }
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }

private:
    int fd_;
    sockaddr_in to_{};
};

// Binds 127.0.0.1:port for UDP without SO_REUSEPORT: only possible once the server let go.
bool port_free(std::uint16_t port)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0;
    ::close(fd);
    return bound;
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("udp loop: a lone query is answered at once, not when a batch fills")
    {
        running_server s(1);
        client c(s.port);
        // One query at a time, each waited for: a loop that waited for a fuller batch (32
        // datagrams) or a timer would answer none of them, or late.
        for (std::uint16_t id = 1; id <= 20; ++id) {
            c.send(make_query({.name = name("one"), .type = rr_type::txt, .id = id}));
            const auto started = std::chrono::steady_clock::now();
            const auto answer = c.receive(1000ms);
            REQUIRE(answer);
            const auto waited = std::chrono::steady_clock::now() - started;
            const auto r = test::decode_response(*answer);
            REQUIRE(r);
            CHECK(r->hdr.id == id);
            REQUIRE(r->answer.size() == 1);
            CHECK(r->answer.front().data == "hello");
            // Generous for a loaded machine; a batch timer or a missed wake-up shows as seconds.
            CHECK(waited < 250ms);
            std::this_thread::sleep_for(5ms); // the loop is asleep in recvmmsg again
        }
        CHECK(s.server->stats().udp_queries == 20);
        CHECK(s.server->stats().responses[rcode_slot(0)] == 20);
    }

    TEST_CASE("udp loop: stop() wakes every sleeping UDP thread and releases the port")
    {
        running_server s(3);
        client c(s.port);
        c.send(make_query({.name = name("one"), .type = rr_type::txt}));
        REQUIRE(c.receive(1000ms));
        std::this_thread::sleep_for(50ms); // every thread asleep in recvmmsg
        CHECK_FALSE(port_free(s.port));

        const auto started = std::chrono::steady_clock::now();
        s.server->stop();
        const auto took = std::chrono::steady_clock::now() - started;
        // shutdown() wakes them at once; the receive timeout (200 ms) is only a fallback.
        CHECK(took < 1000ms);
        CHECK(port_free(s.port));
        // The counters of the stopped threads are still there.
        CHECK(s.server->stats().udp_queries == 1);
        s.server->stop(); // idempotent
    }

    TEST_CASE("udp loop: the queries of one client are shared by every thread")
    {
        // One source address and port: the kernel's SO_REUSEPORT hash would hand all of them to
        // one socket, so one busy resolver would keep one thread busy and the others idle.
        running_server s(2);
        client c(s.port);
        constexpr std::uint16_t queries = 400;
        for (std::uint16_t id = 0; id < queries; ++id) {
            c.send(make_query({.name = name("one"), .type = rr_type::txt, .id = id}));
            REQUIRE(c.receive(1000ms));
        }
        const auto stats = s.server->stats();
        CHECK(stats.udp_queries == queries);
        REQUIRE(stats.udp_queries_by_socket.size() == 2);
        // Each datagram picks a socket at random: below 120 of 400 is beyond 8 standard
        // deviations of a fair coin.
        for (const auto count : stats.udp_queries_by_socket) {
            CHECK(count >= 120);
        }
    }

    TEST_CASE("udp loop: a burst from many clients is answered in full")
    {
        running_server s(2);
        std::vector<std::unique_ptr<client>> clients;
        for (int i = 0; i < 8; ++i) {
            clients.push_back(std::make_unique<client>(s.port));
        }
        for (std::uint16_t id = 0; id < 64; ++id) {
            clients[id % clients.size()]->send(
                make_query({.name = name("one"), .type = rr_type::txt, .id = id})
            );
        }
        int answers = 0;
        for (const auto& c : clients) {
            for (int i = 0; i < 8 && c->receive(1000ms); ++i) {
                ++answers;
            }
        }
        CHECK(answers == 64);
        CHECK(s.server->stats().udp_queries == 64);
    }
}
