#pragma once
// certfleet's DNS authority inside the test process: a dns::server with its own io_context on a
// background thread, so that a test can present and clean up challenge TXT values through
// dns::challenge_records (the core::challenge_board port) while real resolvers query it.
//
// Shutdown: stop() posts server::stop() to the io thread and joins it; the server is destroyed
// only after io_context::run() has returned.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dns/challenge_records.hpp"
#include "dns/server.hpp"
#include "dns/zone.hpp"

namespace certfleet::test {

struct zone_spec
{
    std::string apex;       // "acme.delegated.test"
    std::string records;    // more records in master-file syntax (see dns/zone_file.hpp)
    std::string ns = "ns1"; // the zone's name server, relative to the apex, with glue 127.0.0.1
    std::uint32_t ttl = 60;
    std::uint32_t negative_ttl = 1; // SOA MINIMUM
};

// Builds a zone with SOA, NS and glue, plus `records`; throws rig_error naming what is wrong.
[[nodiscard]] std::shared_ptr<const dns::zone> make_zone(const zone_spec& spec);

class in_process_authority
{
public:
    // Serves `zones` on options.listen (127.0.0.1 on a free_port() when empty).
    // Throws rig_error when it cannot listen.
    explicit in_process_authority(
        std::vector<std::shared_ptr<const dns::zone>> zones, dns::server_options options = {}
    );
    ~in_process_authority();
    in_process_authority(const in_process_authority&) = delete;
    in_process_authority& operator=(const in_process_authority&) = delete;

    // Thread-safe (see core::challenge_board); changes are answered at once.
    [[nodiscard]] dns::challenge_records& challenges() noexcept { return challenges_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string address() const; // "127.0.0.1:PORT"
    // The server's counters, read on the io thread.
    [[nodiscard]] dns::server_stats stats();
    // Queues f on the io thread and returns (f may block that thread on purpose: to hold a
    // single-threaded server still while datagrams queue up).
    void post(std::function<void()> f);
    // dns::server::replace_zones: served from the next query on.
    void replace_zones(std::vector<std::shared_ptr<const dns::zone>> zones);
    // Idempotent.
    void stop();

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    dns::catalog catalog_;
    dns::challenge_records challenges_;
    std::unique_ptr<dns::server> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

} // namespace certfleet::test
