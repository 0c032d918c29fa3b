// The real `certfleet serve` binary checked with dig, kdig and raw sockets against DESIGN
// section 5: answers from its zone with AA, negative answers with the SOA, REFUSED outside,
// truncation and TCP, 0x20, NOTIMP, FORMERR, silence for responses and runts, BADVERS, several
// queries on one TCP connection, the TCP idle timeout, garbage, start-up errors and SIGTERM.

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <random>
#include <thread>

#include "support/dns_messages.hpp"
#include "support/rig.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_dig.hpp"
#include "support/rig_net.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
using dns::rr_type;

namespace {

constexpr std::string_view apex = "acme.delegated.test";
constexpr std::size_t mid_values = 3; // 3 × 200 bytes: more than 512, less than 1232
constexpr std::size_t big_values = 8; // 8 × 200 bytes: more than 1232

std::string long_value(char tag, std::size_t index)
{
    return std::string(1, tag) + std::to_string(index) + "-" + std::string(197, tag);
}

// A TOML string holding one record in master-file syntax, with its inner quotes escaped.
std::string txt_record(std::string_view owner, std::string_view value)
{
    return "\"" + std::string(owner) + " TXT \\\"" + std::string(value) + "\\\"\"";
}

// `dns_settings`: more keys of the [dns] table, one a line.
std::string zone_config(std::string_view dns_settings = "tcp_idle_timeout_ms = 2000\n")
{
    std::string records = "  " + txt_record("one", "hello world") + ",\n";
    for (const auto* v : {"v1", "v2", "v3"}) {
        records += "  " + txt_record("multi", v) + ",\n";
    }
    for (std::size_t i = 0; i < mid_values; ++i) {
        records += "  " + txt_record("mid", long_value('m', i)) + ",\n";
    }
    for (std::size_t i = 0; i < big_values; ++i) {
        records += "  " + txt_record("big", long_value('b', i)) + ",\n";
    }
    records += "  " + txt_record("deep.sub", "below an empty non-terminal") + ",\n";
    records += "  \"host A 192.0.2.10\",\n";
    return "[dns]\n"
           "listen = [\"127.0.0.1:{port}\"]\n" +
           std::string(dns_settings) +
           "\n"
           "[[dns.zone]]\n"
           "apex = \"acme.delegated.test\"\n"
           "ttl = 300\n"
           "soa = { mname = \"ns1\", rname = \"hostmaster.acme.delegated.test.\", serial = 7, "
           "minimum = 5 }\n"
           "ns = [ { name = \"ns1\", addresses = [\"127.0.0.1\"] } ]\n"
           "records = [\n" +
           records + "]\n";
}

struct served_zone
{
    temp_dir dir{"certfleet-conformance"};
    certfleet_process server;

    served_zone() : served_zone(zone_config()) {}
    explicit served_zone(std::string config)
        : server(dir, {.config = std::move(config), .ready_name = std::string(apex)})
    {}

    dig_output ask(dig_tool tool, const std::vector<std::string>& args) const
    {
        auto out = run_dig(tool, server.port(), args);
        INFO(join_command(args), "\n", out.process.out, out.process.err);
        REQUIRE(out.parsed);
        return out;
    }

    [[nodiscard]] std::optional<std::vector<std::uint8_t>>
    raw_udp(std::span<const std::uint8_t> query) const
    {
        udp_client client(server.port());
        return client.exchange(query, 1s);
    }
};

std::string name(std::string_view label)
{
    return std::string(label) + "." + std::string(apex);
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

constexpr std::array<dig_tool, 2> tools{dig_tool::dig, dig_tool::kdig};

std::uint16_t id_of(std::span<const std::uint8_t> m)
{
    return static_cast<std::uint16_t>((m[0] << 8) | m[1]);
}

std::uint16_t flags_of(std::span<const std::uint8_t> m)
{
    return static_cast<std::uint16_t>((m[2] << 8) | m[3]);
}

void set_u16(std::vector<std::uint8_t>& m, std::size_t at, std::uint16_t v)
{
    m[at] = static_cast<std::uint8_t>(v >> 8);
    m[at + 1] = static_cast<std::uint8_t>(v);
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("certfleet serve: SOA, NS with glue, TXT and A with AA, seen by dig and kdig")
    {
        served_zone zone;
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            auto r = zone.ask(tool, {"+norec", "SOA", std::string(apex)});
            CHECK(r.status == "NOERROR");
            CHECK(r.flag("qr"));
            CHECK(r.flag("aa"));
            CHECK_FALSE(r.flag("ra"));
            CHECK_FALSE(r.flag("tc"));
            REQUIRE(r.answer.size() == 1);
            CHECK(r.answer[0].type == "SOA");
            CHECK(r.answer[0].ttl == 300);
            CHECK(
                r.answer[0].data ==
                "ns1.acme.delegated.test. hostmaster.acme.delegated.test. 7 3600 600 1209600 5"
            );

            r = zone.ask(tool, {"+norec", "NS", std::string(apex)});
            CHECK(r.status == "NOERROR");
            REQUIRE(r.answer.size() == 1);
            CHECK(r.answer[0].data == "ns1.acme.delegated.test.");
            REQUIRE(r.additional.size() == 1); // the glue (the OPT is shown apart)
            CHECK(r.additional[0].owner == "ns1.acme.delegated.test.");
            CHECK(r.additional[0].type == "A");
            CHECK(r.additional[0].data == "127.0.0.1");

            r = zone.ask(tool, {"+norec", "TXT", name("one")});
            CHECK(r.status == "NOERROR");
            CHECK(r.flag("aa"));
            CHECK(r.txt_answers() == std::vector<std::string>{"hello world"});
            CHECK(r.answer.at(0).ttl == 300);

            r = zone.ask(tool, {"+norec", "TXT", name("multi")});
            CHECK(sorted(r.txt_answers()) == std::vector<std::string>{"v1", "v2", "v3"});

            r = zone.ask(tool, {"+norec", "A", name("host")});
            REQUIRE(r.answers("A").size() == 1);
            CHECK(r.answers("A")[0].data == "192.0.2.10");

            // RFC 8482 4.1: ANY gets one RRset, not everything at the name.
            r = zone.ask(tool, {"+norec", "ANY", std::string(apex)});
            CHECK(r.status == "NOERROR");
            REQUIRE_FALSE(r.answer.empty());
            CHECK(std::all_of(r.answer.begin(), r.answer.end(), [&](const dig_record& x) {
                return x.type == r.answer[0].type;
            }));
        }
    }

    TEST_CASE("certfleet serve: NXDOMAIN and NODATA carry the SOA with the negative TTL (RFC 2308)")
    {
        served_zone zone;
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            auto check_negative = [](const dig_output& r, std::string_view status) {
                INFO(r.process.out);
                CHECK(r.status == status);
                CHECK(r.flag("aa"));
                CHECK(r.answer.empty());
                REQUIRE(r.authority.size() == 1);
                CHECK(r.authority[0].type == "SOA");
                CHECK(r.authority[0].owner == "acme.delegated.test.");
                CHECK(r.authority[0].ttl == 5); // min(SOA TTL 300, MINIMUM 5), RFC 2308 5
            };
            check_negative(zone.ask(tool, {"+norec", "TXT", name("nope")}), "NXDOMAIN");
            check_negative(zone.ask(tool, {"+norec", "TXT", name("below.one")}), "NXDOMAIN");
            // NODATA: the name exists with other types, or is an empty non-terminal (RFC 8020).
            check_negative(zone.ask(tool, {"+norec", "A", name("one")}), "NOERROR");
            check_negative(zone.ask(tool, {"+norec", "TXT", name("sub")}), "NOERROR");
            check_negative(zone.ask(tool, {"+norec", "AAAA", std::string(apex)}), "NOERROR");
        }
    }

    TEST_CASE("certfleet serve: REFUSED outside its zones")
    {
        served_zone zone;
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            for (const std::string outside :
                 {"example.com", "delegated.test", "xacme.delegated.test"}) {
                INFO("name: ", outside);
                const auto r = zone.ask(tool, {"+norec", "A", outside});
                CHECK(r.status == "REFUSED");
                CHECK_FALSE(r.flag("aa"));
                CHECK(r.answer.empty());
                CHECK(r.authority.empty());
            }
            // Another class: REFUSED too (the zone is IN only).
            const auto r = zone.ask(tool, {"+norec", "-c", "CH", "TXT", std::string(apex)});
            CHECK(r.status == "REFUSED");
        }
        // Zone transfers are not offered.
        tcp_client tcp(zone.server.port());
        tcp.send_message(
            make_query({.name = std::string(apex), .type = rr_type::axfr, .id = 0x0AF0, .flags = 0})
        );
        const auto axfr = tcp.receive_message(2s);
        REQUIRE(axfr);
        const auto decoded = decode_response(*axfr);
        REQUIRE(decoded);
        CHECK(decoded->hdr.id == 0x0AF0);
        CHECK(decoded->rcode() == static_cast<int>(dns::rcode::refused));
    }

    TEST_CASE("certfleet serve: TC past the client's UDP payload size, every record over TCP (RFC "
              "6891, RFC 7766)")
    {
        served_zone zone;
        const auto mid = name("mid");
        const auto big = name("big");
        auto check_truncated = [](const dig_output& r) {
            INFO(r.process.out);
            CHECK(r.status == "NOERROR");
            CHECK(r.flag("tc"));
            CHECK(r.flag("aa"));
            CHECK(r.answer.empty());
        };
        auto check_all = [](const dig_output& r, std::size_t count, char tag) {
            INFO(r.process.out);
            CHECK(r.status == "NOERROR");
            CHECK_FALSE(r.flag("tc"));
            std::vector<std::string> expected;
            for (std::size_t i = 0; i < count; ++i) {
                expected.push_back(long_value(tag, i));
            }
            CHECK(sorted(r.txt_answers()) == expected);
        };

        SUBCASE("dig")
        {
            auto r = zone.ask(dig_tool::dig, {"+norec", "+ignore", "+bufsize=512", "TXT", mid});
            check_truncated(r);
            CHECK(r.edns_udp_size == 1232); // our payload size, advertised in every EDNS answer
            r = zone.ask(dig_tool::dig, {"+norec", "+ignore", "+noedns", "TXT", mid});
            check_truncated(r);
            CHECK_FALSE(r.edns_version); // no OPT to a query without one
            check_all(zone.ask(dig_tool::dig, {"+norec", "+ignore", "TXT", mid}), mid_values, 'm');

            check_truncated(zone.ask(dig_tool::dig, {"+norec", "+ignore", "TXT", big}));
            // Past our own limit (dns.max_udp_payload, 1232) whatever the client offers.
            r = zone.ask(dig_tool::dig, {"+norec", "+ignore", "+bufsize=4096", "TXT", big});
            check_truncated(r);
            CHECK(r.edns_udp_size == 1232);
            check_all(zone.ask(dig_tool::dig, {"+norec", "+tcp", "TXT", big}), big_values, 'b');
            // Without +ignore dig retries over TCP by itself and gets everything.
            r = zone.ask(dig_tool::dig, {"+norec", "TXT", big});
            CHECK(r.process.out.find("Truncated, retrying in TCP mode") != std::string::npos);
            check_all(r, big_values, 'b');
        }
        SUBCASE("kdig")
        {
            // kdig sends no EDNS unless asked: 512 bytes.
            check_truncated(zone.ask(dig_tool::kdig, {"+norec", "+ignore", "TXT", mid}));
            check_all(
                zone.ask(dig_tool::kdig, {"+norec", "+ignore", "+bufsize=1232", "TXT", mid}),
                mid_values, 'm'
            );
            check_truncated(
                zone.ask(dig_tool::kdig, {"+norec", "+ignore", "+bufsize=1232", "TXT", big})
            );
            check_truncated(
                zone.ask(dig_tool::kdig, {"+norec", "+ignore", "+bufsize=4096", "TXT", big})
            );
            check_all(zone.ask(dig_tool::kdig, {"+norec", "+tcp", "TXT", big}), big_values, 'b');
            check_all(zone.ask(dig_tool::kdig, {"+norec", "TXT", big}), big_values, 'b');
        }
    }

    TEST_CASE("certfleet serve: the question's letter case is echoed (0x20)")
    {
        served_zone zone;
        // kdig sends names in lower case: dig and a raw socket only.
        auto r = zone.ask(dig_tool::dig, {"+norec", "SOA", "AcMe.DeLeGaTeD.TeSt"});
        CHECK(r.status == "NOERROR");
        REQUIRE(r.question.size() == 1);
        CHECK(r.question[0].name == "AcMe.DeLeGaTeD.TeSt.");
        REQUIRE(r.answer.size() == 1);
        CHECK(r.answer[0].owner == "AcMe.DeLeGaTeD.TeSt.");

        r = zone.ask(dig_tool::dig, {"+norec", "TXT", "mUlTi.AcMe.DeLeGaTeD.TeSt"});
        REQUIRE(r.answer.size() == 3);
        for (const auto& rec : r.answer) {
            CHECK(rec.owner == "mUlTi.AcMe.DeLeGaTeD.TeSt.");
        }

        const auto query =
            make_query({.name = "OnE.aCmE.dElEgAtEd.TeSt", .type = rr_type::txt, .id = 0x2020});
        const auto answer = zone.raw_udp(query);
        REQUIRE(answer);
        const auto decoded = decode_response(*answer);
        REQUIRE(decoded);
        CHECK(decoded->qname == "OnE.aCmE.dElEgAtEd.TeSt.");
        REQUIRE(decoded->answer.size() == 1);
        CHECK(decoded->answer[0].owner == "OnE.aCmE.dElEgAtEd.TeSt.");
        // The question's bytes come back unchanged.
        REQUIRE(answer->size() >= query.size());
        CHECK(std::equal(query.begin() + 12, query.end(), answer->begin() + 12));
    }

    TEST_CASE("certfleet serve: NOTIMP for opcodes other than QUERY")
    {
        served_zone zone;
        auto r = zone.ask(dig_tool::dig, {"+norec", "+opcode=notify", "SOA", std::string(apex)});
        CHECK(r.opcode == "NOTIFY");
        CHECK(r.status == "NOTIMP");
        CHECK(r.flag("qr"));
        r = zone.ask(dig_tool::kdig, {"+norec", "NOTIFY", std::string(apex)});
        CHECK(r.opcode == "NOTIFY");
        CHECK(r.status == "NOTIMPL"); // kdig's spelling of NOTIMP

        for (const int opcode : {1, 2, 4, 5, 15}) {
            INFO("opcode ", opcode);
            auto query =
                make_query({.name = std::string(apex), .type = rr_type::soa, .id = 0x4242});
            set_u16(query, 2, static_cast<std::uint16_t>(opcode << 11));
            const auto answer = zone.raw_udp(query);
            REQUIRE(answer);
            REQUIRE(answer->size() >= dns::header_size);
            CHECK(id_of(*answer) == 0x4242);
            CHECK((flags_of(*answer) & dns::flag::qr) != 0);
            CHECK(((flags_of(*answer) & dns::flag::opcode_mask) >> 11) == opcode);
            CHECK(
                (flags_of(*answer) & dns::flag::rcode_mask) == static_cast<int>(dns::rcode::notimp)
            );
        }
    }

    TEST_CASE("certfleet serve: a NOTIMP answer to an EDNS query carries an OPT record (RFC 6891 7)"
    )
    {
        // "If an OPT record is present in a received request, compliant responders MUST include
        // an OPT record in their respective responses." Without it, dig warns "EDNS query
        // returned status NOTIMP - retry with '+noedns'": the client takes EDNS as the problem.
        served_zone zone;
        const auto r =
            zone.ask(dig_tool::dig, {"+norec", "+opcode=notify", "SOA", std::string(apex)});
        CHECK(r.status == "NOTIMP");
        CHECK(r.edns_version == 0);
        CHECK(r.process.out.find("retry with '+noedns'") == std::string::npos);
    }

    TEST_CASE("certfleet serve: FORMERR for malformed queries, with their ID")
    {
        served_zone zone;
        const auto base =
            make_query({.name = name("one"), .type = rr_type::txt, .id = 0x0F0F, .flags = 0});
        const auto with_opt = make_query(
            {.name = name("one"),
             .type = rr_type::txt,
             .id = 0x0F0F,
             .flags = 0,
             .edns_payload = 1232}
        );
        const std::size_t question_end = base.size(); // header, name, type, class
        const std::vector<std::uint8_t> opt{0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};

        struct malformed
        {
            std::string what;
            std::vector<std::uint8_t> bytes;
        };
        std::vector<malformed> cases;
        {
            auto m = base;
            set_u16(m, 4, 2);
            cases.push_back({"QDCOUNT 2 with one question", m});
            m.insert(m.end(), base.begin() + 12, base.end());
            cases.push_back({"two questions", m});
        }
        {
            auto m = base;
            set_u16(m, 4, 0);
            m.resize(dns::header_size);
            cases.push_back({"no question", m});
        }
        {
            auto m = base;
            m.resize(dns::header_size + 6);
            cases.push_back({"question cut inside the name", m});
        }
        {
            auto m = base;
            m.resize(question_end - 3);
            cases.push_back({"question cut inside type and class", m});
        }
        {
            auto m = base;
            m[dns::header_size] = 0x43; // label type 0x40
            cases.push_back({"obsolete label type", m});
        }
        {
            auto m = base;
            m.resize(dns::header_size);
            const std::vector<std::uint8_t> pointer_name{3, 'o', 'n', 'e', 0xC0, 12, 0, 16, 0, 1};
            m.insert(m.end(), pointer_name.begin(), pointer_name.end());
            cases.push_back({"compression pointer in the question", m});
        }
        {
            auto m = base;
            m.push_back(0xAB);
            cases.push_back({"a byte after the question", m});
        }
        {
            auto m = base;
            set_u16(m, 10, 3);
            cases.push_back({"ARCOUNT 3 and no records", m});
        }
        {
            auto m = base;
            set_u16(m, 6, 1);
            m.insert(m.end(), opt.begin(), opt.end());
            cases.push_back({"OPT in the answer section", m});
        }
        {
            auto m = with_opt;
            set_u16(m, 10, 2);
            m.insert(m.end(), opt.begin(), opt.end());
            cases.push_back({"two OPT records", m});
        }
        {
            auto m = base;
            set_u16(m, 10, 1);
            const std::vector<std::uint8_t> owned{1, 'x', 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
            m.insert(m.end(), owned.begin(), owned.end());
            cases.push_back({"OPT not owned by the root", m});
        }
        {
            auto m = with_opt;
            m.back() = 8; // RDLENGTH 8, no RDATA
            cases.push_back({"OPT RDATA past the end", m});
        }

        for (const auto& c : cases) {
            INFO("malformed: ", c.what);
            const auto answer = zone.raw_udp(c.bytes);
            REQUIRE(answer);
            REQUIRE(answer->size() >= dns::header_size);
            CHECK(id_of(*answer) == 0x0F0F);
            CHECK((flags_of(*answer) & dns::flag::qr) != 0);
            CHECK(
                (flags_of(*answer) & dns::flag::rcode_mask) == static_cast<int>(dns::rcode::formerr)
            );
        }
        // The same over TCP.
        tcp_client tcp(zone.server.port());
        tcp.send_message(cases.front().bytes);
        const auto answer = tcp.receive_message(2s);
        REQUIRE(answer);
        CHECK(id_of(*answer) == 0x0F0F);
        CHECK((flags_of(*answer) & dns::flag::rcode_mask) == static_cast<int>(dns::rcode::formerr));
    }

    TEST_CASE(
        "certfleet serve: no answer to responses (QR set) or to messages shorter than a header"
    )
    {
        served_zone zone;
        udp_client client(zone.server.port());
        auto response = make_query({.name = name("one"), .type = rr_type::txt, .id = 0x1111});
        set_u16(response, 2, static_cast<std::uint16_t>(dns::flag::qr | dns::flag::aa));
        client.send(response);
        const auto valid = make_query({.name = name("one"), .type = rr_type::txt, .id = 0x2222});
        client.send(std::span{valid.data(), dns::header_size - 1});
        client.send(std::span{valid.data(), 2});
        client.send(std::span<const std::uint8_t>{});
        client.send(valid);
        // Datagrams on loopback are answered in order: the first answer must be the last query's.
        const auto first = client.receive(2s);
        REQUIRE(first);
        CHECK(id_of(*first) == 0x2222);
        CHECK_FALSE(client.receive(300ms));

        // Over TCP: the connection stays usable after the ignored messages.
        tcp_client tcp(zone.server.port());
        tcp.send_message(response);
        tcp.send_message(std::span{valid.data(), 5});
        tcp.send_message(valid);
        const auto over_tcp = tcp.receive_message(2s);
        REQUIRE(over_tcp);
        CHECK(id_of(*over_tcp) == 0x2222);
    }

    TEST_CASE("certfleet serve: EDNS version 1 gets BADVERS (RFC 6891 6.1.3)")
    {
        served_zone zone;
        auto r =
            zone.ask(dig_tool::dig, {"+norec", "+edns=1", "+noednsneg", "SOA", std::string(apex)});
        CHECK(r.status == "BADVERS");
        CHECK(r.edns_version == 0); // the version we speak
        CHECK(r.answer.empty());
        r = zone.ask(dig_tool::kdig, {"+norec", "+edns=1", "SOA", std::string(apex)});
        CHECK(r.status == "BADVERS");
        CHECK(r.edns_version == 0);
        // dig by itself falls back to version 0 and gets its answer.
        r = zone.ask(dig_tool::dig, {"+norec", "+edns=1", "SOA", std::string(apex)});
        CHECK(r.status == "NOERROR");
        CHECK(r.answer.size() == 1);

        const auto answer = udp_query(
            zone.server.port(), {.name = std::string(apex),
                                 .type = rr_type::soa,
                                 .id = 0xED01,
                                 .edns_payload = 1232,
                                 .edns_version = 1}
        );
        REQUIRE(answer);
        CHECK(answer->hdr.id == 0xED01);
        CHECK(answer->rcode() == 0); // the low 4 bits of BADVERS (16)
        const auto* opt = answer->opt();
        REQUIRE(opt != nullptr);
        CHECK((opt->ttl >> 24) == 1);          // the high 8 bits of BADVERS
        CHECK(((opt->ttl >> 16) & 0xFF) == 0); // version 0
        CHECK(answer->answer.empty());
    }

    TEST_CASE(
        "certfleet serve: several queries on one TCP connection are all answered (RFC 7766 6.2.1)"
    )
    {
        served_zone zone;
        tcp_client tcp(zone.server.port());
        // Three queries in one write, back to back.
        std::vector<std::uint8_t> burst;
        const std::array<std::pair<std::string, std::uint16_t>, 3> queries{{
            {name("one"), 1},
            {name("big"), 2},
            {name("nope"), 3},
        }};
        for (const auto& [qname, id] : queries) {
            const auto q = make_query({.name = qname, .type = rr_type::txt, .id = id});
            burst.push_back(static_cast<std::uint8_t>(q.size() >> 8));
            burst.push_back(static_cast<std::uint8_t>(q.size()));
            burst.insert(burst.end(), q.begin(), q.end());
        }
        tcp.send_raw(burst);
        std::vector<test::decoded_response> answers;
        for (std::size_t i = 0; i < queries.size(); ++i) {
            const auto m = tcp.receive_message(2s);
            REQUIRE(m);
            auto decoded = decode_response(*m);
            REQUIRE(decoded);
            answers.push_back(*decoded);
        }
        std::sort(answers.begin(), answers.end(), [](const auto& a, const auto& b) {
            return a.hdr.id < b.hdr.id;
        });
        CHECK(answers[0].hdr.id == 1);
        CHECK(answers[0].answer.size() == 1);
        CHECK(answers[1].hdr.id == 2);
        CHECK(answers[1].answer.size() == big_values); // no TC over TCP
        CHECK_FALSE(answers[1].flag(dns::flag::tc));
        CHECK(answers[2].hdr.id == 3);
        CHECK(answers[2].rcode() == static_cast<int>(dns::rcode::nxdomain));

        // A query split across writes, on the same connection.
        const auto q = make_query({.name = name("multi"), .type = rr_type::txt, .id = 4});
        const std::vector<std::uint8_t> length{
            static_cast<std::uint8_t>(q.size() >> 8), static_cast<std::uint8_t>(q.size())};
        tcp.send_raw(length);
        tcp.send_raw(std::span{q.data(), 5});
        std::this_thread::sleep_for(20ms); // let the server see a partial message
        tcp.send_raw(std::span{q.data() + 5, q.size() - 5});
        const auto m = tcp.receive_message(2s);
        REQUIRE(m);
        const auto decoded = decode_response(*m);
        REQUIRE(decoded);
        CHECK(decoded->hdr.id == 4);
        CHECK(decoded->answer.size() == 3);
    }

    TEST_CASE("certfleet serve: an idle TCP connection is closed after tcp_idle_timeout_ms (RFC "
              "7766 6.2.3)")
    {
        served_zone zone(zone_config("tcp_idle_timeout_ms = 300\n"));
        using clock = std::chrono::steady_clock;
        auto closes_after = [](tcp_client& tcp) {
            const auto start = clock::now();
            const bool closed = tcp.wait_closed(3s);
            CHECK(closed);
            return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
        };
        SUBCASE("nothing sent")
        {
            tcp_client tcp(zone.server.port());
            const auto waited = closes_after(tcp);
            CHECK(waited >= 250ms);
            CHECK(waited < 2000ms);
        }
        SUBCASE("after an answer")
        {
            tcp_client tcp(zone.server.port());
            tcp.send_message(make_query({.name = name("one"), .type = rr_type::txt}));
            REQUIRE(tcp.receive_message(2s));
            const auto waited = closes_after(tcp);
            CHECK(waited >= 250ms);
            CHECK(waited < 2000ms);
        }
        SUBCASE("a message that never completes")
        {
            tcp_client tcp(zone.server.port());
            const std::vector<std::uint8_t> partial{0, 40, 0x12, 0x34};
            tcp.send_raw(partial);
            const auto waited = closes_after(tcp);
            CHECK(waited < 2000ms);
        }
        // The server still takes new connections.
        const auto r = run_dig(
            dig_tool::dig, zone.server.port(), {"+norec", "+tcp", "SOA", std::string(apex)}
        );
        CHECK(r.status == "NOERROR");
    }

    TEST_CASE("certfleet serve: TCP connections past max_tcp_connections are closed at once")
    {
        served_zone zone(zone_config("max_tcp_connections = 2\ntcp_idle_timeout_ms = 5000\n"));
        const auto query = make_query({.name = name("one"), .type = rr_type::txt});
        auto answered = [&](tcp_client& tcp) {
            tcp.send_message(query);
            return tcp.receive_message(2s).has_value();
        };
        auto first = std::make_unique<tcp_client>(zone.server.port());
        tcp_client second(zone.server.port());
        CHECK(answered(*first));
        CHECK(answered(second));
        {
            tcp_client third(zone.server.port()); // the kernel accepts; the server closes it
            CHECK(third.wait_closed(2s));
        }
        // The two admitted connections still work; once one goes, there is room again (as soon
        // as the server has seen it close).
        CHECK(answered(second));
        first.reset();
        bool admitted = false;
        for (int attempt = 0; attempt < 40 && !admitted; ++attempt) {
            try {
                tcp_client next(zone.server.port());
                admitted = answered(next);
            } catch (const rig_error&) { // closed under our feet: not admitted yet
            }
            if (!admitted) {
                std::this_thread::sleep_for(25ms);
            }
        }
        CHECK(admitted);
        CHECK(answered(second));
    }

    TEST_CASE("certfleet serve: a burst of garbage neither crashes nor stalls the server")
    {
        served_zone zone;
        const std::uint32_t seed = std::random_device{}();
        INFO("seed ", seed);
        std::mt19937 random(seed);
        auto byte = [&] { return static_cast<std::uint8_t>(random() & 0xFF); };
        const std::vector<std::vector<std::uint8_t>> valid{
            make_query({.name = name("big"), .type = rr_type::txt}),
            make_query({.name = name("multi"), .type = rr_type::any, .edns_payload = 4096}),
            make_query({.name = std::string(apex), .type = rr_type::ns, .edns_payload = 512}),
        };
        {
            udp_client client(zone.server.port());
            for (int i = 0; i < 4000; ++i) {
                std::vector<std::uint8_t> m;
                if (i % 2 == 0) {
                    m.resize(random() % 600);
                    std::generate(m.begin(), m.end(), byte);
                } else {
                    // A valid query with a few bytes changed, cut or added: deeper into the parser.
                    m = valid[random() % valid.size()];
                    for (unsigned k = 0, edits = 1 + random() % 4; k < edits; ++k) {
                        const auto kind = random() % 3;
                        if (kind == 0 && !m.empty()) {
                            m[random() % m.size()] = byte();
                        } else if (kind == 1 && !m.empty()) {
                            m.resize(random() % m.size());
                        } else {
                            m.push_back(byte());
                        }
                    }
                }
                client.send(m);
                if (i % 64 == 0) {
                    // Drain our receive buffer now and then, and let the server keep up.
                    while (client.receive(0ms)) {
                    }
                }
            }
        }
        for (int c = 0; c < 20; ++c) {
            tcp_client tcp(zone.server.port());
            std::vector<std::uint8_t> m(1 + random() % 300);
            std::generate(m.begin(), m.end(), byte);
            tcp.send_raw(m);
        }
        CHECK(zone.server.process().running());
        const auto r =
            run_dig(dig_tool::dig, zone.server.port(), {"+norec", "SOA", std::string(apex)});
        CHECK(r.status == "NOERROR");
        const auto t =
            run_dig(dig_tool::dig, zone.server.port(), {"+norec", "+tcp", "TXT", name("multi")});
        CHECK(t.txt_answers().size() == 3);
        CHECK(zone.server.process().running());
    }

    TEST_CASE("certfleet serve: a configuration error exits 2 with a message naming the key")
    {
        temp_dir dir("certfleet-config-error");
        const std::string zone_head =
            "[dns]\nlisten = [\"127.0.0.1:53535\"]\n[[dns.zone]]\napex = \"acme.delegated.test\"\n";
        const std::string soa =
            "soa = { mname = \"ns1\", rname = \"hostmaster.acme.delegated.test.\" }\n";
        const std::string ns = "ns = [ { name = \"ns1\", addresses = [\"127.0.0.1\"] } ]\n";
        struct bad_config
        {
            std::string what;
            std::string toml;
            std::string key;
        };
        const std::vector<bad_config> cases{
            {"a zone without ns", zone_head + soa, "dns.zone[0].ns"},
            {"a zone without soa", zone_head + ns, "dns.zone[0].soa"},
            {"a bad listen address",
             "[dns]\nlisten = [\"not-an-address\"]\n[[dns.zone]]\napex = \"a.test\"\n",
             "dns.listen"},
            {"a bad record", zone_head + soa + ns + "records = [ \"www A 999.1.1.1\" ]\n",
             "dns.zone[0].records[0]"},
            {"max_udp_payload out of range",
             "[dns]\nlisten = [\"127.0.0.1:53535\"]\nmax_udp_payload = 100\n" +
                 zone_head.substr(zone_head.find("[[")) + soa + ns,
             "dns.max_udp_payload"},
        };
        for (const auto& c : cases) {
            INFO("config: ", c.what);
            const auto file = dir.write("bad.toml", c.toml);
            const auto r = run_certfleet({"serve", "--config", file.string()}, {.timeout = 10s});
            INFO(r.err);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find(c.key) != std::string::npos);
            CHECK(r.err.find("configuration error") != std::string::npos);
        }
    }

    TEST_CASE("certfleet serve: a port already taken exits 1 with a clear message")
    {
        temp_dir dir("certfleet-port-taken");
        for (const bool tcp : {false, true}) {
            INFO(std::string(tcp ? "TCP" : "UDP"), " port taken");
            const auto port = free_port();
            const auto holder = occupy_port(port, tcp);
            const auto file = dir.write("taken.toml", with_port(zone_config(), port));
            const auto r = run_certfleet({"serve", "--config", file.string()}, {.timeout = 10s});
            INFO(r.err);
            CHECK(r.exit_code == 1);
            CHECK(r.err.find("cannot listen") != std::string::npos);
            CHECK(r.err.find("already in use") != std::string::npos);
        }
    }

    TEST_CASE("certfleet serve: a port another certfleet serves on several threads is taken too")
    {
        // Its threads share the port (SO_REUSEPORT), which the kernel would let a second
        // server of the same user join, splitting the queries between the two.
        const auto config = zone_config("tcp_idle_timeout_ms = 2000\nthreads = 2\n");
        served_zone first(config);
        temp_dir dir("certfleet-port-shared");
        const auto file = dir.write("second.toml", with_port(config, first.server.port()));
        const auto r = run_certfleet({"serve", "--config", file.string()}, {.timeout = 10s});
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("already in use") != std::string::npos);
    }

    TEST_CASE("certfleet serve: SIGTERM and SIGINT stop it cleanly with exit 0")
    {
        for (const int sig : {SIGTERM, SIGINT}) {
            INFO("signal ", sig);
            served_zone zone;
            REQUIRE(udp_query(zone.server.port(), {.name = std::string(apex), .type = rr_type::soa})
            );
            zone.server.process().signal(sig);
            const auto status = zone.server.process().wait(5s);
            REQUIRE(status);
            CHECK(*status == 0);
            const auto log = zone.server.process().log();
            CHECK(log.find("shutting down") != std::string::npos);
            CHECK(log.find("stopped after") != std::string::npos);
        }
    }
}
