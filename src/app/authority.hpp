#pragma once
// The DNS authority as the commands run it: the configured zones, the challenge records and the
// server, started with a message for humans when it cannot listen.

#include <boost/asio/io_context.hpp>

#include "dns/config.hpp"
#include "dns/server.hpp"

namespace certfleet::app {

class authority
{
public:
    authority(boost::asio::io_context& io, const dns::dns_config& config);

    // Starts listening; on failure prints what went wrong and what to do, and returns false.
    [[nodiscard]] bool start();
    void stop() { server_.stop(); }
    // Serves the zones of `config` from the next query on; the challenge records, the
    // listeners and the limits stay as they are (those need a restart).
    void replace_zones(const dns::dns_config& config);

    [[nodiscard]] dns::challenge_records& challenges() noexcept { return challenges_; }
    [[nodiscard]] const dns::server& server() const noexcept { return server_; }

private:
    dns::catalog zones_;
    dns::challenge_records challenges_;
    dns::server server_;
};

} // namespace certfleet::app
