#pragma once
// Absolute http/https URLs as the HTTP client sends them (RFC 3986 §3, RFC 9110 §4.2).
//
// parse_url accepts only "http" and "https" (scheme case-insensitive) with a host, and rejects
// userinfo ("user@"), whitespace, control and non-ASCII bytes, empty hosts, bad ports (0, >
// 65535, non-digits) and IPv6 zone identifiers, with errc::bad_url. Host names are lower-cased
// and must be dot-separated labels of letters, digits, '-' and '_'; IPv6 literals are written in
// brackets and stored without them. A missing port becomes 80 or 443; the fragment is dropped;
// an empty path becomes "/". Pure functions, no I/O, safe from any thread.

#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace certfleet::net {

struct url
{
    std::string scheme;     // "http" or "https"
    std::string host;       // lower case; IPv6 literal without brackets ("::1")
    std::uint16_t port = 0; // explicit or the scheme's default
    std::string target;     // path?query as sent in the request line, never empty

    // The Host header value: host (bracketed if IPv6), plus ":port" when not the default.
    [[nodiscard]] std::string host_header() const;
    // "scheme://host:port" with the port always present: the key of a connection pool.
    [[nodiscard]] std::string origin() const;
    // True when host is an IPv4 or IPv6 literal (no SNI; verified against IP SANs).
    [[nodiscard]] bool host_is_ip_literal() const;
    // True when host is "localhost", an IPv4 literal in 127.0.0.0/8 or the IPv6 literal ::1:
    // traffic that never leaves the machine (RFC 6761 6.3, RFC 1122 3.2.1.3, RFC 4291 2.5.3).
    [[nodiscard]] bool host_is_loopback() const;
};

[[nodiscard]] boost::system::result<url> parse_url(std::string_view text) noexcept;

// Resolves a reference found in a Location or Link header against the URL of the response
// (RFC 3986 §5.2, without the corner cases ACME never produces): a reference with a scheme is
// returned as is; "//authority/..." takes base's scheme; "/path" is joined to base's origin;
// "?query", "#fragment" and relative paths are resolved against base's path, with "." and ".."
// segments removed. When base is not an absolute URL the reference is returned unchanged (and
// parse_url will reject it if it is relative).
[[nodiscard]] std::string resolve_reference(std::string_view base, std::string_view reference);

} // namespace certfleet::net
