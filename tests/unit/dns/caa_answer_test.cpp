#include "dns/caa_answer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dns/errc.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"

using namespace certfleet;
using namespace certfleet::dns;
using namespace std::string_literals;

namespace {

struct answer_rr
{
    std::string owner;
    rr_type type = rr_type::caa;
    std::string rdata; // CAA: raw RDATA; CNAME: the target in presentation form
};

std::string caa_rdata(std::uint8_t flags, const std::string& tag, const std::string& value)
{
    return std::string(1, static_cast<char>(flags)) +
           std::string(1, static_cast<char>(tag.size())) + tag + value;
}

// A resolver's response to `qname CAA`, names compressed as a server would.
std::vector<std::uint8_t> response(const std::string& qname, const std::vector<answer_rr>& answers)
{
    std::vector<std::uint8_t> buf(4096);
    writer w(buf, buf.size());
    w.write_header(header{
        0x1234, flag::qr | flag::rd | flag::ra, 1, static_cast<std::uint16_t>(answers.size()), 0, 0}
    );
    bool ok = w.write_name(name_from_text(qname).value()) &&
              w.write_u16(static_cast<std::uint16_t>(rr_type::caa)) && w.write_u16(class_in);
    for (const auto& a : answers) {
        ok = ok && w.write_name(name_from_text(a.owner).value()) &&
             w.write_u16(static_cast<std::uint16_t>(a.type)) && w.write_u16(class_in) &&
             w.write_u32(60);
        const auto length_at = w.size();
        ok = ok && w.write_u16(0);
        ok = ok && (a.type == rr_type::cname ? w.write_name(name_from_text(a.rdata).value())
                                             : w.write_bytes(a.rdata));
        w.patch_u16(length_at, static_cast<std::uint16_t>(w.size() - length_at - 2));
    }
    REQUIRE(ok);
    buf.resize(w.size());
    return buf;
}

std::string canonical(const std::string& name)
{
    return canonical_name(name).value();
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("caa answer: the records at the query name, fields as on the wire (RFC 8659 4.1)")
    {
        const auto message = response(
            "Example.com",
            {
                {"example.com", rr_type::caa, caa_rdata(0, "issue", "ca.example.net")},
                {"EXAMPLE.com", rr_type::caa, caa_rdata(128, "tbs", "Unknown")},
                {"example.com", rr_type::caa, caa_rdata(0, "iodef", "")},
                {"other.example.com", rr_type::caa, caa_rdata(0, "issue", "elsewhere")},
                {"example.com", rr_type::caa, caa_rdata(0, "issue", "\x01\xff\"x"s)},
            }
        );
        const auto r = read_caa_answer(message, canonical("example.com"));
        REQUIRE(r.has_value());
        CHECK(r->owner == canonical("example.com"));
        REQUIRE(r->records.size() == 4);
        CHECK(r->records[0].flags == 0);
        CHECK(r->records[0].tag == "issue");
        CHECK(r->records[0].value == "ca.example.net");
        CHECK(r->records[1].flags == 128);
        CHECK(r->records[1].tag == "tbs");
        CHECK(r->records[2].value.empty());
        CHECK(r->records[3].value == "\x01\xff\"x"s);
    }

    TEST_CASE("caa answer: an alias's records are its target's, through a CNAME chain (RFC 8659 3)")
    {
        const auto message = response(
            "www.example.com",
            {
                {"www.example.com", rr_type::cname, "cdn.example.net"},
                {"cdn.example.net", rr_type::cname, "edge.cdn.example.org"},
                {"edge.cdn.example.org", rr_type::caa, caa_rdata(0, "issue", "ca.example.org")},
                {"www.example.com", rr_type::caa, caa_rdata(0, "issue", "not-relevant")},
            }
        );
        const auto r = read_caa_answer(message, canonical("www.example.com"));
        REQUIRE(r.has_value());
        CHECK(r->owner == canonical("edge.cdn.example.org"));
        REQUIRE(r->records.size() == 1);
        CHECK(r->records[0].value == "ca.example.org");

        // An alias whose target has no CAA: no records (the climb goes on at the parent).
        const auto bare =
            response("www.example.com", {{"www.example.com", rr_type::cname, "x.test"}});
        const auto b = read_caa_answer(bare, canonical("www.example.com"));
        REQUIRE(b.has_value());
        CHECK(b->owner == canonical("x.test"));
        CHECK(b->records.empty());
    }

    TEST_CASE("caa answer: a CNAME loop ends without records")
    {
        const auto message = response(
            "a.example",
            {
                {"a.example", rr_type::cname, "b.example"},
                {"b.example", rr_type::cname, "a.example"},
            }
        );
        const auto r = read_caa_answer(message, canonical("a.example"));
        REQUIRE(r.has_value());
        CHECK(r->records.empty());
    }

    TEST_CASE("caa answer: malformed RDATA or messages are errors, read within bounds")
    {
        struct row
        {
            std::string name;
            std::string rdata;
        };
        const row rows[] = {
            {"empty", ""},
            {"flags only", "\x00"s},
            {"tag longer than the RDATA", "\x00\x05iss"s},
            {"tag length 255", "\x00\xff"s + "issue"},
        };
        for (const auto& r : rows) {
            CAPTURE(r.name);
            const auto message = response("example.com", {{"example.com", rr_type::caa, r.rdata}});
            const auto result = read_caa_answer(message, canonical("example.com"));
            REQUIRE_FALSE(result.has_value());
            CHECK(result.error() == errc::truncated);
        }
        // A tag that fills the RDATA leaves an empty value.
        const auto exact =
            response("example.com", {{"example.com", rr_type::caa, "\x00\x05issue"s}});
        const auto e = read_caa_answer(exact, canonical("example.com"));
        REQUIRE(e.has_value());
        REQUIRE(e->records.size() == 1);
        CHECK(e->records[0].value.empty());

        auto message = response(
            "example.com", {{"example.com", rr_type::caa, caa_rdata(0, "issue", "ca.example")}}
        );
        for (std::size_t size = 0; size < message.size(); ++size) {
            CAPTURE(size);
            const std::vector<std::uint8_t> cut(
                message.begin(), message.begin() + static_cast<std::ptrdiff_t>(size)
            );
            CHECK_FALSE(read_caa_answer(cut, canonical("example.com")).has_value());
        }
        CHECK(read_caa_answer(message, canonical("example.com")).has_value());
    }
}
