// libFuzzer target: the DNS message reader (RFC 1035 4.1) on arbitrary bytes, queries and
// responses alike. Reads the header, every question, every record and the names inside rdata;
// it must never crash, read out of bounds or loop. Each name decoded is also checked against
// the codec's own invariants: at most 255 bytes, labels of 1..63 bytes, a presentation round
// trip (name_to_text → name_from_text) that gives the same bytes, and a writer round trip
// (write_name with compression → read_name) that gives the same name, case-insensitively.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "dns/message.hpp"
#include "dns/name.hpp"

using namespace certfleet::dns;

namespace {

[[noreturn]] void violated(const char* what)
{
    std::fprintf(stderr, "dns_message_fuzz: invariant violated: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what)
{
    if (!ok) {
        violated(what);
    }
}

bool equal_nocase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto x = static_cast<unsigned char>(a[i]);
        auto y = static_cast<unsigned char>(b[i]);
        x = (x >= 'A' && x <= 'Z') ? static_cast<unsigned char>(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? static_cast<unsigned char>(y + 32) : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

// A writer that collects the names decoded from one message, compressing them against each
// other the way a response does.
struct name_echo
{
    std::array<std::uint8_t, 4096> buffer{};
    writer out{buffer, buffer.size()};
    std::array<std::size_t, 64> offsets{};
    std::array<wire_name, 64> names{};
    std::size_t count = 0;

    name_echo() { out.write_header(header{}); }

    void add(const wire_name& name)
    {
        if (count == offsets.size()) {
            return;
        }
        const std::size_t at = out.size();
        const auto mark = out.mark();
        if (!out.write_name(name.view())) {
            out.rollback(mark);
            return;
        }
        offsets[count] = at;
        names[count] = name;
        ++count;
    }

    void verify() const
    {
        const reader r(out.bytes());
        for (std::size_t i = 0; i < count; ++i) {
            wire_name back;
            check(!r.read_name_at(offsets[i], back), "a name we wrote does not read back");
            check(equal_nocase(back.view(), names[i].view()), "a name changed through compression");
        }
    }
};

void check_name(const wire_name& name, name_echo& echo)
{
    const std::string_view wire = name.view();
    check(wire.size() <= max_name_length, "name longer than 255 bytes");
    check(!wire.empty() && wire.back() == '\0', "name without its root label");
    std::size_t pos = 0;
    while (wire[pos] != '\0') {
        const auto len = static_cast<std::uint8_t>(wire[pos]);
        check(len >= 1 && len <= max_label_length, "label length out of range");
        pos += 1U + len;
        check(pos < wire.size(), "label runs past the end of the name");
    }
    check(pos + 1 == wire.size(), "bytes after the root label");

    const auto text = name_to_text(wire);
    const auto parsed = name_from_text(text);
    check(parsed.has_value(), "name_to_text produced text name_from_text rejects");
    check(*parsed == wire, "presentation round trip changed the name");

    const wire_name lower = name.lowered();
    check(equal_nocase(lower.view(), wire), "lowered() changed more than letter case");
    echo.add(name);
}

// Names inside rdata (RFC 1035 3.3, RFC 3597 4): NS, CNAME, PTR, MX and SOA may be compressed.
void read_rdata_names(const reader& r, const record_view& rec, name_echo& echo)
{
    wire_name name;
    switch (rec.type) {
    case rr_type::ns:
    case rr_type::cname:
    case rr_type::ptr:
        if (!r.read_name_at(rec.rdata_offset, name)) {
            check_name(name, echo);
        }
        break;
    case rr_type::mx:
        if (rec.rdata.size() >= 2 && !r.read_name_at(rec.rdata_offset + 2, name)) {
            check_name(name, echo);
        }
        break;
    case rr_type::soa: {
        // Two names back to back: a reader positioned at the rdata finds where the first ends.
        reader inner(r.message());
        if (inner.skip(rec.rdata_offset)) {
            violated("rdata offset past the end of the message");
        }
        wire_name rname;
        if (!inner.read_name(name)) {
            check_name(name, echo);
            if (!inner.read_name(rname)) {
                check_name(rname, echo);
            }
        }
        break;
    }
    default:
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> message{data, size};
    name_echo echo;
    reader r(message);
    header h;
    if (r.read_header(h)) {
        check(size < header_size, "read_header failed on a message of 12 bytes or more");
        return 0;
    }
    check(r.position() == header_size, "header not 12 bytes");

    for (std::uint16_t i = 0; i < h.qdcount; ++i) {
        wire_name qname;
        std::uint16_t qtype = 0;
        std::uint16_t qclass = 0;
        const std::size_t before = r.position();
        if (r.read_name(qname) || r.read_u16(qtype) || r.read_u16(qclass)) {
            return 0;
        }
        check(r.position() > before && r.position() <= size, "question moved the reader wrongly");
        check_name(qname, echo);

        // The same question without compression, as the responder reads it.
        reader plain(message);
        wire_name uncompressed;
        if (!plain.skip(before) && !plain.read_uncompressed_name(uncompressed)) {
            check(uncompressed.view() == qname.view(), "compressed and plain readers disagree");
        }
    }

    const std::size_t records = std::size_t{h.ancount} + h.nscount + h.arcount;
    for (std::size_t i = 0; i < records; ++i) {
        record_view rec;
        const std::size_t before = r.position();
        if (r.read_record(rec)) {
            break;
        }
        check(r.position() > before && r.position() <= size, "record moved the reader wrongly");
        check(
            rec.rdata_offset + rec.rdata.size() == r.position(), "rdata not where the record ends"
        );
        check(
            rec.rdata.empty() || rec.rdata.data() == data + rec.rdata_offset, "rdata span misplaced"
        );
        check_name(rec.owner, echo);
        read_rdata_names(r, rec, echo);
    }
    check(r.position() + r.remaining() == size, "position and remaining disagree");
    echo.verify();
    return 0;
}
