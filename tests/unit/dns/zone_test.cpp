#include "dns/zone.hpp"

#include <doctest/doctest.h>

#include "dns/zone_file.hpp"

using namespace certfleet::dns;

namespace {
soa_fields soa()
{
    soa_fields s;
    s.mname = "ns1";
    s.rname = "hostmaster";
    return s;
}
} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("a zone file loads records relative to the apex")
    {
        auto b = zone_builder::start("zone.test", soa()).value();
        const auto error = load_zone_file(
            "; comment\n"
            "$TTL 120\n"
            "@        IN NS ns1\n"
            "ns1        A  127.0.0.1\n"
            "           AAAA ::1\n"
            "www   60 IN TXT \"a; b\" \"c\" ; trailing comment\n"
            "abs.zone.test. CAA 0 issue \"letsencrypt.org\"\n",
            b, 300
        );
        REQUIRE_FALSE(error);
        auto z = b.finish().value();
        const auto* www = z->find(canonical_name("www.zone.test").value());
        REQUIRE(www != nullptr);
        REQUIRE(www->find(rr_type::txt) != nullptr);
        CHECK(www->find(rr_type::txt)->ttl == 60);
        CHECK(www->find(rr_type::txt)->rdatas[0] == std::string("\4a; b\1c"));
        const auto* ns1 = z->find(canonical_name("ns1.zone.test").value());
        REQUIRE(ns1 != nullptr);
        CHECK(ns1->rrsets.size() == 2);
        CHECK(ns1->find(rr_type::a)->ttl == 120);
    }

    TEST_CASE("zone file errors name the line")
    {
        auto b = zone_builder::start("zone.test", soa()).value();
        auto e = load_zone_file("@ NS ns1\nwww A not-an-address\n", b, 300);
        REQUIRE(e);
        CHECK(e->line == 2);
        e = load_zone_file("@ SOA a b 1 2 3 4 5\n", b, 300);
        REQUIRE(e);
        CHECK(e->what.find("SOA") != std::string::npos);
        e = load_zone_file("www.other.test. A 127.0.0.1\n", b, 300);
        REQUIRE(e);
        e = load_zone_file("www BOGUS x\n", b, 300);
        REQUIRE(e);
    }

    TEST_CASE("a zone needs NS at its apex and no CNAME beside other data")
    {
        auto b = zone_builder::start("zone.test", soa()).value();
        CHECK_FALSE(b.finish());
        auto c = zone_builder::start("zone.test", soa()).value();
        REQUIRE_FALSE(c.add("@", rr_type::ns, 60, "ns1"));
        REQUIRE_FALSE(c.add("x", rr_type::cname, 60, "y"));
        REQUIRE_FALSE(c.add("x", rr_type::txt, 60, "z"));
        CHECK_FALSE(c.finish());
    }

    TEST_CASE("the catalog picks the longest matching apex")
    {
        auto outer = zone_builder::start("test", soa()).value();
        REQUIRE_FALSE(outer.add("@", rr_type::ns, 60, "ns1"));
        auto inner = zone_builder::start("acme.test", soa()).value();
        REQUIRE_FALSE(inner.add("@", rr_type::ns, 60, "ns1"));
        catalog c({outer.finish().value(), inner.finish().value()});
        CHECK(
            c.find_zone(canonical_name("x.acme.test").value())->apex() ==
            canonical_name("acme.test").value()
        );
        CHECK(
            c.find_zone(canonical_name("x.test").value())->apex() == canonical_name("test").value()
        );
        CHECK(c.find_zone(canonical_name("example.com").value()) == nullptr);
    }
}

TEST_SUITE("dns")
{
    TEST_CASE("parentheses inside a quoted TXT string are data, outside a multi-line record")
    {
        auto b = zone_builder::start("zone.test", soa()).value();
        REQUIRE_FALSE(load_zone_file("@ NS ns1\n", b, 300));
        REQUIRE_FALSE(load_zone_file("@ TXT \"v=spf1 (x) -all\"\nq TXT \"a)\" \"(b\"\n", b, 300));
        auto z = b.finish().value();
        const auto* apex = z->find(canonical_name("zone.test").value());
        REQUIRE(apex->find(rr_type::txt) != nullptr);
        CHECK(apex->find(rr_type::txt)->rdatas[0] == std::string("\17v=spf1 (x) -all"));

        auto c = zone_builder::start("zone.test", soa()).value();
        const auto e = load_zone_file("www TXT ( \"a\"\n \"b\" )\n", c, 300);
        REQUIRE(e);
        CHECK(e->line == 1);
        CHECK(e->what.find("multi-line") != std::string::npos);
    }

    TEST_CASE("zone file errors quote the text only when allowed")
    {
        auto b = zone_builder::start("zone.test", soa()).value();
        const std::string secret = "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
        auto quoted = load_zone_file(secret + "\n", b, 300);
        REQUIRE(quoted);
        CHECK(quoted->what.find("PRIVATE") != std::string::npos);
        auto silent = load_zone_file(secret + "\n", b, 300, {.quote_text = false});
        REQUIRE(silent);
        CHECK(silent->line == 1);
        for (const auto* word : {"BEGIN", "PRIVATE", "KEY", "MIIE"}) {
            CHECK(silent->what.find(word) == std::string::npos);
        }
    }

    TEST_CASE("a CNAME conflict names the places of both records")
    {
        for (const std::string records : {"x CNAME y\nx CNAME z\n", "x TXT t\nx CNAME y\n"}) {
            INFO(records);
            auto b = zone_builder::start("zone.test", soa()).value();
            REQUIRE_FALSE(b.add("@", rr_type::ns, 60, "ns1"));
            const zone_file_source source{
                [](std::size_t line) { return "file:" + std::to_string(line); }};
            REQUIRE_FALSE(load_zone_file(records, b, 300, source));
            const auto conflict = b.find_conflict();
            REQUIRE(conflict);
            CHECK(conflict->owner == "x.zone.test.");
            CHECK(conflict->first == "file:1");
            CHECK(conflict->second == "file:2");
            CHECK_FALSE(b.finish());
        }
        auto ok = zone_builder::start("zone.test", soa()).value();
        REQUIRE_FALSE(ok.add("@", rr_type::ns, 60, "ns1"));
        REQUIRE_FALSE(load_zone_file("x CNAME y\nx CNAME y\n", ok, 300)); // the same record twice
        CHECK_FALSE(ok.find_conflict());
    }
}
