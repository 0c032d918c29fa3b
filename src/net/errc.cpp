#include "net/errc.hpp"

#include <string>

namespace certfleet::net {
namespace {

// Boost's error_category has a protected, non-virtual destructor by design; categories are
// never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category
{
public:
    [[nodiscard]] const char* name() const noexcept override { return "certfleet.net"; }

    [[nodiscard]] std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
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
};
#pragma GCC diagnostic pop

} // namespace

const boost::system::error_category& net_category() noexcept
{
    static const category instance;
    return instance;
}

} // namespace certfleet::net
