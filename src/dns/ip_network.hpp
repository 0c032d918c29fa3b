#pragma once
// IP networks in CIDR notation (RFC 4632 section 3.1, RFC 4291 section 2.3): the acme-dns
// allowfrom lists and the networks registration is open to.
//
// parse() accepts what acme-dns accepts (Go's net.ParseCIDR once brackets are removed):
// "192.0.2.0/24", "2001:db8::/32", "[2001:db8::]/32"; host bits may be set ("192.0.2.7/24" is
// the network 192.0.2.0/24). An address without a prefix length, a prefix longer than the
// address, a zone index ("fe80::1%eth0/64") or anything else is errc::invalid_network.
//
// An IPv4-mapped IPv6 address (::ffff:192.0.2.7, what a dual-stack socket reports for an IPv4
// peer) is matched as the IPv4 address it maps, and a network inside ::ffff:0:0/96 as the IPv4
// network it maps: either notation matches either kind of peer.

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace certfleet::dns {

class ip_network
{
public:
    [[nodiscard]] static boost::system::result<ip_network> parse(std::string_view text);

    [[nodiscard]] bool contains(const boost::asio::ip::address& address) const noexcept;
    // The text it was parsed from without brackets, as acme-dns hands allowfrom back.
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    std::array<std::uint8_t, 16> bytes_{}; // IPv4 in the first 4 bytes
    unsigned prefix_ = 0;
    bool v4_ = false;
    std::string text_;
};

// An IPv4-mapped IPv6 address as its IPv4 address; any other address as it is.
[[nodiscard]] boost::asio::ip::address unmapped(const boost::asio::ip::address& address) noexcept;

} // namespace certfleet::dns
