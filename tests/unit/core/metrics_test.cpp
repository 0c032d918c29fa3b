#include "core/metrics.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>

namespace certfleet::core {

TEST_SUITE("core")
{
    TEST_CASE("metrics: a counter family counts by label values, in their order")
    {
        counter_family family{"ca", "outcome"};
        family.add({"default", "issued"});
        family.add({"default", "issued"}, 2);
        family.add({"backup", "failed"});
        family.touch({"default", "failed"});
        CHECK(family.get({"default", "issued"}) == 3);
        CHECK(family.get({"default", "failed"}) == 0);
        CHECK(family.get({"nowhere", "issued"}) == 0);

        const auto series = family.snapshot();
        REQUIRE(series.size() == 3);
        CHECK(series[0].label_values == std::vector<std::string>{"backup", "failed"});
        CHECK(series[1].label_values == std::vector<std::string>{"default", "failed"});
        CHECK(series[2].label_values == std::vector<std::string>{"default", "issued"});
        CHECK(series[2].count == 3);
        CHECK(family.label_names() == std::vector<std::string>{"ca", "outcome"});
    }

    TEST_CASE("metrics: the wrong count of label values is refused")
    {
        counter_family family{"ca", "outcome"};
        CHECK_THROWS_AS(family.add({"default"}), std::invalid_argument);
        CHECK_THROWS_AS(family.add({"default", "issued", "extra"}), std::invalid_argument);
        CHECK(family.snapshot().empty());
    }

    TEST_CASE("metrics: counters and families added to from several threads lose nothing")
    {
        counter total;
        counter_family family{"worker"};
        constexpr int per_thread = 10'000;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                const std::string name = t % 2 == 0 ? "even" : "odd";
                for (int i = 0; i < per_thread; ++i) {
                    total.add();
                    family.add({name});
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(total.get() == 4 * per_thread);
        CHECK(family.get({"even"}) == 2 * per_thread);
        CHECK(family.get({"odd"}) == 2 * per_thread);
    }

    TEST_CASE("metrics: a local counter is written by its owner and read by another thread")
    {
        local_counter c;
        std::thread writer([&] {
            for (int i = 0; i < 1000; ++i) {
                c.add(2);
            }
        });
        writer.join();
        CHECK(c.get() == 2000);
    }
}

} // namespace certfleet::core
