#include "dns/ip_network.hpp"

#include <doctest/doctest.h>

#include "dns/errc.hpp"

namespace certfleet::dns {
namespace {

bool contains(std::string_view network, std::string_view address)
{
    return ip_network::parse(network).value().contains(
        boost::asio::ip::make_address(std::string(address))
    );
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("ip networks parse as Go's net.ParseCIDR does once brackets are gone")
    {
        CHECK(ip_network::parse("192.0.2.0/24").value().text() == "192.0.2.0/24");
        CHECK(ip_network::parse("[2001:db8::]/32").value().text() == "2001:db8::/32");
        CHECK(ip_network::parse("0.0.0.0/0").has_value());
        CHECK(ip_network::parse("::/0").has_value());
        CHECK(ip_network::parse("192.0.2.7/24").has_value()); // host bits may be set
        for (const std::string_view bad :
             {"192.0.2.1", "192.0.2.0/", "192.0.2.0/33", "::/129", "fe80::1%eth0/64", "192.0.2/24",
              "x/8", "192.0.2.0/1000", "192.0.2.0/ 8", " 192.0.2.0/8"}) {
            INFO(bad);
            CHECK(ip_network::parse(bad).error() == errc::invalid_network);
        }
    }

    TEST_CASE("ip networks contain addresses by prefix, IPv4-mapped IPv6 as IPv4")
    {
        CHECK(contains("192.0.2.7/24", "192.0.2.200"));
        CHECK_FALSE(contains("192.0.2.0/24", "192.0.3.1"));
        CHECK(contains("192.0.2.0/25", "192.0.2.127"));
        CHECK_FALSE(contains("192.0.2.0/25", "192.0.2.128"));
        CHECK(contains("0.0.0.0/0", "203.0.113.9"));
        CHECK_FALSE(contains("0.0.0.0/0", "2001:db8::1"));
        CHECK(contains("2001:db8::/32", "2001:db8:ffff::1"));
        CHECK_FALSE(contains("2001:db8::/32", "2001:db9::1"));
        CHECK(contains("2001:db8::1/128", "2001:db8::1"));
        CHECK_FALSE(contains("::/0", "192.0.2.1"));
        // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
        CHECK(contains("192.0.2.0/24", "::ffff:192.0.2.9"));
        CHECK(contains("::ffff:192.0.2.0/120", "192.0.2.9"));
        CHECK(contains("::ffff:192.0.2.0/120", "::ffff:192.0.2.9"));
        CHECK_FALSE(contains("::ffff:192.0.2.0/120", "192.0.3.9"));
        CHECK(unmapped(boost::asio::ip::make_address("::ffff:10.1.2.3")).to_string() == "10.1.2.3");
    }
}

} // namespace certfleet::dns
