#include "dns/acmedns_rules.hpp"

#include <doctest/doctest.h>

#include "core/crypto/random.hpp"

namespace certfleet::dns {

TEST_SUITE("dns")
{
    TEST_CASE("acme-dns rules: TXT values, keys, subdomains and UUIDs as acme-dns checks them")
    {
        CHECK(valid_acmedns_txt(std::string(21, 'a') + "-_" + std::string(20, 'Z')));
        CHECK_FALSE(valid_acmedns_txt(std::string(42, 'a')));
        CHECK_FALSE(valid_acmedns_txt(std::string(44, 'a')));
        CHECK_FALSE(valid_acmedns_txt(std::string(42, 'a') + "="));
        CHECK_FALSE(valid_acmedns_txt(std::string(42, 'a') + "\xc3"));
        CHECK(valid_acmedns_key(std::string(40, '0')));
        CHECK_FALSE(valid_acmedns_key(std::string(39, '0') + "/"));

        CHECK(valid_acmedns_subdomain("d420c923-bbd7-4056-ab64-c3ca54c9b3cf"));
        CHECK(valid_acmedns_subdomain("a"));
        CHECK_FALSE(valid_acmedns_subdomain(""));
        CHECK_FALSE(valid_acmedns_subdomain("-a"));
        CHECK_FALSE(valid_acmedns_subdomain("a-"));
        CHECK_FALSE(valid_acmedns_subdomain("a.b"));
        CHECK_FALSE(valid_acmedns_subdomain(std::string(64, 'a')));

        CHECK(
            canonical_uuid("D420C923-BBD7-4056-AB64-C3CA54C9B3CF").value() ==
            "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"
        );
        CHECK_FALSE(canonical_uuid("d420c923bbd74056ab64c3ca54c9b3cf").has_value());
        CHECK_FALSE(canonical_uuid("d420c923-bbd7-4056-ab64-c3ca54c9b3cg").has_value());
        CHECK_FALSE(canonical_uuid("d420c923-bbd7-4056-ab64-c3ca54c9b3c").has_value());
    }

    TEST_CASE("acme-dns rules: random UUIDs are canonical version 4 UUIDs, each its own")
    {
        const auto a = core::random_uuid().value();
        const auto b = core::random_uuid().value();
        CHECK(canonical_uuid(a).value_or("") == a);
        CHECK(a[14] == '4');
        CHECK(std::string_view("89ab").find(a[19]) != std::string_view::npos);
        CHECK(a != b);
    }

    TEST_CASE("acme-dns rules: JSON members match their key in any case, the last one wins")
    {
        const auto j = nlohmann::json::parse(R"({"SubDomain": "x", "TXT": "y"})");
        CHECK(acmedns_field(j, "subdomain")->get<std::string>() == "x");
        CHECK(acmedns_field(j, "txt")->get<std::string>() == "y");
        CHECK(acmedns_field(j, "allowfrom") == nullptr);
        CHECK(acmedns_field(nlohmann::json::array(), "txt") == nullptr);
    }
}

} // namespace certfleet::dns
