#pragma once
// Overwrites memory with zeros in a way the compiler may not remove (the buffer is about to be
// freed, which would otherwise make the stores dead). OPENSSL_cleanse on Linux, SecureZeroMemory
// on Windows (src/windows/secure_wipe.cpp).

#include <cstddef>

namespace certfleet::core {

void secure_wipe(void* data, std::size_t size) noexcept;

} // namespace certfleet::core
