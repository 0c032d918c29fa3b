#pragma once
// Builds DNS queries and decodes responses for tests, with certfleet's own codec.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/rdata.hpp"

namespace certfleet::test {

// The names of one test zone: with `constexpr zone_names name{"acme.x.test"}`, name("one") is
// "one.acme.x.test".
struct zone_names
{
    std::string_view apex;

    [[nodiscard]] std::string operator()(std::string_view label) const
    {
        return std::string(label) + "." + std::string(apex);
    }
};

struct query_spec
{
    std::string name;
    dns::rr_type type = dns::rr_type::a;
    std::uint16_t id = 0x1234;
    std::uint16_t flags = dns::flag::rd;
    std::uint16_t qclass = dns::class_in;
    std::optional<std::uint16_t> edns_payload; // adds an OPT record
    std::uint8_t edns_version = 0;
    bool dnssec_ok = false;
};

inline std::vector<std::uint8_t> make_query(const query_spec& spec)
{
    std::vector<std::uint8_t> buf(512);
    dns::writer w(buf, buf.size());
    w.write_header(dns::header{
        spec.id, spec.flags, 1, 0, 0, static_cast<std::uint16_t>(spec.edns_payload ? 1 : 0)});
    const auto wire = dns::name_from_text(spec.name).value();
    (void)w.write_bytes(wire); // raw: no compression, case preserved
    (void)w.write_u16(static_cast<std::uint16_t>(spec.type));
    (void)w.write_u16(spec.qclass);
    if (spec.edns_payload) {
        (void)w.write_u8(0);
        (void)w.write_u16(static_cast<std::uint16_t>(dns::rr_type::opt));
        (void)w.write_u16(*spec.edns_payload);
        (void
        )w.write_u32((std::uint32_t{spec.edns_version} << 16) | (spec.dnssec_ok ? 0x8000U : 0U));
        (void)w.write_u16(0);
    }
    buf.resize(w.size());
    return buf;
}

struct decoded_record
{
    std::string owner; // presentation, as on the wire (case kept)
    dns::rr_type type{};
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::string data; // TXT: the joined strings; names: presentation; A/AAAA: bytes
};

struct decoded_response
{
    dns::header hdr;
    std::string qname;
    std::uint16_t qtype = 0;
    std::vector<decoded_record> answer, authority, additional;

    [[nodiscard]] std::uint8_t rcode() const { return hdr.rcode_bits(); }
    [[nodiscard]] bool flag(std::uint16_t f) const { return (hdr.flags & f) != 0; }
    [[nodiscard]] const decoded_record* opt() const
    {
        for (const auto& r : additional) {
            if (r.type == dns::rr_type::opt) {
                return &r;
            }
        }
        return nullptr;
    }
};

inline decoded_record decode_record(const dns::reader& r, const dns::record_view& v)
{
    decoded_record out{dns::name_to_text(v.owner.view()), v.type, v.klass, v.ttl, {}};
    switch (v.type) {
    case dns::rr_type::txt: {
        std::size_t pos = 0;
        while (pos < v.rdata.size()) {
            const auto len = v.rdata[pos];
            out.data.append(reinterpret_cast<const char*>(v.rdata.data() + pos + 1), len);
            pos += 1U + len;
        }
        break;
    }
    case dns::rr_type::ns:
    case dns::rr_type::cname:
    case dns::rr_type::soa: {
        dns::wire_name n;
        if (!r.read_name_at(v.rdata_offset, n)) {
            out.data = dns::name_to_text(n.view());
        }
        break;
    }
    default:
        out.data.assign(v.rdata.begin(), v.rdata.end());
    }
    return out;
}

inline std::optional<decoded_response> decode_response(std::span<const std::uint8_t> bytes)
{
    dns::reader r(bytes);
    decoded_response out;
    if (r.read_header(out.hdr)) {
        return std::nullopt;
    }
    for (int i = 0; i < out.hdr.qdcount; ++i) {
        dns::wire_name n;
        std::uint16_t qclass = 0;
        if (r.read_name(n) || r.read_u16(out.qtype) || r.read_u16(qclass)) {
            return std::nullopt;
        }
        out.qname = dns::name_to_text(n.view());
    }
    for (auto [count, section] :
         {std::pair{out.hdr.ancount, &out.answer},
          {out.hdr.nscount, &out.authority},
          {out.hdr.arcount, &out.additional}}) {
        for (int i = 0; i < count; ++i) {
            dns::record_view v;
            if (r.read_record(v)) {
                return std::nullopt;
            }
            section->push_back(decode_record(r, v));
        }
    }
    if (r.remaining() != 0) {
        return std::nullopt;
    }
    return out;
}

} // namespace certfleet::test
