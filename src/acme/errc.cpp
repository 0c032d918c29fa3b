#include "acme/errc.hpp"

#include "core/error_category.hpp"

namespace certfleet::acme {
namespace {

const char* describe(errc e) noexcept
{
    switch (e) {
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
    case errc::no_account:
        return "no ACME account yet: register or find it first";
    case errc::insecure_url:
        return "plain http:// is allowed only to a loopback host (127.0.0.0/8, ::1, localhost): "
               "use https://";
    }
    return "unknown acme error";
}

} // namespace

std::string_view to_string(errc e) noexcept
{
    switch (e) {
    case errc::malformed_response:
        return "malformed_response";
    case errc::missing_field:
        return "missing_field";
    case errc::value_too_large:
        return "value_too_large";
    case errc::problem:
        return "problem";
    case errc::unexpected_status:
        return "unexpected_status";
    case errc::timeout:
        return "timeout";
    case errc::order_invalid:
        return "order_invalid";
    case errc::authorization_invalid:
        return "authorization_invalid";
    case errc::no_dns01_challenge:
        return "no_dns01_challenge";
    case errc::bad_nonce_exhausted:
        return "bad_nonce_exhausted";
    case errc::rate_limited:
        return "rate_limited";
    case errc::unsupported:
        return "unsupported";
    case errc::no_account:
        return "no_account";
    case errc::insecure_url:
        return "insecure_url";
    }
    return "unknown";
}

const boost::system::error_category& acme_category() noexcept
{
    static const core::enum_category<errc> instance("certfleet.acme", describe);
    return instance;
}

} // namespace certfleet::acme
