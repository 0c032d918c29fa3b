#pragma once
// The plain data of one HTTP/1.1 exchange (RFC 9110): what the HTTP client sends and gets back,
// and what the pure machines (acme::order_machine) exchange with their drivers. No Asio here:
// a header that only needs these types stays free of the I/O library.

// First: Boost 1.81's beast/http/verb.hpp uses std::ostream without including <ostream>.
#include <ostream>
// Then the rest, in the usual order.
#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certfleet::net {

// GCC 12 miscompiles a braced temporary of this aggregate inside a co_await expression
// (`co_await client.request({.url = u})` frees its strings from the wrong address): build the
// request in a named variable, or in a function returning it, then pass it.
struct http_request
{
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string url;          // absolute http or https URL
    std::string body;         // sent with Content-Length (also for an empty POST body)
    std::string content_type; // Content-Type header when not empty
    std::vector<std::pair<std::string, std::string>> headers; // extra headers, in order
};

struct http_response
{
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // in the order received
    std::string body;

    // The first header with this name (case-insensitive), if any. Views into this response.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
    // Every header with this name, in order (e.g. several Link headers, RFC 8288).
    [[nodiscard]] std::vector<std::string_view> headers_named(std::string_view name) const;
};

} // namespace certfleet::net
