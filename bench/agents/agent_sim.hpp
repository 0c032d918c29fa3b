#pragma once
// bench/agents: many certfleet agents simulated in one process on one thread. Each has its own
// P-256 key, its own TLS connection (kept alive, the server's certificate pinned from its join
// token) bound to a loopback source address of its group (the server allows a bounded number
// of connections per source address), and speaks the agent protocol as certfleet-agent does:
// enroll, signed long-polls, open_bundle on every bundle, a signed "staged" report.
//
// Each agent's life: connect and enroll (at most `parallel` at a time); wait for the driver to
// open the gate (it assigns the certificate to every agent meanwhile); poll, receive and verify
// the newest version, report it, and poll again until it holds a version above
// `renewal_above` (set by the driver when it renews); then it stops. The driver
// (agents_bench.cpp) turns the io_context with run_until() between its own steps.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/agent_protocol.hpp"
#include "deploy/openssl_crypto.hpp"

namespace certfleet::bench {

using steady = std::chrono::steady_clock;

struct sim_options
{
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t per_source = 200; // agents sharing one source address (127.1.x.y)
    std::size_t parallel = 128;   // enrollments in flight
    std::chrono::seconds poll_wait{50};
    bool report = true; // send the "staged" report as the agent does
};

struct sim_agent
{
    std::size_t index = 0;
    std::string token; // cfj1...
    std::string name;
    std::string tls_sha256;
    std::string signing_sha256;
    deploy::p256_key_pair key;
    // Its own crypto, as each real agent has: an agent's signing key is built once and kept
    // (openssl_crypto's key cache), which one cache shared by ten thousand keys would not do.
    deploy::openssl_crypto crypto;
    std::string signing_point; // learnt at enrollment, checked against the token's pin
    std::int64_t assignment = 0;
    std::optional<std::int64_t> held; // the newest version verified
    std::optional<steady::time_point> renewed_at;
    bool waiting_counted = false;
};

struct sim_counters
{
    std::size_t enrolled = 0;
    std::size_t waiting = 0; // polls sent while holding a version (the long-poll waits)
    std::size_t renewed = 0; // agents holding a version above renewal_above
    std::size_t bundles = 0; // bundles opened and verified
    std::size_t failed = 0;  // agents that gave up (the first problem is kept)
    std::string problem;
};

class agent_sim
{
public:
    // Throws std::runtime_error for a token that does not decode.
    agent_sim(boost::asio::io_context& io, sim_options options, std::vector<std::string> tokens);
    ~agent_sim();
    agent_sim(const agent_sim&) = delete;
    agent_sim& operator=(const agent_sim&) = delete;

    void start();     // connect and enroll
    void open_gate(); // start polling
    // Versions above this one count as the renewal; `at` is its instant.
    void renewal(std::int64_t above, steady::time_point at);

    // Turns the io_context until `done()` holds or `limit` passes; whether it held.
    bool run_until(const std::function<bool()>& done, steady::duration limit);

    [[nodiscard]] const sim_counters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::vector<sim_agent>& agents() noexcept { return agents_; }
    [[nodiscard]] std::optional<steady::time_point> renewal_at() const noexcept
    {
        return renewal_at_;
    }

    // Internal to the agents' coroutines.
    struct connection;
    boost::asio::awaitable<void> life(std::size_t index);

private:
    boost::asio::awaitable<bool> enroll(sim_agent& a, connection& c);
    boost::asio::awaitable<bool> poll_once(sim_agent& a, connection& c);
    void fail(sim_agent& a, const std::string& what);
    void spawn(std::size_t index);

    boost::asio::io_context& io_;
    sim_options options_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    deploy::openssl_crypto crypto_;
    std::vector<sim_agent> agents_;
    sim_counters counters_;
    std::size_t next_ = 0;
    boost::asio::steady_timer gate_;
    bool gate_open_ = false;
    std::int64_t renewal_above_ = INT64_MAX;
    std::optional<steady::time_point> renewal_at_;
};

} // namespace certfleet::bench
