#include "dns/message.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "dns/errc.hpp"

using namespace certfleet::dns;

namespace {
std::vector<std::uint8_t> bytes(std::initializer_list<int> list)
{
    std::vector<std::uint8_t> out;
    for (const int b : list) {
        out.push_back(static_cast<std::uint8_t>(b));
    }
    return out;
}
} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("reader decodes compressed names")
    {
        // "example.com" at 0, then "www" + pointer to 0.
        const auto msg = bytes(
            {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 3, 'w', 'w', 'w', 0xC0, 0}
        );
        reader r(msg);
        wire_name n;
        REQUIRE_FALSE(r.read_name(n));
        CHECK(n.view() == std::string("\7example\3com\0", 13));
        REQUIRE_FALSE(r.read_name(n));
        CHECK(n.view() == std::string("\3www\7example\3com\0", 17));
        CHECK(r.remaining() == 0);
    }

    TEST_CASE("reader rejects hostile names")
    {
        wire_name n;
        SUBCASE("a pointer to itself (a loop)")
        {
            const auto msg = bytes({0xC0, 0});
            reader r(msg);
            CHECK(r.read_name(n) == errc::bad_pointer);
        }
        SUBCASE("a pointer forwards")
        {
            const auto msg = bytes({0xC0, 2, 0});
            reader r(msg);
            CHECK(r.read_name(n) == errc::bad_pointer);
        }
        SUBCASE("two pointers that point at each other")
        {
            const auto msg = bytes({1, 'a', 0xC0, 4, 1, 'b', 0xC0, 0});
            reader r(msg);
            REQUIRE_FALSE(r.skip(4));
            CHECK(r.read_name(n) == errc::bad_pointer);
        }
        SUBCASE("a label running past the end")
        {
            const auto msg = bytes({5, 'a', 'b'});
            reader r(msg);
            CHECK(r.read_name(n) == errc::truncated);
        }
        SUBCASE("no terminating root label")
        {
            const auto msg = bytes({1, 'a'});
            reader r(msg);
            CHECK(r.read_name(n) == errc::truncated);
        }
        SUBCASE("obsolete label types 0x40 and 0x80")
        {
            const auto msg = bytes({0x41, 'a', 0});
            reader r(msg);
            CHECK(r.read_name(n) == errc::bad_label);
        }
        SUBCASE("a name longer than 255 bytes through pointers")
        {
            std::vector<std::uint8_t> msg;
            // 5 labels of 63 bytes = 320 bytes expanded.
            for (int i = 0; i < 5; ++i) {
                msg.push_back(63);
                msg.insert(msg.end(), 63, 'x');
            }
            msg.push_back(0);
            reader r(msg);
            CHECK(r.read_name(n) == errc::name_too_long);
        }
        SUBCASE("a pointer where none is allowed")
        {
            const auto msg = bytes({1, 'a', 0, 0xC0, 0});
            reader r(msg);
            REQUIRE_FALSE(r.skip(3));
            CHECK(r.read_uncompressed_name(n) == errc::bad_pointer);
        }
    }

    TEST_CASE("reader bounds every fixed-size read")
    {
        const auto msg = bytes({0, 1, 2});
        reader r(msg);
        header h;
        CHECK(r.read_header(h) == errc::truncated);
        std::uint32_t v = 0;
        CHECK(r.read_u32(v) == errc::truncated);
        record_view rec;
        const auto short_record = bytes({0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 9, 'a'});
        reader rr(short_record);
        CHECK(rr.read_record(rec) == errc::truncated);
    }

    TEST_CASE("writer compresses repeated names and never passes its limit")
    {
        std::vector<std::uint8_t> buf(512);
        writer w(buf, buf.size());
        w.write_header(header{});
        const std::string a("\3www\7Example\3com\0", 17);
        const std::string b("\4mail\7example\3com\0", 18);
        REQUIRE(w.write_name(a));
        const auto after_first = w.size();
        REQUIRE(w.write_name(b)); // "mail" + pointer to "Example.com" (case-insensitive)
        CHECK(w.size() - after_first == 5 + 2);
        REQUIRE(w.write_name(a)); // a pointer to the whole first name
        CHECK(w.size() - after_first == 7 + 2);

        reader r(w.bytes());
        REQUIRE_FALSE(r.skip(header_size));
        wire_name n;
        REQUIRE_FALSE(r.read_name(n));
        CHECK(n.view() == a);
        REQUIRE_FALSE(r.read_name(n));
        CHECK(n.lowered().view() == b);
        REQUIRE_FALSE(r.read_name(n));
        CHECK(n.view() == a);

        writer small(buf, 14);
        small.write_header(header{});
        CHECK_FALSE(small.write_name(a));
        CHECK_FALSE(small.write_u32(1));
        CHECK(small.write_u16(1));
        CHECK(small.size() == 14);
    }
}

TEST_SUITE("dns")
{
    TEST_CASE("writer never compresses a name against its own unwritten end")
    {
        // "a.b.a.b": the second "a.b" must not point at the first one before "a.b"'s root
        // label is written; the answer must not depend on the buffer's old contents.
        const std::string name("\1a\1b\1a\1b\0", 9);
        for (const std::uint8_t fill : {std::uint8_t{0x00}, std::uint8_t{0xFF}}) {
            std::vector<std::uint8_t> buf(64, fill);
            writer w(buf, buf.size());
            w.write_header(header{});
            REQUIRE(w.write_name(name));
            reader r(w.bytes());
            REQUIRE_FALSE(r.skip(header_size));
            wire_name n;
            REQUIRE_FALSE(r.read_name(n));
            CHECK(n.view() == name);
            CHECK(w.size() == header_size + name.size());
        }
    }
}
