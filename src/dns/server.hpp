#pragma once
// The authoritative DNS server: UDP and TCP (RFC 7766) listeners on Asio around the pure
// responder. It moves bytes and enforces limits; every answer comes from respond().
//
// It is meant for the open internet: UDP answers are rate-limited per source prefix
// (rate_limiter.hpp), TCP slots are shared out per source with idle eviction
// (tcp_admission.hpp), and every connection has a lifetime and a small send buffer.
//
// Threads: `threads` shards, each with its own sockets on the same addresses (SO_REUSEPORT),
// so the kernel spreads queries and connections over them and a query never waits for a lock.
// Each shard's UDP socket is served by a thread of its own in a blocking recvmmsg/sendmmsg
// loop (no event loop between a datagram and its answer); its TCP runs on an io_context: the
// first shard's is the one given to the constructor, the others have a thread each.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "core/challenge_observer.hpp"
#include "dns/message.hpp"
#include "dns/rate_limiter.hpp"
#include "dns/responder.hpp"

namespace certfleet::dns {

struct server_options
{
    // Each address is served over UDP and TCP on the same port.
    std::vector<boost::asio::ip::udp::endpoint> listen;
    std::chrono::milliseconds tcp_idle_timeout{10'000};
    std::size_t max_tcp_connections = 256;
    // Connections one source (an IPv4 address, an IPv6 /64) may hold at once.
    std::size_t max_tcp_per_source = 16;
    // A connection is closed after this long (after the answer it is writing, if any), so that
    // no client keeps a slot by trickling queries.
    std::chrono::milliseconds tcp_max_lifetime{120'000};
    // SO_SNDBUF of each connection: all that a client which does not read can make us hold in
    // the kernel (it doubles the value); 0 keeps the system's autotuned buffer.
    std::size_t tcp_send_buffer = 16 * 1024;
    // Threads serving UDP and TCP; 0 means one per CPU this process may run on.
    std::size_t threads = 1;
    rate_limit_options rate_limit;
    responder_options responder;
    // Told of every answer that holds challenge TXT values (a CA validating); may be null.
    core::challenge_observer* observer = nullptr;
};

// The response codes answers are counted by (RFC 1035 4.1.1; BADVERS, RFC 6891 6.1.3): a slot
// for each code the responder sends, one for any other.
inline constexpr std::size_t rcode_slots = 8;

[[nodiscard]] constexpr std::size_t rcode_slot(std::uint16_t rcode) noexcept
{
    if (rcode <= 5) {
        return rcode; // NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED
    }
    return rcode == rcode_badvers ? 6 : 7;
}
// "NOERROR", ..., "REFUSED", "BADVERS" (IANA's mnemonics), "other".
[[nodiscard]] std::string_view rcode_slot_name(std::size_t slot) noexcept;

struct server_stats
{
    std::uint64_t udp_queries = 0;
    std::uint64_t tcp_queries = 0;
    std::uint64_t dropped = 0;
    std::uint64_t tcp_refused_connections = 0;
    std::uint64_t tcp_evicted_connections = 0; // idle ones closed to make room
    std::uint64_t tcp_expired_connections = 0; // closed at tcp_max_lifetime
    std::uint64_t accept_errors = 0;           // accept() failures (EMFILE...), each backed off
    std::uint64_t rate_limited_dropped = 0;    // UDP answers over the rate, not sent
    std::uint64_t rate_limited_truncated = 0;  // UDP answers over the rate, sent as TC=1 slips
    // Responses the responder wrote, by rcode_slot() of their RCODE; counted before rate
    // limiting, which may drop or truncate a UDP one (counted above).
    std::array<std::uint64_t, rcode_slots> responses{};
    // UDP queries by socket (each answered by its own thread), listen address after listen
    // address: how evenly the threads share the load.
    std::vector<std::uint64_t> udp_queries_by_socket;
};

class server
{
public:
    server(boost::asio::io_context& io, server_options options, zone_data data);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds every listener and starts answering. Fails (and binds nothing) when one cannot bind,
    // or with errc::descriptor_limit when the file-descriptor limit (RLIMIT_NOFILE, raised to
    // its hard limit if need be) cannot hold max_tcp_connections and the listeners.
    [[nodiscard]] boost::system::error_code start();
    // Closes the listeners and every TCP connection; queries in flight are abandoned. Joins the
    // server's own threads. Call it from the thread running the io_context (or once it has
    // stopped).
    void stop();

    // Serves `zones` from the next query on, on every thread; thread-safe. Answers in progress
    // finish with the zones they started with.
    void replace_zones(std::shared_ptr<const catalog> zones);
    [[nodiscard]] std::shared_ptr<const catalog> zones() const;
    // The number of threads serving (after start()).
    [[nodiscard]] std::size_t thread_count() const noexcept;

    // The addresses actually bound (port 0 in the options becomes a real port, the same for UDP
    // and TCP of one address).
    [[nodiscard]] std::vector<boost::asio::ip::udp::endpoint> local_endpoints() const;
    [[nodiscard]] server_stats stats() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Parses "127.0.0.1:53", "[::1]:53" or "::1" with a default port.
[[nodiscard]] boost::system::result<boost::asio::ip::udp::endpoint>
parse_endpoint(std::string_view text, std::uint16_t default_port);

// The file descriptors a server with these options needs: its listeners, its TCP connections,
// its io_contexts and a reserve for the rest of the process.
[[nodiscard]] std::size_t descriptors_needed(const server_options& options, std::size_t threads);
// The threads `threads` = 0 stands for: the CPUs this process may run on (its affinity mask).
[[nodiscard]] std::size_t available_cpus();

} // namespace certfleet::dns
