#pragma once
// The integration-test rig, networking: free loopback ports, plain blocking DNS clients over UDP
// and TCP (raw bytes in, raw bytes out, so tests can send what no real client would), and
// readiness probes that poll a starting server with small queries instead of sleeping.
//
// Everything is on 127.0.0.1. Sockets are closed by their destructors.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "support/dns_messages.hpp"
#include "support/rig.hpp"

namespace certfleet::test {

// A port on 127.0.0.1 free for both UDP and TCP when asked, picked at random below the kernel's
// ephemeral range (which starts at 32768 on Linux), so that the outgoing sockets of other
// programs (dig, unbound, c-ares) cannot take it before the server binds it. Never the same port
// twice in one process. Throws rig_error when none is found.
[[nodiscard]] std::uint16_t free_port();

// "127.0.0.1:PORT"
[[nodiscard]] std::string loopback(std::uint16_t port);

class socket_handle
{
public:
    explicit socket_handle(int fd = -1) noexcept : fd_(fd) {}
    ~socket_handle();
    socket_handle(socket_handle&& other) noexcept : fd_(other.release()) {}
    socket_handle& operator=(socket_handle&& other) noexcept;
    socket_handle(const socket_handle&) = delete;
    socket_handle& operator=(const socket_handle&) = delete;

    [[nodiscard]] int get() const noexcept { return fd_; }
    int release() noexcept
    {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

// A socket bound to 127.0.0.1:port (and listening, for TCP): holds the port so that a server
// cannot have it. Throws rig_error when the port cannot be bound.
[[nodiscard]] socket_handle occupy_port(std::uint16_t port, bool tcp);

// A UDP socket connected to 127.0.0.1:port; from another loopback address (127.0.1.1: another
// /24 to the server) when `from` is given.
class udp_client
{
public:
    explicit udp_client(std::uint16_t port, std::string_view from = {});

    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

    void send(std::span<const std::uint8_t> datagram);
    // The next datagram from the server, or nothing after `timeout` (or when the port is closed).
    [[nodiscard]] std::optional<std::vector<std::uint8_t>> receive(std::chrono::milliseconds timeout
    );
    // Sends a query and waits for the datagram carrying its ID (others are dropped).
    [[nodiscard]] std::optional<std::vector<std::uint8_t>>
    exchange(std::span<const std::uint8_t> query, std::chrono::milliseconds timeout);

private:
    socket_handle socket_;
};

// A TCP connection to 127.0.0.1:port carrying DNS messages with their 2-byte length prefix
// (RFC 1035 4.2.2).
class tcp_client
{
public:
    // Throws rig_error when the connection cannot be made within `timeout`. `from`: a loopback
    // address to connect from, as for udp_client.
    explicit tcp_client(
        std::uint16_t port,
        std::chrono::milliseconds timeout = std::chrono::seconds(2),
        std::string_view from = {}
    );

    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

    void send_raw(std::span<const std::uint8_t> bytes);
    void send_message(std::span<const std::uint8_t> message);
    // The next whole message, or nothing on timeout or when the server closes the connection.
    [[nodiscard]] std::optional<std::vector<std::uint8_t>>
    receive_message(std::chrono::milliseconds timeout);
    // True when the server closes the connection (EOF or reset) within `timeout`; anything it
    // sends meanwhile is discarded.
    [[nodiscard]] bool wait_closed(std::chrono::milliseconds timeout);

private:
    // Reads exactly out.size() bytes; false on EOF, error or deadline.
    bool read_exactly(std::span<std::uint8_t> out, std::chrono::steady_clock::time_point deadline);

    socket_handle socket_;
};

// One query over UDP to 127.0.0.1:port, decoded; nothing on timeout or an undecodable answer.
[[nodiscard]] std::optional<decoded_response> udp_query(
    std::uint16_t port,
    const query_spec& query,
    std::chrono::milliseconds timeout = std::chrono::seconds(2)
);

struct dns_probe
{
    query_spec query{.name = ".", .type = dns::rr_type::soa, .flags = 0};
    std::chrono::milliseconds timeout{10'000};
    // Stop waiting as soon as this process exits.
    child_process* process = nullptr;
    // Whether an answer shows the server ready; empty: any answer does.
    std::function<bool(const decoded_response&)> accept;
};

// Sends the probe's query every few milliseconds (each try waits up to 50 ms for its answer)
// until an accepted answer comes; false after the timeout or when the process exits.
[[nodiscard]] bool wait_for_udp_dns(std::uint16_t port, const dns_probe& probe = {});

// Connects until a connection is accepted; false after the timeout or when the process exits.
[[nodiscard]] bool wait_for_tcp(
    std::uint16_t port,
    std::chrono::milliseconds timeout = std::chrono::seconds(10),
    child_process* process = nullptr
);

} // namespace certfleet::test
