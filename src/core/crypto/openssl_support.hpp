#pragma once
// Internal helpers shared by the crypto sources; not part of the public API.
// OpenSSL reports failures on a per-thread error queue. Our functions report through their return
// values instead, so each public entry point empties the queue on the way out: a failure here
// must not surface later as a stale error in unrelated TLS code on the same thread.

#include <openssl/err.h>

#include <climits>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/handles.hpp"

namespace certfleet::core::detail {

class error_queue_guard
{
public:
    error_queue_guard() = default;
    error_queue_guard(const error_queue_guard&) = delete;
    error_queue_guard& operator=(const error_queue_guard&) = delete;
    error_queue_guard(error_queue_guard&&) = delete;
    error_queue_guard& operator=(error_queue_guard&&) = delete;
    ~error_queue_guard() { ERR_clear_error(); }
};

[[nodiscard]] inline const unsigned char* bytes(std::string_view s) noexcept
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

[[nodiscard]] inline std::string_view chars(const unsigned char* p, std::size_t n) noexcept
{
    return {reinterpret_cast<const char*>(p), n};
}

// A read-only memory BIO over `data` (which must outlive it); null when too large for OpenSSL.
[[nodiscard]] inline bio_ptr memory_bio(std::string_view data) noexcept
{
    if (data.size() > static_cast<std::size_t>(INT_MAX)) {
        return nullptr;
    }
    return bio_ptr{BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))};
}

// Everything written to a memory BIO so far.
[[nodiscard]] inline std::string memory_bio_contents(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    if (size <= 0 || data == nullptr) {
        return {};
    }
    return {data, static_cast<std::size_t>(size)};
}

// DER encoding through an i2d_* function; empty on failure.
template <typename T, typename Encoder> [[nodiscard]] std::string to_der(T* object, Encoder encode)
{
    unsigned char* out = nullptr;
    const int size = encode(object, &out);
    const openssl_bytes_ptr owner{out};
    if (size <= 0 || out == nullptr) {
        return {};
    }
    return std::string{chars(out, static_cast<std::size_t>(size))};
}

} // namespace certfleet::core::detail
