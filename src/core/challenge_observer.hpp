#pragma once
// The port through which the DNS authority tells the issuer that a CA is validating: it just
// answered a TXT query at a name that holds challenge values. The order that published there
// then polls the CA at once instead of at its next backoff step, so issuance is paced by the CA
// rather than by our timers (DESIGN section 4).
//
// Contract:
// - Called on a DNS server thread, once per answered query (a CA asks from several vantage
//   points: expect several calls per order). It must not block: implementations hand the name
//   to their own executor and return.
// - fqdn is in presentation format, lower case, without the final dot.

#include <string_view>

namespace certfleet::core {

class challenge_observer
{
public:
    virtual ~challenge_observer() = default;
    virtual void challenge_queried(std::string_view fqdn) noexcept = 0;
};

} // namespace certfleet::core
