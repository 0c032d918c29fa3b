#pragma once
// The port through which the ACME client publishes DNS-01 TXT values. Implemented by the DNS
// authority (dns::challenge_records); the issuer maps each `_acme-challenge` name to the
// delegated label before calling it.

#include <boost/system/error_code.hpp>
#include <chrono>
#include <string_view>

namespace certfleet::core {

// Contract:
// - Thread safety: every member may be called from any thread while the DNS server answers;
//   a change is visible to the next query at once.
// - present() is idempotent for the same (fqdn, value): presenting twice keeps one record and
//   refreshes its TTL. Several distinct values may live at one name at once.
// - cleanup() of a value that is not present is a no-op.
// - fqdn is a presentation-format domain name, case-insensitive, with or without the final dot.
//   present() returns an error for a name that is not a valid domain name, or a value longer
//   than one TXT character-string (255 bytes).
class challenge_board
{
public:
    virtual ~challenge_board() = default;

    [[nodiscard]] virtual boost::system::error_code
    present(std::string_view fqdn, std::string_view value, std::chrono::seconds ttl) = 0;

    virtual void cleanup(std::string_view fqdn, std::string_view value) = 0;
};

} // namespace certfleet::core
