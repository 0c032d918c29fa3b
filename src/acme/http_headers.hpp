#pragma once
// HTTP header fields the ACME client reads: Retry-After (RFC 9110 10.2.3, RFC 8555 6.6) and
// Link (RFC 8288; RFC 8555 7.4.2 "alternate", "up", "index"). Pure functions: the caller
// passes the current time.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::net {
struct http_response; // net/http_message.hpp
}

namespace certfleet::acme {

// The wait a Retry-After value asks for: delta-seconds, or an HTTP-date (IMF-fixdate, and the
// obsolete RFC 850 and asctime forms that RFC 9110 5.6.7 requires recipients to accept)
// relative to now, rounded up to a whole second. A negative delay or a date in the past gives
// 0 s; anything longer than 24 hours gives 24 hours. Garbage gives nullopt.
[[nodiscard]] std::optional<std::chrono::seconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) noexcept;

// The first Retry-After header of a response, parsed as above; nullopt when there is none.
[[nodiscard]] std::optional<std::chrono::seconds>
retry_after_of(const net::http_response& r, std::chrono::system_clock::time_point now);

struct link
{
    std::string url; // as sent, between < and >: relative URLs are resolved by the caller
    std::string rel; // one relation type; registered names lower-cased (RFC 8288 2.1.1)
    friend bool operator==(const link&, const link&) = default;
};

// Parses Link header values (RFC 8288 3): each value may hold several comma-separated links;
// rel may be a token or a quoted string holding several space-separated relation types, which
// give one link each; the first rel parameter counts (3.3). Links without rel, and malformed
// links, are skipped. At most 100 links are returned.
[[nodiscard]] std::vector<link> parse_link_headers(const std::vector<std::string_view>& values);

} // namespace certfleet::acme
