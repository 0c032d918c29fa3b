#include "acme/request_outcome.hpp"

#include "acme/problem.hpp"

namespace certfleet::acme {

std::string_view to_string(endpoint e) noexcept
{
    switch (e) {
    case endpoint::directory:
        return "directory";
    case endpoint::new_nonce:
        return "newNonce";
    case endpoint::new_account:
        return "newAccount";
    case endpoint::account:
        return "account";
    case endpoint::key_change:
        return "keyChange";
    case endpoint::new_order:
        return "newOrder";
    case endpoint::order:
        return "order";
    case endpoint::authorization:
        return "authz";
    case endpoint::challenge:
        return "challenge";
    case endpoint::finalize:
        return "finalize";
    case endpoint::certificate:
        return "certificate";
    case endpoint::renewal_info:
        return "renewalInfo";
    case endpoint::revoke_cert:
        return "revokeCert";
    }
    return "other";
}

std::string_view request_outcome(unsigned status, std::string_view body) noexcept
{
    if (status >= 500) {
        return "5xx";
    }
    if (status >= 400) {
        const auto p = parse_problem(body, status);
        const auto type = p ? registered_short_type(p->type) : std::string_view("other");
        return type == "other" ? std::string_view("4xx") : type;
    }
    return status >= 300 ? "3xx" : "2xx";
}

} // namespace certfleet::acme
