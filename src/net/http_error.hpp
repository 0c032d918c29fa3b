#pragma once
// A failed HTTP exchange, with its context (see http_client.hpp).
//
// code is always a net::errc, the value callers branch on; cause is the underlying Asio, Beast,
// OpenSSL or system error when there is one (Connection refused, "certificate verify failed"),
// and detail is our own context: the endpoint, the timeout that elapsed, or OpenSSL's reason for
// rejecting a certificate ("unable to get local issuer certificate", "hostname mismatch").
// None of these texts contain data sent by the server.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <string>

namespace certfleet::net {

struct http_error
{
    boost::system::error_code code;
    boost::system::error_code cause;
    std::string detail;

    // "TLS certificate verification failed: hostname mismatch (certificate verify failed)".
    [[nodiscard]] std::string message() const;
};

// Lets boost::system::result<T, http_error>::value() throw a boost::system::system_error whose
// code() is code and whose what() names detail and cause.
[[noreturn]] void
throw_exception_from_error(const http_error& e, const boost::source_location& loc);

} // namespace certfleet::net
