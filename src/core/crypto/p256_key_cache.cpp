#include "core/crypto/p256_key_cache.hpp"

#include <algorithm>
#include <utility>

#include "core/crypto/hash.hpp"
#include "core/crypto/p256.hpp"

namespace certfleet::core {

p256_key_cache::p256_key_cache(std::size_t capacity) : capacity_{std::max<std::size_t>(capacity, 1)}
{}

std::shared_ptr<EVP_PKEY> p256_key_cache::find(std::string_view scalar_sha256)
{
    // The digests derive from key material: compared in constant time, and all of them, so the
    // comparisons take the same time whichever entry matches.
    auto found = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (constant_time_equal(it->scalar_sha256, scalar_sha256) && found == entries_.end()) {
            found = it;
        }
    }
    if (found == entries_.end()) {
        return nullptr;
    }
    std::rotate(entries_.begin(), found, std::next(found));
    return entries_.front().key;
}

boost::system::result<std::shared_ptr<EVP_PKEY>> p256_key_cache::get(std::string_view scalar)
{
    auto digest = sha256(scalar);
    {
        const std::lock_guard lock{mutex_};
        if (auto key = find(digest)) {
            return key;
        }
    }
    // Built outside the lock: two threads missing the same key both build it, and the second
    // finds the first's entry below and uses it.
    auto built = p256_pkey_from_scalar(scalar);
    if (!built) {
        return built.error();
    }
    std::shared_ptr<EVP_PKEY> key{std::move(*built)};
    const std::lock_guard lock{mutex_};
    if (auto existing = find(digest)) {
        return existing;
    }
    if (entries_.size() >= capacity_) {
        entries_.pop_back();
    }
    entries_.insert(entries_.begin(), entry{std::move(digest), key});
    return key;
}

} // namespace certfleet::core
