#include "core/crypto/secure_wipe.hpp"

#include <windows.h>

namespace certfleet::core {

void secure_wipe(void* data, std::size_t size) noexcept
{
    SecureZeroMemory(data, size);
}

} // namespace certfleet::core
