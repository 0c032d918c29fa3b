#include "dns/name.hpp"

#include <doctest/doctest.h>

#include "dns/errc.hpp"

using namespace certfleet::dns;

TEST_SUITE("dns")
{
    TEST_CASE("names convert between presentation and wire format")
    {
        const auto wire = name_from_text("www.Example.com.").value();
        CHECK(wire == std::string("\3www\7Example\3com\0", 17));
        CHECK(name_to_text(wire) == "www.Example.com.");
        CHECK(
            name_from_text("www.example.com").value() == name_from_text("www.example.com.").value()
        );
        CHECK(
            canonical_name("WWW.Example.COM").value() == std::string("\3www\7example\3com\0", 17)
        );
        CHECK(name_from_text(".").value() == std::string(1, '\0'));
        CHECK(name_to_text(std::string(1, '\0')) == ".");
    }

    TEST_CASE("escapes survive a round trip (RFC 1035 5.1)")
    {
        const auto wire = name_from_text(R"(a\.b\032c.example.)").value();
        CHECK(wire == std::string("\5a.b c\7example\0", 15));
        CHECK(name_to_text(wire) == R"(a\.b\032c.example.)");
    }

    TEST_CASE("invalid names are refused")
    {
        CHECK(name_from_text("").error() == errc::invalid_name);
        CHECK(name_from_text("a..b").error() == errc::invalid_name);
        CHECK(name_from_text(std::string(64, 'a') + ".com").error() == errc::invalid_name);
        CHECK(name_from_text(R"(a\25)").error() == errc::invalid_name);
        CHECK(name_from_text(R"(a\999)").error() == errc::invalid_name);
        std::string long_name;
        for (int i = 0; i < 5; ++i) {
            long_name += std::string(60, 'a') + ".";
        }
        CHECK(name_from_text(long_name).error() == errc::name_too_long);
    }

    TEST_CASE("ancestry follows label boundaries")
    {
        const auto apex = canonical_name("example.com").value();
        CHECK(is_at_or_below(canonical_name("www.example.com").value(), apex));
        CHECK(is_at_or_below(apex, apex));
        CHECK_FALSE(is_at_or_below(canonical_name("wwwexample.com").value(), apex));
        CHECK_FALSE(is_at_or_below(canonical_name("com").value(), apex));
    }
}
