#pragma once
// An in-process DNS server for the unit tests of the UDP path and of the clients that ask it:
// the zone acme.loop.test on 127.0.0.1 at a free port, rate limiting off.

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <memory>

#include "dns/server.hpp"
#include "support/dns_messages.hpp"

namespace certfleet::test {

inline constexpr zone_names loop_name{"acme.loop.test"};

inline std::shared_ptr<const dns::zone> loop_zone()
{
    dns::soa_fields soa;
    soa.mname = "ns1";
    soa.rname = "hostmaster.acme.loop.test.";
    auto b = dns::zone_builder::start("acme.loop.test", soa).value();
    REQUIRE_FALSE(b.add("@", dns::rr_type::ns, 300, "ns1"));
    REQUIRE_FALSE(b.add("ns1", dns::rr_type::a, 300, "127.0.0.1"));
    REQUIRE_FALSE(b.add("one", dns::rr_type::txt, 60, "\"hello\""));
    return b.finish().value();
}

struct running_server
{
    explicit running_server(std::size_t threads)
    {
        dns::server_options options;
        options.listen = {{boost::asio::ip::make_address("127.0.0.1"), 0}};
        options.threads = threads;
        options.rate_limit.enabled = false;
        server = std::make_unique<dns::server>(io, options, dns::zone_data{&zones, &challenges});
        REQUIRE_FALSE(server->start());
        port = server->local_endpoints().front().port();
    }

    boost::asio::io_context io{1}; // never run: TCP is not served, UDP needs no event loop
    dns::catalog zones{{loop_zone()}};
    dns::challenge_records challenges;
    std::unique_ptr<dns::server> server;
    std::uint16_t port = 0;
};

} // namespace certfleet::test
