#include "dns/ip_network.hpp"

#include <algorithm>
#include <charconv>

#include "dns/errc.hpp"

namespace certfleet::dns {
namespace {

namespace ip = boost::asio::ip;

constexpr unsigned mapped_prefix = 96; // ::ffff:0:0/96 (RFC 4291 section 2.5.5.2)

bool is_mapped_network(const std::array<std::uint8_t, 16>& bytes, unsigned prefix) noexcept
{
    return prefix >= mapped_prefix &&
           std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; }) &&
           bytes[10] == 0xff && bytes[11] == 0xff;
}

bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) noexcept
{
    const unsigned whole = prefix / 8;
    if (!std::equal(a, a + whole, b)) {
        return false;
    }
    const unsigned rest = prefix % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xffU << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

} // namespace

ip::address unmapped(const ip::address& address) noexcept
{
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    }
    return address;
}

boost::system::result<ip_network> ip_network::parse(std::string_view text)
{
    std::string stripped;
    std::copy_if(text.begin(), text.end(), std::back_inserter(stripped), [](char c) {
        return c != '[' && c != ']';
    });
    const auto slash = stripped.find('/');
    if (slash == std::string::npos || stripped.find('%') != std::string::npos) {
        return make_error_code(errc::invalid_network);
    }
    const std::string_view length = std::string_view(stripped).substr(slash + 1);
    unsigned prefix = 0;
    const auto* end = length.data() + length.size();
    const auto [stop, failure] = std::from_chars(length.data(), end, prefix);
    if (length.empty() || length.size() > 3 || failure != std::errc{} || stop != end) {
        return make_error_code(errc::invalid_network);
    }
    boost::system::error_code ec;
    const auto address = ip::make_address(stripped.substr(0, slash), ec);
    if (ec || prefix > (address.is_v4() ? 32U : 128U)) {
        return make_error_code(errc::invalid_network);
    }
    ip_network n;
    n.text_ = std::move(stripped);
    if (address.is_v4()) {
        const auto b = address.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), n.bytes_.begin());
        n.v4_ = true;
        n.prefix_ = prefix;
        return n;
    }
    const auto b = address.to_v6().to_bytes();
    if (is_mapped_network(b, prefix)) {
        std::copy(b.begin() + 12, b.end(), n.bytes_.begin());
        n.v4_ = true;
        n.prefix_ = prefix - mapped_prefix;
        return n;
    }
    std::copy(b.begin(), b.end(), n.bytes_.begin());
    n.prefix_ = prefix;
    return n;
}

bool ip_network::contains(const ip::address& address) const noexcept
{
    const auto a = unmapped(address);
    if (a.is_v4() != v4_) {
        return false;
    }
    if (v4_) {
        const auto b = a.to_v4().to_bytes();
        return same_prefix(b.data(), bytes_.data(), prefix_);
    }
    const auto b = a.to_v6().to_bytes();
    return same_prefix(b.data(), bytes_.data(), prefix_);
}

} // namespace certfleet::dns
