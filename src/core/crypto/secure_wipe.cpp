#include "core/crypto/secure_wipe.hpp"

#include <openssl/crypto.h>

namespace certfleet::core {

void secure_wipe(void* data, std::size_t size) noexcept
{
    OPENSSL_cleanse(data, size);
}

} // namespace certfleet::core
