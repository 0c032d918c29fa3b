#include "core/challenge_redirect.hpp"

#include "core/errc.hpp"

namespace certfleet::core {

boost::system::error_code
challenge_redirect::present(std::string_view fqdn, std::string_view value, std::chrono::seconds ttl)
{
    const auto target = resolve_(fqdn);
    if (!target) {
        return errc::not_found; // not a managed name: no CNAME leads to us
    }
    return target_.present(*target, value, ttl);
}

void challenge_redirect::cleanup(std::string_view fqdn, std::string_view value)
{
    if (const auto target = resolve_(fqdn)) {
        target_.cleanup(*target, value);
    }
}

} // namespace certfleet::core
