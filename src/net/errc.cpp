#include "net/errc.hpp"

#include "core/error_category.hpp"

namespace certfleet::net {
namespace {

const char* describe(errc e) noexcept
{
    switch (e) {
    case errc::bad_url:
        return "invalid or unsupported URL";
    case errc::bad_request:
        return "invalid request header";
    case errc::resolve_failed:
        return "host name could not be resolved";
    case errc::connection_refused:
        return "connection refused";
    case errc::connect_failed:
        return "could not connect";
    case errc::timeout:
        return "timed out";
    case errc::tls_handshake_failed:
        return "TLS handshake failed";
    case errc::certificate_verification_failed:
        return "TLS certificate verification failed";
    case errc::connection_closed:
        return "connection closed before a complete response";
    case errc::body_too_large:
        return "response body too large";
    case errc::header_too_large:
        return "response header too large";
    case errc::bad_response:
        return "malformed HTTP response";
    case errc::io_error:
        return "I/O error";
    }
    return "unknown net error";
}

} // namespace

const boost::system::error_category& net_category() noexcept
{
    static const core::enum_category<errc> instance("certfleet.net", describe);
    return instance;
}

} // namespace certfleet::net
