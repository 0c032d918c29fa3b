#include "dns/challenge_records.hpp"

#include <doctest/doctest.h>

#include <thread>

#include "dns/errc.hpp"

using namespace certfleet::dns;

TEST_SUITE("dns")
{
    TEST_CASE("challenge records refuse invalid input")
    {
        challenge_records c;
        CHECK(c.present("a..b", "v", std::chrono::seconds(1)) == errc::invalid_name);
        CHECK(
            c.present("x.test", std::string(256, 'v'), std::chrono::seconds(1)) ==
            errc::value_too_long
        );
        c.cleanup("never.test", "v"); // a no-op
        CHECK(c.size() == 0);
    }

    TEST_CASE("challenge records are safe to change while read")
    {
        challenge_records c;
        const auto key = canonical_name("x.test").value();
        std::atomic<bool> stop{false};
        std::thread reader([&] {
            while (!stop) {
                c.visit_txt(key, [](const auto& values) { CHECK(values.size() <= 2); });
            }
        });
        for (int i = 0; i < 2000; ++i) {
            REQUIRE_FALSE(c.present("x.test", "a", std::chrono::seconds(1)));
            REQUIRE_FALSE(c.present("x.test", "b", std::chrono::seconds(1)));
            c.cleanup("x.test", "a");
            c.cleanup("x.test", "b");
        }
        stop = true;
        reader.join();
        CHECK(c.size() == 0);
        CHECK_FALSE(c.name_exists(canonical_name("test").value()));
    }
}
