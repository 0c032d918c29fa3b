#pragma once
// The crypto port of the platform the tests are built for: OpenSSL on Linux, CNG on Windows
// (tests/windows runs the portable tests, the HPKE vectors among them, against it under Wine).

#ifdef _WIN32
#include "windows/cng_crypto.hpp"
#else
#include "deploy/openssl_crypto.hpp"
#endif

namespace certfleet::test {

#ifdef _WIN32
using platform_crypto = deploy::cng_crypto;
#else
using platform_crypto = deploy::openssl_crypto;
#endif

} // namespace certfleet::test
