#pragma once
// A few P-256 key pairs built from their scalars (p256_pkey_from_scalar), kept for the next use:
// a long-lived signing key (the server's bundle key, an agent's identity) would otherwise be
// rebuilt, a scalar multiplication and an OpenSSL import, for every signature it makes.
//
// Entries are found by the SHA-256 of the scalar, compared in constant time, and the least
// recently used one is dropped when a new key needs room; the scalar itself is kept only inside
// the OpenSSL key, which wipes it when the last holder lets go. Only for keys used again: a
// one-time key (an HPKE ephemeral) must not pass through here, it would only evict the others.
//
// Thread safety: get() may be called from several threads at once (one mutex, held only for the
// lookup and the insertion, not while a key is built). A key handed out stays valid for as long
// as its caller holds it, evicted or not; OpenSSL 3 allows concurrent signing with one key.

#include <boost/system/result.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/handles.hpp"

namespace certfleet::core {

class p256_key_cache
{
public:
    // `capacity` at least 1.
    explicit p256_key_cache(std::size_t capacity = 4);

    // The key pair of `scalar`, built on first use. Errors: those of p256_pkey_from_scalar
    // (invalid_key, crypto_failure); a refused scalar is not remembered.
    [[nodiscard]] boost::system::result<std::shared_ptr<EVP_PKEY>> get(std::string_view scalar);

private:
    struct entry
    {
        std::string scalar_sha256;
        std::shared_ptr<EVP_PKEY> key;
    };

    [[nodiscard]] std::shared_ptr<EVP_PKEY> find(std::string_view scalar_sha256);

    std::mutex mutex_;
    std::size_t capacity_;
    std::vector<entry> entries_; // most recently used first
};

} // namespace certfleet::core
