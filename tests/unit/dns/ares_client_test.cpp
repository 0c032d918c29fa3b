// dns::ares_client against an in-process server that counts the queries it receives.

#include "dns/ares_client.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "unit/dns/loop_server.hpp"

using namespace certfleet;
using namespace certfleet::dns;
using namespace std::chrono_literals;

TEST_SUITE("dns")
{
    TEST_CASE("ares client: prefetched questions are asked once, together, and answered from what "
              "was kept until forgotten")
    {
        test::running_server s(1);
        ares_client client({{"127.0.0.1:" + std::to_string(s.port)}, 1000ms, 1});
        REQUIRE(client.setup_error().empty());
        const auto queries = [&s] { return s.server->stats().udp_queries; };

        client.prefetch({
            {"one.acme.loop.test", rr_type::txt},
            {"acme.loop.test", rr_type::ns},
            {"missing.acme.loop.test", rr_type::txt},
        });
        CHECK(queries() == 3);
        const auto one = client.query("one.acme.loop.test", rr_type::txt);
        CHECK(one.outcome == ares_outcome::answered);
        CHECK_FALSE(one.message.empty());
        CHECK(client.query("acme.loop.test", rr_type::ns).outcome == ares_outcome::answered);
        CHECK(
            client.query("missing.acme.loop.test", rr_type::txt).outcome ==
            ares_outcome::no_such_name
        );
        CHECK(client.query("one.acme.loop.test", rr_type::txt).message == one.message);
        CHECK(queries() == 3); // nothing asked again

        // A question not prefetched is asked; a forgotten one is asked again.
        CHECK(client.query("one.acme.loop.test", rr_type::a).outcome == ares_outcome::no_data);
        CHECK(queries() == 4);
        client.forget_prefetched();
        CHECK(client.query("one.acme.loop.test", rr_type::txt).outcome == ares_outcome::answered);
        CHECK(queries() == 5);
    }

    TEST_CASE("ares client: a prefetch that gets no answer keeps the failure, with its reason")
    {
        // A port nobody answers on: the server is stopped, so its port is closed.
        test::running_server s(1);
        const auto port = s.port;
        s.server->stop();
        ares_client client({{"127.0.0.1:" + std::to_string(port)}, 200ms, 1});
        client.prefetch({{"one.acme.loop.test", rr_type::txt}});
        const auto answer = client.query("one.acme.loop.test", rr_type::txt);
        CHECK(answer.outcome == ares_outcome::failed);
        CHECK_FALSE(answer.error.empty());
    }
}
