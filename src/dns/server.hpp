#pragma once
// The authoritative DNS server: UDP and TCP (RFC 7766) listeners on Asio around the pure
// responder. It moves bytes and enforces limits; every answer comes from respond().

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "dns/responder.hpp"

namespace certfleet::dns {

struct server_options
{
    // Each address is served over UDP and TCP on the same port.
    std::vector<boost::asio::ip::udp::endpoint> listen;
    std::chrono::milliseconds tcp_idle_timeout{10'000};
    std::size_t max_tcp_connections = 256;
    responder_options responder;
};

struct server_stats
{
    std::uint64_t udp_queries = 0;
    std::uint64_t tcp_queries = 0;
    std::uint64_t dropped = 0;
    std::uint64_t tcp_refused_connections = 0;
};

class server
{
public:
    server(boost::asio::io_context& io, server_options options, zone_data data);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds every listener and starts answering. Fails (and binds nothing) when one cannot bind.
    [[nodiscard]] boost::system::error_code start();
    // Closes the listeners and every TCP connection; queries in flight are abandoned.
    void stop();

    // The addresses actually bound (port 0 in the options becomes a real port, the same for UDP
    // and TCP of one address).
    [[nodiscard]] std::vector<boost::asio::ip::udp::endpoint> local_endpoints() const;
    [[nodiscard]] server_stats stats() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Parses "127.0.0.1:53", "[::1]:53" or "::1" with a default port.
[[nodiscard]] boost::system::result<boost::asio::ip::udp::endpoint>
parse_endpoint(std::string_view text, std::uint16_t default_port);

} // namespace certfleet::dns
