#include "dns/responder.hpp"

#include <doctest/doctest.h>

#include <array>

#include "support/dns_messages.hpp"

using namespace certfleet;
using namespace certfleet::dns;
using test::make_query;
using test::query_spec;

namespace {

std::shared_ptr<const zone> test_zone()
{
    soa_fields soa;
    soa.mname = "ns1";
    soa.rname = "hostmaster.example.net.";
    soa.minimum = 30;
    soa.ttl = 300;
    auto b = zone_builder::start("acme.example.net", soa).value();
    REQUIRE_FALSE(b.add("@", rr_type::ns, 300, "ns1"));
    REQUIRE_FALSE(b.add("ns1", rr_type::a, 300, "192.0.2.53"));
    REQUIRE_FALSE(b.add("ns1", rr_type::aaaa, 300, "2001:db8::53"));
    REQUIRE_FALSE(b.add("static", rr_type::txt, 60, "\"one\""));
    REQUIRE_FALSE(b.add("deep.below.tree", rr_type::a, 60, "192.0.2.1"));
    REQUIRE_FALSE(b.add("alias", rr_type::cname, 60, "static"));
    REQUIRE_FALSE(b.add("outside", rr_type::cname, 60, "www.example.com."));
    REQUIRE_FALSE(b.add("big", rr_type::txt, 60, "\"" + std::string(200, 'a') + "\""));
    REQUIRE_FALSE(b.add("big", rr_type::txt, 60, "\"" + std::string(200, 'b') + "\""));
    REQUIRE_FALSE(b.add("big", rr_type::txt, 60, "\"" + std::string(200, 'c') + "\""));
    return b.finish().value();
}

struct fixture
{
    catalog zones{{test_zone()}};
    challenge_records challenges;
    std::array<std::uint8_t, max_message_size> out{};

    std::optional<test::decoded_response>
    ask(const std::vector<std::uint8_t>& query, transport via = transport::udp)
    {
        const auto n =
            respond(query, out, zone_data{&zones, &challenges}, via, responder_options{});
        if (n == 0) {
            return std::nullopt;
        }
        auto decoded = test::decode_response(std::span{out.data(), n});
        REQUIRE(decoded);
        return decoded;
    }
    std::optional<test::decoded_response> ask(const query_spec& q, transport via = transport::udp)
    {
        return ask(make_query(q), via);
    }
};

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE_FIXTURE(fixture, "SOA, NS with glue, and AA at the apex")
    {
        auto r = ask({.name = "acme.example.net", .type = rr_type::soa});
        REQUIRE(r);
        CHECK(r->rcode() == 0);
        CHECK(r->flag(flag::aa));
        CHECK(r->flag(flag::qr));
        CHECK(r->flag(flag::rd)); // copied from the query
        CHECK_FALSE(r->flag(flag::ra));
        CHECK(r->hdr.id == 0x1234);
        REQUIRE(r->answer.size() == 1);
        CHECK(r->answer[0].type == rr_type::soa);
        CHECK(r->answer[0].data == "ns1.acme.example.net.");

        r = ask({.name = "acme.example.net", .type = rr_type::ns});
        REQUIRE(r->answer.size() == 1);
        CHECK(r->answer[0].data == "ns1.acme.example.net.");
        REQUIRE(r->additional.size() == 2); // A and AAAA glue
        CHECK(r->additional[0].owner == "ns1.acme.example.net.");
    }

    TEST_CASE_FIXTURE(
        fixture, "challenge TXT values appear at once, several at one name, and go away"
    )
    {
        REQUIRE_FALSE(
            challenges.present("x1.acme.example.net", "value-one", std::chrono::seconds(5))
        );
        auto r = ask({.name = "x1.acme.example.net", .type = rr_type::txt});
        REQUIRE(r->answer.size() == 1);
        CHECK(r->answer[0].data == "value-one");
        CHECK(r->answer[0].ttl == 5);

        REQUIRE_FALSE(
            challenges.present("X1.Acme.Example.Net.", "value-two", std::chrono::seconds(5))
        );
        REQUIRE_FALSE(
            challenges.present("x1.acme.example.net", "value-one", std::chrono::seconds(5))
        ); // idempotent
        r = ask({.name = "x1.acme.example.net", .type = rr_type::txt});
        REQUIRE(r->answer.size() == 2);

        challenges.cleanup("x1.acme.example.net", "value-one");
        r = ask({.name = "x1.acme.example.net", .type = rr_type::txt});
        REQUIRE(r->answer.size() == 1);
        CHECK(r->answer[0].data == "value-two");

        challenges.cleanup("x1.acme.example.net", "value-two");
        r = ask({.name = "x1.acme.example.net", .type = rr_type::txt});
        CHECK(r->rcode() == static_cast<int>(rcode::nxdomain));
    }

    TEST_CASE_FIXTURE(fixture, "NXDOMAIN and NODATA carry the SOA with the negative TTL (RFC 2308)")
    {
        auto r = ask({.name = "nothing.acme.example.net", .type = rr_type::txt});
        CHECK(r->rcode() == static_cast<int>(rcode::nxdomain));
        CHECK(r->flag(flag::aa));
        CHECK(r->answer.empty());
        REQUIRE(r->authority.size() == 1);
        CHECK(r->authority[0].type == rr_type::soa);
        CHECK(r->authority[0].ttl == 30);

        r = ask({.name = "static.acme.example.net", .type = rr_type::a});
        CHECK(r->rcode() == 0);
        CHECK(r->answer.empty());
        REQUIRE(r->authority.size() == 1);
        CHECK(r->authority[0].type == rr_type::soa);

        SUBCASE("an empty non-terminal is NODATA, not NXDOMAIN (RFC 8020)")
        {
            r = ask({.name = "below.tree.acme.example.net", .type = rr_type::a});
            CHECK(r->rcode() == 0);
            CHECK(r->answer.empty());
            REQUIRE_FALSE(
                challenges.present("_x.sub.acme.example.net", "v", std::chrono::seconds(5))
            );
            r = ask({.name = "sub.acme.example.net", .type = rr_type::txt});
            CHECK(r->rcode() == 0);
            r = ask({.name = "_x.sub.acme.example.net", .type = rr_type::a});
            CHECK(r->rcode() == 0);
            CHECK(r->answer.empty());
        }
    }

    TEST_CASE_FIXTURE(fixture, "names outside our zones are REFUSED without AA")
    {
        auto r = ask({.name = "www.example.com", .type = rr_type::a});
        CHECK(r->rcode() == static_cast<int>(rcode::refused));
        CHECK_FALSE(r->flag(flag::aa));
        r = ask({.name = "example.net", .type = rr_type::soa});
        CHECK(r->rcode() == static_cast<int>(rcode::refused));
        r = ask({.name = "acme.example.net", .type = rr_type::soa, .qclass = 3}); // CHAOS
        CHECK(r->rcode() == static_cast<int>(rcode::refused));
        r = ask({.name = "acme.example.net", .type = rr_type::axfr}, transport::tcp);
        CHECK(r->rcode() == static_cast<int>(rcode::refused));
    }

    TEST_CASE_FIXTURE(fixture, "the question's letter case is echoed byte for byte (0x20)")
    {
        REQUIRE_FALSE(challenges.present("x1.acme.example.net", "v", std::chrono::seconds(5)));
        auto r = ask({.name = "x1.AcMe.eXaMpLe.NeT", .type = rr_type::txt});
        CHECK(r->qname == "x1.AcMe.eXaMpLe.NeT.");
        REQUIRE(r->answer.size() == 1);
        CHECK(r->answer[0].owner == "x1.AcMe.eXaMpLe.NeT.");
    }

    TEST_CASE_FIXTURE(fixture, "CNAMEs are answered and followed inside the zone")
    {
        auto r = ask({.name = "alias.acme.example.net", .type = rr_type::txt});
        REQUIRE(r->answer.size() == 2);
        CHECK(r->answer[0].type == rr_type::cname);
        CHECK(r->answer[1].type == rr_type::txt);
        CHECK(r->answer[1].owner == "static.acme.example.net.");

        r = ask({.name = "outside.acme.example.net", .type = rr_type::txt});
        REQUIRE(r->answer.size() == 1);
        CHECK(r->answer[0].data == "www.example.com.");
    }

    TEST_CASE_FIXTURE(fixture, "ANY gets one RRset (RFC 8482)")
    {
        auto r = ask({.name = "acme.example.net", .type = rr_type::any});
        CHECK(r->rcode() == 0);
        CHECK(r->answer.size() == 1);
    }

    TEST_CASE_FIXTURE(
        fixture, "EDNS0: OPT echoed, payload honoured, TC when the answer does not fit"
    )
    {
        auto r = ask({.name = "big.acme.example.net", .type = rr_type::txt}); // no EDNS: 512 bytes
        CHECK(r->flag(flag::tc));
        CHECK(r->answer.empty());
        CHECK(r->opt() == nullptr);

        r = ask({.name = "big.acme.example.net", .type = rr_type::txt, .edns_payload = 1232});
        CHECK_FALSE(r->flag(flag::tc));
        CHECK(r->answer.size() == 3);
        REQUIRE(r->opt() != nullptr);
        CHECK(r->opt()->klass == 1232);

        r = ask({.name = "big.acme.example.net", .type = rr_type::txt, .edns_payload = 600});
        CHECK(r->flag(flag::tc));
        CHECK(r->answer.empty());
        CHECK(r->opt() != nullptr);

        r = ask({.name = "big.acme.example.net", .type = rr_type::txt}, transport::tcp);
        CHECK_FALSE(r->flag(flag::tc));
        CHECK(r->answer.size() == 3);

        SUBCASE("the DO bit is copied (RFC 3225 3)")
        {
            r = ask(
                {.name = "acme.example.net",
                 .type = rr_type::soa,
                 .edns_payload = 1232,
                 .dnssec_ok = true}
            );
            REQUIRE(r->opt() != nullptr);
            CHECK((r->opt()->ttl & 0x8000U) != 0);
        }
    }

    TEST_CASE_FIXTURE(fixture, "EDNS versions other than 0 get BADVERS (RFC 6891 6.1.3)")
    {
        auto r = ask(
            {.name = "acme.example.net",
             .type = rr_type::soa,
             .edns_payload = 1232,
             .edns_version = 1}
        );
        REQUIRE(r->opt() != nullptr);
        CHECK(r->rcode() == 0);
        CHECK((r->opt()->ttl >> 24) == 1); // 16 >> 4
        CHECK(r->answer.empty());
    }

    TEST_CASE_FIXTURE(
        fixture, "other opcodes get NOTIMP, responses are ignored, malformed queries get FORMERR"
    )
    {
        auto r =
            ask({.name = "acme.example.net", .type = rr_type::soa, .flags = 5 << 11}); // UPDATE
        CHECK(r->rcode() == static_cast<int>(rcode::notimp));
        CHECK(((r->hdr.flags >> 11) & 0xF) == 5);

        CHECK_FALSE(ask({.name = "acme.example.net", .type = rr_type::soa, .flags = flag::qr}));

        auto q = make_query({.name = "acme.example.net", .type = rr_type::soa});
        SUBCASE("truncated question")
        {
            q.resize(q.size() - 3);
            r = ask(q);
            CHECK(r->rcode() == static_cast<int>(rcode::formerr));
            CHECK(r->hdr.id == 0x1234);
        }
        SUBCASE("two questions")
        {
            q[5] = 2;
            r = ask(q);
            CHECK(r->rcode() == static_cast<int>(rcode::formerr));
        }
        SUBCASE("counts larger than the message")
        {
            q[10] = 0xFF;
            q[11] = 0xFF;
            r = ask(q);
            CHECK(r->rcode() == static_cast<int>(rcode::formerr));
        }
        SUBCASE("trailing garbage")
        {
            q.push_back(0);
            r = ask(q);
            CHECK(r->rcode() == static_cast<int>(rcode::formerr));
        }
        SUBCASE("two OPT records")
        {
            auto with_opt =
                make_query({.name = "acme.example.net", .type = rr_type::soa, .edns_payload = 1232}
                );
            const std::vector<std::uint8_t> opt(with_opt.end() - 11, with_opt.end());
            with_opt.insert(with_opt.end(), opt.begin(), opt.end());
            with_opt[11] = 2;
            r = ask(with_opt);
            CHECK(r->rcode() == static_cast<int>(rcode::formerr));
        }
        SUBCASE("shorter than a header: dropped")
        {
            q.resize(11);
            CHECK_FALSE(ask(q));
        }
    }

    TEST_CASE_FIXTURE(fixture, "response_rcode reads the RCODE written, BADVERS from the OPT")
    {
        const auto rcode_of = [&](const query_spec& q) {
            const auto n = respond(
                make_query(q), out, zone_data{&zones, &challenges}, transport::udp,
                responder_options{}
            );
            REQUIRE(n != 0);
            return response_rcode(std::span{out.data(), n});
        };
        const std::optional<std::uint16_t> edns = 1232;
        CHECK(rcode_of({.name = "acme.example.net", .type = rr_type::soa}) == 0);
        CHECK(
            rcode_of({.name = "acme.example.net", .type = rr_type::ns, .edns_payload = edns}) == 0
        );
        CHECK(rcode_of({.name = "nothing.acme.example.net", .type = rr_type::a}) == 3);
        CHECK(rcode_of({.name = "www.example.com", .type = rr_type::a, .edns_payload = edns}) == 5);
        CHECK(rcode_of({.name = "acme.example.net", .type = rr_type::soa, .flags = 5 << 11}) == 4);
        CHECK(
            rcode_of(
                {.name = "acme.example.net",
                 .type = rr_type::soa,
                 .edns_payload = edns,
                 .edns_version = 1}
            ) == rcode_badvers
        );
        // Nothing but the OPT after the question, yet NOERROR: a NODATA of QCLASS ANY (no SOA)
        // and an empty truncated answer.
        CHECK(
            rcode_of(
                {.name = "static.acme.example.net",
                 .type = rr_type::a,
                 .qclass = 255,
                 .edns_payload = edns}
            ) == 0
        );
        CHECK(
            rcode_of({.name = "big.acme.example.net", .type = rr_type::txt, .edns_payload = 512}) ==
            0
        );
        auto malformed = make_query({.name = "acme.example.net", .type = rr_type::soa});
        malformed.push_back(0);
        const auto n = respond(
            malformed, out, zone_data{&zones, &challenges}, transport::udp, responder_options{}
        );
        CHECK(response_rcode(std::span{out.data(), n}) == 1);
        CHECK(response_rcode(std::span{out.data(), 11}) == 0); // shorter than a header
    }

    // Checked against NSD 4: QCLASS ANY gets the IN data, without AA, and negative answers
    // without the SOA; other classes stay REFUSED.
    TEST_CASE_FIXTURE(fixture, "QCLASS ANY is answered as IN, as NSD does")
    {
        constexpr std::uint16_t any = class_any;
        auto r =
            ask({.name = "big.acme.example.net", .type = rr_type::txt, .qclass = any},
                transport::tcp);
        CHECK(r->rcode() == 0);
        CHECK_FALSE(r->flag(flag::aa));
        CHECK(r->answer.size() == 3);
        CHECK(r->answer[0].klass == class_in);

        r = ask({.name = "acme.example.net", .type = rr_type::ns, .qclass = any});
        CHECK(r->rcode() == 0);
        REQUIRE(r->answer.size() == 1);
        CHECK(r->additional.size() == 2); // glue, as for IN

        r = ask({.name = "nothing.acme.example.net", .type = rr_type::txt, .qclass = any});
        CHECK(r->rcode() == static_cast<int>(rcode::nxdomain));
        CHECK_FALSE(r->flag(flag::aa));
        CHECK(r->authority.empty());

        r = ask({.name = "static.acme.example.net", .type = rr_type::a, .qclass = any});
        CHECK(r->rcode() == 0);
        CHECK(r->answer.empty());
        CHECK(r->authority.empty());

        r = ask({.name = "www.example.com", .type = rr_type::a, .qclass = any});
        CHECK(r->rcode() == static_cast<int>(rcode::refused));
    }

    TEST_CASE_FIXTURE(fixture, "response identity for rate limiting: name and type, zone, errors")
    {
        auto identity = [&](const query_spec& spec) {
            response_info info;
            const auto query = make_query(spec);
            REQUIRE(
                respond(query, out, zone_data{&zones, &challenges}, transport::udp, {}, &info) != 0
            );
            return info.identity;
        };
        const auto txt = identity({.name = "static.acme.example.net", .type = rr_type::txt});
        CHECK(txt == identity({.name = "STATIC.acme.example.net", .type = rr_type::txt}));
        CHECK(txt != identity({.name = "static.acme.example.net", .type = rr_type::a}));
        CHECK(txt != identity({.name = "big.acme.example.net", .type = rr_type::txt}));
        // Every NXDOMAIN of a zone counts together, so random names do not escape the limit.
        const auto nx = identity({.name = "r1.acme.example.net", .type = rr_type::txt});
        CHECK(nx == identity({.name = "r2.acme.example.net", .type = rr_type::a}));
        CHECK(nx != txt);
        // So do all errors.
        const auto refused = identity({.name = "www.example.com", .type = rr_type::a});
        CHECK(refused == identity({.name = "other.example.org", .type = rr_type::txt}));
        CHECK(refused != nx);
    }

    TEST_CASE_FIXTURE(fixture, "a truncated copy keeps the header, the question and the OPT")
    {
        for (const bool edns : {false, true}) {
            INFO("EDNS: ", edns);
            response_info info;
            const auto query = make_query(
                {.name = "Big.acme.example.net",
                 .type = rr_type::txt,
                 .edns_payload = edns ? std::optional<std::uint16_t>(1232) : std::nullopt}
            );
            const auto size =
                respond(query, out, zone_data{&zones, &challenges}, transport::tcp, {}, &info);
            REQUIRE(size > 600);
            const auto cut = truncate_response(out, size, info);
            CHECK(cut == query.size()); // the same bytes as the query: header, question, OPT
            const auto r = test::decode_response(std::span{out.data(), cut});
            REQUIRE(r);
            CHECK(r->flag(flag::tc));
            CHECK(r->flag(flag::aa));
            CHECK(r->hdr.id == 0x1234);
            CHECK(r->qname == "Big.acme.example.net.");
            CHECK(r->answer.empty());
            CHECK(r->authority.empty());
            CHECK((r->opt() != nullptr) == edns);
        }
    }
}
