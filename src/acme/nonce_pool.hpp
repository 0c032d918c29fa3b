#pragma once
// Nonces from Replay-Nonce headers (RFC 8555 7.2), each used once, newest first. Bounded: a CA
// that sends more nonces than we use does not make us grow.

#include <deque>
#include <optional>
#include <string>

namespace certfleet::acme {

class nonce_pool
{
public:
    explicit nonce_pool(std::size_t capacity = 64) : capacity_(capacity) {}

    // Ignores values that are not base64url (RFC 8555 6.5.1) or absurdly long.
    void add(std::string_view nonce);
    [[nodiscard]] std::optional<std::string> take();
    [[nodiscard]] std::size_t size() const noexcept { return nonces_.size(); }

private:
    std::size_t capacity_;
    std::deque<std::string> nonces_;
};

} // namespace certfleet::acme
