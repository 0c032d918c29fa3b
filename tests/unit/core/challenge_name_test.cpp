#include "core/challenge_name.hpp"

#include <doctest/doctest.h>

using namespace certfleet::core;

TEST_SUITE("core")
{
    TEST_CASE("challenge names: _acme-challenge at the name, a wildcard's label removed (RFC 8555 "
              "8.4 and 7.1.3)")
    {
        struct row
        {
            const char* identifier;
            const char* managed;
            const char* challenge;
        };
        const row rows[] = {
            {"www.example.com", "www.example.com", "_acme-challenge.www.example.com"},
            {"*.example.com", "example.com", "_acme-challenge.example.com"},
            {"example.com", "example.com", "_acme-challenge.example.com"},
            {"WWW.Example.COM", "www.example.com", "_acme-challenge.www.example.com"},
            {"www.example.com.", "www.example.com", "_acme-challenge.www.example.com"},
            {"*.Example.com.", "example.com", "_acme-challenge.example.com"},
        };
        for (const auto& r : rows) {
            CAPTURE(r.identifier);
            CHECK(managed_name_for(r.identifier) == r.managed);
            CHECK(challenge_name_for(r.identifier) == r.challenge);
            CHECK(managed_name_of(challenge_name_for(r.identifier)) == r.managed);
        }
    }

    TEST_CASE("challenge names: the managed name behind a challenge name")
    {
        CHECK(managed_name_of("_acme-challenge.www.example.com") == "www.example.com");
        CHECK(managed_name_of("_ACME-Challenge.WWW.example.com.") == "www.example.com");
        CHECK(managed_name_of("_acme-challenge.example.com.") == "example.com");
        CHECK_FALSE(managed_name_of("www.example.com"));
        CHECK_FALSE(managed_name_of("_acme-challenge."));
        CHECK_FALSE(managed_name_of("_acme-challenge"));
        CHECK_FALSE(managed_name_of("x_acme-challenge.example.com"));
        CHECK_FALSE(managed_name_of(""));
    }
}
