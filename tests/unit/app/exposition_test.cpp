#include "app/exposition.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace certfleet::app {

TEST_SUITE("app")
{
    TEST_CASE("exposition: HELP, TYPE and samples, families by name and samples by labels")
    {
        std::vector<metric_family> families{
            {"zeta_total",
             "Last by name.",
             metric_type::counter,
             {{{{"kind", "b"}}, 2}, {{{"kind", "a"}}, 1}}},
            {"alpha_seconds", "First by name.", metric_type::gauge, {{{}, 1.5}}},
            {"empty", "No samples: left out.", metric_type::gauge, {}},
        };
        CHECK(
            render_exposition(families) == "# HELP alpha_seconds First by name.\n"
                                           "# TYPE alpha_seconds gauge\n"
                                           "alpha_seconds 1.5\n"
                                           "# HELP zeta_total Last by name.\n"
                                           "# TYPE zeta_total counter\n"
                                           "zeta_total{kind=\"a\"} 1\n"
                                           "zeta_total{kind=\"b\"} 2\n"
        );
        CHECK(render_exposition({}).empty());
    }

    TEST_CASE("exposition: label values escape backslash, quote and newline, HELP backslash and "
              "newline")
    {
        const std::vector<metric_family> families{
            {"m",
             "a \\ b\nc \"quoted\"",
             metric_type::gauge,
             {{{{"path", "C:\\dir\\\"x\"\nnext"}, {"plain", "ok"}}, 1}}},
        };
        CHECK(
            render_exposition(families) ==
            "# HELP m a \\\\ b\\nc \"quoted\"\n"
            "# TYPE m gauge\n"
            "m{path=\"C:\\\\dir\\\\\\\"x\\\"\\nnext\",plain=\"ok\"} 1\n"
        );
    }

    TEST_CASE("exposition: values in their shortest exact form, NaN and infinities as spelled")
    {
        const auto rendered = [](double v) {
            return render_exposition({{"v", "h", metric_type::gauge, {{{}, v}}}});
        };
        const std::string head = "# HELP v h\n# TYPE v gauge\nv ";
        CHECK(rendered(0) == head + "0\n");
        CHECK(rendered(42) == head + "42\n");
        CHECK(rendered(-7776000) == head + "-7776000\n");
        CHECK(rendered(0.25) == head + "0.25\n");
        CHECK(rendered(1751234567.5) == head + "1751234567.5\n");
        CHECK(rendered(9007199254740992.0) == head + "9007199254740992\n");
        CHECK(rendered(std::numeric_limits<double>::quiet_NaN()) == head + "NaN\n");
        CHECK(rendered(std::numeric_limits<double>::infinity()) == head + "+Inf\n");
        CHECK(rendered(-std::numeric_limits<double>::infinity()) == head + "-Inf\n");
    }

    TEST_CASE("exposition: bad metric or label names and a name used twice are refused")
    {
        const auto family = [](std::string name, std::string label) {
            return metric_family{
                std::move(name), "h", metric_type::gauge, {{{{std::move(label), "v"}}, 1}}};
        };
        CHECK_NOTHROW((void)render_exposition({family("ns:sub_total", "a_1")}));
        CHECK_THROWS_AS((void)render_exposition({family("1st", "a")}), std::invalid_argument);
        CHECK_THROWS_AS((void)render_exposition({family("with-dash", "a")}), std::invalid_argument);
        CHECK_THROWS_AS((void)render_exposition({family("", "a")}), std::invalid_argument);
        CHECK_THROWS_AS(
            (void)render_exposition({family("m", "__reserved")}), std::invalid_argument
        );
        CHECK_THROWS_AS((void)render_exposition({family("m", "a:b")}), std::invalid_argument);
        CHECK_THROWS_AS(
            (void)render_exposition({family("m", "a"), family("m", "b")}), std::invalid_argument
        );
        CHECK_THROWS_AS(
            (void
            )render_exposition({{"m", "h", metric_type::gauge, {{{{"a", "1"}, {"a", "2"}}, 1}}}}),
            std::invalid_argument
        );
    }
}

} // namespace certfleet::app
