#include "support/rig_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>

namespace certfleet::test {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::uint16_t port_range_first = 20000;
constexpr std::uint16_t port_range_last = 32767;

std::string errno_text(int error)
{
    return std::generic_category().message(error);
}

sockaddr_in loopback_address(std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// Binds `fd` to address `from` (any port) when it is not empty.
void bind_source(int fd, std::string_view from)
{
    if (from.empty()) {
        return;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    if (::inet_pton(AF_INET, std::string(from).c_str(), &a.sin_addr) != 1) {
        throw rig_error("not an IPv4 address: " + std::string(from));
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        throw rig_error("bind to " + std::string(from) + ": " + errno_text(errno));
    }
}

// sockaddr_in as the sockaddr the socket calls take.
const sockaddr* as_sockaddr(const sockaddr_in& a) noexcept
{
    return reinterpret_cast<const sockaddr*>(&a);
}

socket_handle open_socket(int type)
{
    socket_handle s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (s.get() < 0) {
        throw rig_error("socket: " + errno_text(errno));
    }
    return s;
}

bool can_bind(int type, std::uint16_t port)
{
    const auto s = open_socket(type);
    const auto a = loopback_address(port);
    return ::bind(s.get(), as_sockaddr(a), sizeof a) == 0;
}

int millis_until(clock::time_point deadline)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

// Waits until `fd` is readable (or has an error or hang-up); false on timeout.
bool wait_readable(int fd, clock::time_point deadline)
{
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, millis_until(deadline));
        if (n > 0) {
            return true;
        }
        if (n == 0 || errno != EINTR) {
            return false;
        }
    }
}

std::uint16_t message_id(std::span<const std::uint8_t> m) noexcept
{
    return m.size() < 2 ? 0 : static_cast<std::uint16_t>((m[0] << 8) | m[1]);
}

} // namespace

socket_handle::~socket_handle()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

socket_handle& socket_handle::operator=(socket_handle&& other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = other.release();
    }
    return *this;
}

std::uint16_t free_port()
{
    static std::mutex mutex;
    static std::set<std::uint16_t> handed_out;
    static std::mt19937 random{std::random_device{}() ^ static_cast<std::uint32_t>(::getpid())};
    std::lock_guard lock(mutex);
    std::uniform_int_distribution<int> pick(port_range_first, port_range_last);
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const auto port = static_cast<std::uint16_t>(pick(random));
        if (handed_out.contains(port)) {
            continue;
        }
        if (can_bind(SOCK_DGRAM, port) && can_bind(SOCK_STREAM, port)) {
            handed_out.insert(port);
            return port;
        }
    }
    throw rig_error("no free port on 127.0.0.1 between 20000 and 32767");
}

socket_handle occupy_port(std::uint16_t port, bool tcp)
{
    auto s = open_socket(tcp ? SOCK_STREAM : SOCK_DGRAM);
    const auto a = loopback_address(port);
    if (::bind(s.get(), as_sockaddr(a), sizeof a) != 0 || (tcp && ::listen(s.get(), 1) != 0)) {
        throw rig_error(
            "cannot hold " + loopback(port) + (tcp ? " (TCP)" : " (UDP)") + ": " + errno_text(errno)
        );
    }
    return s;
}

std::string loopback(std::uint16_t port)
{
    return "127.0.0.1:" + std::to_string(port);
}

udp_client::udp_client(std::uint16_t port, std::string_view from) : socket_(open_socket(SOCK_DGRAM))
{
    bind_source(socket_.get(), from);
    const auto a = loopback_address(port);
    if (::connect(socket_.get(), as_sockaddr(a), sizeof a) != 0) {
        throw rig_error("UDP connect to " + loopback(port) + ": " + errno_text(errno));
    }
}

void udp_client::send(std::span<const std::uint8_t> datagram)
{
    // A refused earlier datagram (no server yet) surfaces as ECONNREFUSED here: retry once.
    for (int i = 0; i < 2; ++i) {
        if (::send(socket_.get(), datagram.data(), datagram.size(), 0) >= 0) {
            return;
        }
        if (errno != ECONNREFUSED && errno != EINTR) {
            throw rig_error("UDP send: " + errno_text(errno));
        }
    }
}

std::optional<std::vector<std::uint8_t>> udp_client::receive(std::chrono::milliseconds timeout)
{
    const auto deadline = clock::now() + timeout;
    while (wait_readable(socket_.get(), deadline)) {
        std::vector<std::uint8_t> buffer(65536);
        const ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
        if (n >= 0) {
            buffer.resize(static_cast<std::size_t>(n));
            return buffer;
        }
        if (errno == ECONNREFUSED) {
            return std::nullopt; // nothing listens on the port
        }
        if (errno != EINTR) {
            throw rig_error("UDP recv: " + errno_text(errno));
        }
    }
    return std::nullopt;
}

std::optional<std::vector<std::uint8_t>>
udp_client::exchange(std::span<const std::uint8_t> query, std::chrono::milliseconds timeout)
{
    const auto deadline = clock::now() + timeout;
    send(query);
    while (clock::now() < deadline) {
        auto answer = receive(std::chrono::milliseconds(millis_until(deadline)));
        if (!answer) {
            return std::nullopt;
        }
        if (answer->size() >= 2 && message_id(*answer) == message_id(query)) {
            return answer;
        }
    }
    return std::nullopt;
}

tcp_client::tcp_client(std::uint16_t port, std::chrono::milliseconds timeout, std::string_view from)
    : socket_(open_socket(SOCK_STREAM))
{
    bind_source(socket_.get(), from);
    // A connection on loopback is accepted or refused at once; the timeout bounds a full backlog.
    const auto a = loopback_address(port);
    const timeval tv{
        static_cast<time_t>(timeout.count() / 1000),
        static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(socket_.get(), as_sockaddr(a), sizeof a) != 0) {
        throw rig_error("TCP connect to " + loopback(port) + ": " + errno_text(errno));
    }
}

void tcp_client::send_raw(std::span<const std::uint8_t> bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw rig_error("TCP send: " + errno_text(errno));
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

void tcp_client::send_message(std::span<const std::uint8_t> message)
{
    std::vector<std::uint8_t> framed;
    framed.reserve(message.size() + 2);
    framed.push_back(static_cast<std::uint8_t>(message.size() >> 8));
    framed.push_back(static_cast<std::uint8_t>(message.size()));
    framed.insert(framed.end(), message.begin(), message.end());
    send_raw(framed);
}

bool tcp_client::read_exactly(std::span<std::uint8_t> out, clock::time_point deadline)
{
    while (!out.empty()) {
        if (!wait_readable(socket_.get(), deadline)) {
            return false;
        }
        const ssize_t n = ::recv(socket_.get(), out.data(), out.size(), 0);
        if (n == 0) {
            return false;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        out = out.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

std::optional<std::vector<std::uint8_t>>
tcp_client::receive_message(std::chrono::milliseconds timeout)
{
    const auto deadline = clock::now() + timeout;
    std::array<std::uint8_t, 2> length{};
    if (!read_exactly(length, deadline)) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> message((std::size_t{length[0]} << 8) | length[1]);
    if (!read_exactly(message, deadline)) {
        return std::nullopt;
    }
    return message;
}

bool tcp_client::wait_closed(std::chrono::milliseconds timeout)
{
    const auto deadline = clock::now() + timeout;
    while (wait_readable(socket_.get(), deadline)) {
        std::array<std::uint8_t, 4096> discard{};
        const ssize_t n = ::recv(socket_.get(), discard.data(), discard.size(), 0);
        if (n == 0 || (n < 0 && errno != EINTR)) {
            return true;
        }
    }
    return false;
}

std::optional<decoded_response>
udp_query(std::uint16_t port, const query_spec& query, std::chrono::milliseconds timeout)
{
    udp_client client(port);
    auto answer = client.exchange(make_query(query), timeout);
    if (!answer) {
        return std::nullopt;
    }
    return decode_response(*answer);
}

bool wait_for_udp_dns(std::uint16_t port, const dns_probe& probe)
{
    const auto deadline = clock::now() + probe.timeout;
    const auto query = make_query(probe.query);
    udp_client client(port);
    while (clock::now() < deadline) {
        if (probe.process != nullptr && !probe.process->running()) {
            return false;
        }
        const auto sent = clock::now();
        if (auto answer = client.exchange(query, std::chrono::milliseconds(50))) {
            const auto decoded = decode_response(*answer);
            if (decoded && (!probe.accept || probe.accept(*decoded))) {
                return true;
            }
        }
        // A refused port answers at once: pace the tries rather than spin.
        std::this_thread::sleep_until(sent + std::chrono::milliseconds(10));
    }
    return false;
}

bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout, child_process* process)
{
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        if (process != nullptr && !process->running()) {
            return false;
        }
        const auto s = open_socket(SOCK_STREAM);
        const auto a = loopback_address(port);
        if (::connect(s.get(), as_sockaddr(a), sizeof a) == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

} // namespace certfleet::test
