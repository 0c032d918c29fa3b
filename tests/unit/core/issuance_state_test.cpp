#include "core/issuance_state.hpp"

#include <doctest/doctest.h>

namespace certfleet::core {

TEST_SUITE("core")
{
    TEST_CASE("issuance state: every order state and certificate state round-trips through its "
              "stored name")
    {
        for (int i = 0; i <= static_cast<int>(order_state::failed); ++i) {
            const auto s = static_cast<order_state>(i);
            CHECK(order_state_from_string(to_string(s)) == s);
        }
        for (int i = 0; i <= static_cast<int>(certificate_state::revoked); ++i) {
            const auto s = static_cast<certificate_state>(i);
            CHECK(certificate_state_from_string(to_string(s)) == s);
        }
        CHECK_FALSE(order_state_from_string("Issued"));
        CHECK_FALSE(certificate_state_from_string(""));
    }

    TEST_CASE(
        "issuance state: orders move forward, may fail from any open state, never leave a final one"
    )
    {
        const order_state path[] = {order_state::ordering,    order_state::authorizing,
                                    order_state::publishing,  order_state::answering,
                                    order_state::validating,  order_state::finalizing,
                                    order_state::downloading, order_state::issued};
        for (std::size_t i = 0; i + 1 < std::size(path); ++i) {
            CAPTURE(to_string(path[i]));
            CHECK(may_advance(path[i], path[i + 1]));
            CHECK(may_advance(path[i], path[i])); // a repeated write after a resume
            CHECK(may_advance(path[i], order_state::issued) == true);
            if (i > 0) {
                CHECK_FALSE(may_advance(path[i], path[i - 1]));
            }
            CHECK(may_advance(path[i], order_state::failed));
            CHECK_FALSE(is_final(path[i]));
        }
        CHECK(is_final(order_state::issued));
        CHECK(is_final(order_state::failed));
        CHECK_FALSE(may_advance(order_state::issued, order_state::failed));
        CHECK_FALSE(may_advance(order_state::failed, order_state::ordering));
        CHECK(may_advance(order_state::failed, order_state::failed));
    }
}

} // namespace certfleet::core
