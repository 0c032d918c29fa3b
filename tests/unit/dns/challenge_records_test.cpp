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

    TEST_CASE("a challenge snapshot never changes, later changes publish another")
    {
        challenge_records c;
        const auto key = canonical_name("x.test").value();
        REQUIRE_FALSE(c.present("x.test", "one", std::chrono::seconds(5)));
        const auto before = c.snapshot();
        const auto version = c.snapshots().version();
        REQUIRE_FALSE(c.present("x.test", "two", std::chrono::seconds(5)));
        c.cleanup("x.test", "one");
        REQUIRE(before->find_txt(key) != nullptr);
        CHECK(before->find_txt(key)->size() == 1);
        CHECK(before->find_txt(key)->front().text == "one");
        CHECK(c.snapshots().version() == version + 2);
        CHECK(c.snapshot()->find_txt(key)->front().text == "two");
        c.cleanup("x.test", "absent"); // nothing removed: nothing published
        CHECK(c.snapshots().version() == version + 2);
    }
}
