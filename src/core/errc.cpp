#include "core/errc.hpp"

#include <string>

namespace certfleet::core {
namespace {

// Boost's error_category has a protected, non-virtual destructor by design; categories are
// never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category
{
public:
    [[nodiscard]] const char* name() const noexcept override { return "certfleet.core"; }

    [[nodiscard]] std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::invalid_argument:
            return "invalid argument";
        case errc::io_error:
            return "input/output error";
        case errc::not_found:
            return "not found";
        case errc::corrupt_data:
            return "corrupt data";
        case errc::invalid_encoding:
            return "invalid base64 or base64url encoding";
        case errc::invalid_key:
            return "no usable private key";
        case errc::unsupported_key:
            return "unsupported key type or size";
        case errc::invalid_certificate:
            return "invalid X.509 certificate";
        case errc::too_many_certificates:
            return "too many certificates in the chain";
        case errc::authentication_failed:
            return "authentication failed";
        case errc::crypto_failure:
            return "cryptographic operation failed";
        }
        return "unknown core error";
    }
};
#pragma GCC diagnostic pop

} // namespace

const boost::system::error_category& core_category() noexcept
{
    static const category instance;
    return instance;
}

} // namespace certfleet::core
