#include "core/errc.hpp"

#include "core/error_category.hpp"

namespace certfleet::core {
namespace {

const char* describe(errc e) noexcept
{
    switch (e) {
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
    case errc::already_exists:
        return "already exists";
    case errc::storage_failure:
        return "the store could not read or write";
    case errc::storage_full:
        return "the disk or the database is full";
    case errc::busy:
        return "held by another process";
    }
    return "unknown core error";
}

} // namespace

const boost::system::error_category& core_category() noexcept
{
    static const core::enum_category<errc> instance("certfleet.core", describe);
    return instance;
}

} // namespace certfleet::core
