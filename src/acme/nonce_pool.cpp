#include "acme/nonce_pool.hpp"

#include <algorithm>

namespace certfleet::acme {

void nonce_pool::add(std::string_view nonce)
{
    const bool valid = !nonce.empty() && nonce.size() <= 256 &&
                       std::all_of(nonce.begin(), nonce.end(), [](char c) {
                           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                  (c >= '0' && c <= '9') || c == '-' || c == '_';
                       });
    if (!valid) {
        return;
    }
    nonces_.emplace_front(nonce);
    if (nonces_.size() > capacity_) {
        nonces_.pop_back(); // the oldest is the likeliest to have expired at the CA
    }
}

std::optional<std::string> nonce_pool::take()
{
    if (nonces_.empty()) {
        return std::nullopt;
    }
    auto n = std::move(nonces_.front());
    nonces_.pop_front();
    return n;
}

} // namespace certfleet::acme
