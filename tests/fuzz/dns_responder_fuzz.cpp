// libFuzzer target: the pure responder, dns::respond(), over a small fixed zone and a few
// challenge values, for UDP (at three server payload sizes) and TCP. Aborts when a response
// breaks one of these invariants (DESIGN section 5):
// - UDP: at most max(512, min(client payload, our payload)) bytes, and at most 512 without OPT;
//   TCP: at most 65535 bytes and never TC.
// - Every response parses back with dns::reader: header, question, every record, nothing left.
// - QR set, the query's ID, its question echoed byte for byte (letter case kept, 0x20).
// - TC only with an empty answer; an authoritative answer with no records carries the SOA.
// - UDP and TCP agree: both answer or both drop, and a UDP answer without TC equals the TCP one.
// - The answer does not depend on what the output buffer held before (the server reuses its
//   buffers): the same query into a buffer of 0x00 and one of 0xFF gives the same bytes.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dns/challenge_records.hpp"
#include "dns/message.hpp"
#include "dns/responder.hpp"
#include "dns/zone.hpp"
#include "dns/zone_file.hpp"

using namespace certfleet::dns;

namespace {

[[noreturn]] void violated(const char* what)
{
    std::fprintf(stderr, "dns_responder_fuzz: invariant violated: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what)
{
    if (!ok) {
        violated(what);
    }
}

void require(boost::system::error_code ec, const char* what)
{
    if (ec) {
        std::fprintf(stderr, "dns_responder_fuzz: fixture: %s: %s\n", what, ec.message().c_str());
        std::abort();
    }
}

// The zone the seeds ask about: apex data with glue, a CNAME chain in the zone and one out of
// it, an empty non-terminal, a TXT RRset too large for 512 bytes, and a nested zone.
constexpr std::string_view fuzz_zone_file = R"(
$TTL 300
@                 CAA   0 issue "letsencrypt.org"
@                 MX    10 mail
mail              A     192.0.2.25
ns2               AAAA  2001:db8::54
_about            TXT   "certfleet fuzz zone" "second string"
www               CNAME alias
alias             CNAME static
static            TXT   "static value"
outside           CNAME www.example.com.
loop1             CNAME loop2
loop2             CNAME loop1
deep.below.tree   A     192.0.2.1
ptr               PTR   www
)";

struct fixture
{
    std::vector<std::shared_ptr<const zone>> zones;
    catalog all;
    challenge_records challenges;
    zone_data data;

    fixture()
    {
        soa_fields soa;
        soa.mname = "ns1";
        soa.rname = "hostmaster.acme.fuzz.test.";
        soa.minimum = 30;
        auto b = zone_builder::start("acme.fuzz.test", soa);
        if (!b) {
            require(b.error(), "zone_builder::start");
        }
        require(b->add("@", rr_type::ns, 300, "ns1"), "NS ns1");
        require(b->add("@", rr_type::ns, 300, "ns2"), "NS ns2");
        require(b->add("ns1", rr_type::a, 300, "192.0.2.53"), "A ns1");
        require(b->add("ns1", rr_type::aaaa, 300, "2001:db8::53"), "AAAA ns1");
        for (const char fill : {'a', 'b', 'c'}) {
            require(
                b->add("big", rr_type::txt, 60, "\"" + std::string(200, fill) + "\""), "TXT big"
            );
        }
        if (const auto error = load_zone_file(fuzz_zone_file, *b, 300)) {
            std::fprintf(stderr, "fuzz zone line %zu: %s\n", error->line, error->what.c_str());
            std::abort();
        }
        zones.push_back(finish(*b));

        soa.mname = "ns1.acme.fuzz.test.";
        auto sub = zone_builder::start("sub.acme.fuzz.test", soa);
        if (!sub) {
            require(sub.error(), "zone_builder::start sub");
        }
        require(sub->add("@", rr_type::ns, 300, "ns1.acme.fuzz.test."), "NS sub");
        require(sub->add("x", rr_type::txt, 300, "\"in the nested zone\""), "TXT sub");
        zones.push_back(finish(*sub));
        all = catalog(zones);

        using std::chrono::seconds;
        const std::string value43(43, 'k'); // the length of a real DNS-01 value
        for (const char* v :
             {"Zk3x1GvWb2yQ0fK8cS5dT7hJ9mN4pR6uV1wX3yA5bC7", "second-value-for-wildcard"}) {
            require(
                challenges.present("_acme-challenge.www.acme.fuzz.test", v, seconds(1)), "present"
            );
        }
        require(challenges.present("k3f9.acme.fuzz.test", value43, seconds(10)), "present k3f9");
        require(
            challenges.present("x.y.z.acme.fuzz.test", std::string(255, 'v'), seconds(5)),
            "present x.y.z"
        );
        require(
            challenges.present("static.acme.fuzz.test", "dynamic beside static", seconds(1)),
            "present static"
        );
        for (int i = 0; i < 6; ++i) {
            require(
                challenges.present(
                    "many.acme.fuzz.test", std::string(250, static_cast<char>('a' + i)), seconds(1)
                ),
                "present many"
            );
        }
        data = zone_data{&all, &challenges};
    }

    static std::shared_ptr<const zone> finish(zone_builder& b)
    {
        auto z = b.finish();
        if (!z) {
            require(z.error(), "zone_builder::finish");
        }
        return *z;
    }
};

const fixture& the_fixture()
{
    static const fixture f;
    return f;
}

struct query_facts
{
    header hdr;
    std::span<const std::uint8_t> question;    // name, type and class as sent
    std::optional<std::uint16_t> edns_payload; // CLASS of the first OPT record
};

// What the invariants need to know of the query, read leniently: it may be malformed.
std::optional<query_facts> read_query(std::span<const std::uint8_t> query)
{
    query_facts facts;
    reader r(query);
    if (r.read_header(facts.hdr)) {
        return std::nullopt;
    }
    wire_name name;
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    if (facts.hdr.qdcount >= 1 && !r.read_uncompressed_name(name) && !r.read_u16(type) &&
        !r.read_u16(klass)) {
        facts.question = query.subspan(header_size, r.position() - header_size);
    }
    const std::size_t records =
        std::size_t{facts.hdr.ancount} + facts.hdr.nscount + facts.hdr.arcount;
    record_view rec;
    for (std::size_t i = 0; i < records && !r.read_record(rec); ++i) {
        if (rec.type == rr_type::opt && !facts.edns_payload) {
            facts.edns_payload = rec.klass;
        }
    }
    return facts;
}

struct response_facts
{
    header hdr;
    std::span<const std::uint8_t> question;
    bool has_opt = false;
    bool authority_soa = false;
};

response_facts parse_response(std::span<const std::uint8_t> response)
{
    response_facts facts;
    reader r(response);
    check(!r.read_header(facts.hdr), "response shorter than a header");
    check(facts.hdr.qdcount <= 1, "response with more than one question");
    if (facts.hdr.qdcount == 1) {
        wire_name name;
        std::uint16_t type = 0;
        std::uint16_t klass = 0;
        check(
            !r.read_name(name) && !r.read_u16(type) && !r.read_u16(klass),
            "response question unreadable"
        );
        facts.question = response.subspan(header_size, r.position() - header_size);
    }
    const std::size_t answers = facts.hdr.ancount;
    const std::size_t authority = facts.hdr.nscount;
    const std::size_t records = answers + authority + facts.hdr.arcount;
    for (std::size_t i = 0; i < records; ++i) {
        record_view rec;
        check(!r.read_record(rec), "response record unreadable");
        wire_name name;
        switch (rec.type) {
        case rr_type::ns:
        case rr_type::cname:
        case rr_type::ptr:
            check(!r.read_name_at(rec.rdata_offset, name), "name in rdata unreadable");
            break;
        case rr_type::mx:
            check(
                rec.rdata.size() > 2 && !r.read_name_at(rec.rdata_offset + 2, name),
                "MX rdata unreadable"
            );
            break;
        case rr_type::soa: {
            reader inner(response);
            wire_name rname;
            check(
                !inner.skip(rec.rdata_offset) && !inner.read_name(name) &&
                    !inner.read_name(rname) &&
                    inner.position() + 20 == rec.rdata_offset + rec.rdata.size(),
                "SOA rdata malformed"
            );
            if (i >= answers && i < answers + authority) {
                facts.authority_soa = true;
            }
            break;
        }
        case rr_type::txt: {
            // One or more <length, bytes> character-strings filling the rdata exactly.
            std::size_t pos = 0;
            while (pos < rec.rdata.size()) {
                pos += 1U + rec.rdata[pos];
            }
            check(!rec.rdata.empty() && pos == rec.rdata.size(), "TXT rdata malformed");
            break;
        }
        case rr_type::opt:
            check(
                i >= answers + authority && !facts.has_opt && rec.owner.is_root(), "misplaced OPT"
            );
            facts.has_opt = true;
            break;
        default:
            break;
        }
    }
    check(r.remaining() == 0, "bytes left after the last record");
    return facts;
}

void check_response(
    std::span<const std::uint8_t> query,
    std::span<const std::uint8_t> response,
    transport via,
    std::size_t max_udp_payload
)
{
    const auto q = read_query(query);
    check(q.has_value(), "answered a query shorter than a header");
    check(response.size() >= header_size, "response shorter than a header");
    const auto r = parse_response(response);

    check((r.hdr.flags & flag::qr) != 0, "QR not set");
    check(r.hdr.id == q->hdr.id, "ID not echoed");
    if (via == transport::tcp) {
        check(response.size() <= max_message_size, "TCP response over 65535 bytes");
        check((r.hdr.flags & flag::tc) == 0, "TC over TCP");
    } else {
        check(response.size() <= max_udp_payload, "UDP response over our payload size");
        const std::size_t client = std::max<std::size_t>(q->edns_payload.value_or(512), 512);
        check(
            response.size() <= std::max<std::size_t>(512, std::min(client, max_udp_payload)),
            "UDP response over the client's payload size"
        );
        check(r.has_opt || response.size() <= 512, "UDP response over 512 bytes without OPT");
    }
    if (r.hdr.qdcount == 1) {
        check(
            std::equal(
                q->question.begin(), q->question.end(), r.question.begin(), r.question.end()
            ),
            "question not echoed byte for byte"
        );
    }
    const bool tc = (r.hdr.flags & flag::tc) != 0;
    check(!tc || r.hdr.ancount == 0, "TC with answers");
    const auto code = r.hdr.rcode_bits();
    const bool negative_capable = code == static_cast<std::uint8_t>(rcode::noerror) ||
                                  code == static_cast<std::uint8_t>(rcode::nxdomain);
    if ((r.hdr.flags & flag::aa) != 0 && !tc && negative_capable && r.hdr.ancount == 0) {
        check(r.authority_soa, "negative answer without the SOA (RFC 2308)");
    }
}

// Responds into a buffer of exactly the size respond() is promised (so that ASan sees any access
// past it), filled with `fill` first: the server reuses its buffers, and the answer must not
// depend on what they held before.
std::vector<std::uint8_t> answer(
    std::span<const std::uint8_t> query,
    transport via,
    const responder_options& options,
    std::uint8_t fill
)
{
    const std::size_t capacity = via == transport::tcp ? max_message_size : options.max_udp_payload;
    static std::vector<std::uint8_t> buffer;
    buffer.assign(capacity, fill);
    buffer.shrink_to_fit();
    const std::size_t size = respond(query, buffer, the_fixture().data, via, options);
    check(size <= capacity, "response size past the buffer");
    return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size)};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> query{data, size};
    for (const std::uint16_t payload :
         {std::uint16_t{1232}, std::uint16_t{512}, std::uint16_t{4096}}) {
        const responder_options options{payload};
        const auto tcp = answer(query, transport::tcp, options, 0x00);
        const auto udp = answer(query, transport::udp, options, 0x00);
        check(
            answer(query, transport::udp, options, 0xFF) == udp,
            "UDP answer depends on the buffer's old contents"
        );
        check(
            answer(query, transport::tcp, options, 0xFF) == tcp,
            "TCP answer depends on the buffer's old contents"
        );
        check(udp.empty() == tcp.empty(), "UDP and TCP disagree on dropping");
        if (udp.empty()) {
            continue;
        }
        check_response(query, tcp, transport::tcp, payload);
        check_response(query, udp, transport::udp, payload);
        header h;
        (void)reader(udp).read_header(h);
        if ((h.flags & flag::tc) == 0) {
            check(udp == tcp, "UDP answer without TC differs from TCP");
        }
    }
    return 0;
}
