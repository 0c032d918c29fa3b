#include "acme/errc.hpp"

#include <string>

namespace certfleet::acme {
namespace {

// Boost's error_category has a protected, non-virtual destructor by design; categories are
// never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category
{
public:
    [[nodiscard]] const char* name() const noexcept override { return "certfleet.acme"; }

    [[nodiscard]] std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::malformed_response:
            return "malformed response from the ACME server";
        case errc::missing_field:
            return "a required field is missing from the ACME response";
        case errc::value_too_large:
            return "ACME response too large (body, string or array past its bound)";
        case errc::problem:
            return "the ACME server returned a problem document";
        case errc::unexpected_status:
            return "unexpected status from the ACME server";
        case errc::timeout:
            return "ACME operation timed out";
        case errc::too_many_retries:
            return "too many retries";
        case errc::order_invalid:
            return "the ACME order is invalid";
        case errc::authorization_invalid:
            return "an ACME authorization is invalid";
        case errc::no_dns01_challenge:
            return "the ACME server offers no dns-01 challenge";
        case errc::bad_nonce_exhausted:
            return "the ACME server kept rejecting our nonces";
        case errc::rate_limited:
            return "rate limited by the ACME server";
        case errc::unsupported:
            return "not supported by the ACME server";
        }
        return "unknown acme error";
    }
};
#pragma GCC diagnostic pop

} // namespace

const boost::system::error_category& acme_category() noexcept
{
    static const category instance;
    return instance;
}

} // namespace certfleet::acme
