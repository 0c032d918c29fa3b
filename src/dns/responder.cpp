#include "dns/responder.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <optional>

#include "core/challenge_name.hpp"
#include "dns/rate_limiter.hpp"

namespace certfleet::dns {
namespace {

constexpr std::size_t opt_record_size = 11;
constexpr std::size_t min_record_size = 11;
constexpr int max_cname_chain = 8;

struct parsed_query
{
    header hdr;
    wire_name qname; // as sent, case preserved
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    bool edns = false;
    std::uint16_t udp_payload = 512;
    std::uint8_t edns_version = 0;
    bool dnssec_ok = false;
    bool question_ok = false;
};

enum class parse_outcome
{
    ok,
    drop,
    formerr,
    notimp,
};

// Reads the question and the additional records. Sets q.question_ok and q.edns as far as they
// could be read, so that even an error answer can echo them.
parse_outcome parse_body(reader& r, parsed_query& q) noexcept
{
    if (q.hdr.qdcount != 1) {
        return parse_outcome::formerr;
    }
    // No legitimate client compresses the question's name; refusing pointers here also lets
    // the response copy it byte for byte.
    if (r.read_uncompressed_name(q.qname) || r.read_u16(q.qtype) || r.read_u16(q.qclass)) {
        return parse_outcome::formerr;
    }
    q.question_ok = true;
    const std::size_t records = std::size_t{q.hdr.ancount} + q.hdr.nscount + q.hdr.arcount;
    if (records * min_record_size > r.remaining()) {
        return parse_outcome::formerr; // counts the message cannot hold
    }
    const std::size_t first_additional = std::size_t{q.hdr.ancount} + q.hdr.nscount;
    record_view rec;
    for (std::size_t i = 0; i < records; ++i) {
        if (r.read_record(rec)) {
            return parse_outcome::formerr;
        }
        if (rec.type != rr_type::opt) {
            continue;
        }
        // One OPT, owned by the root, in the additional section (RFC 6891 6.1.1).
        if (i < first_additional || q.edns || !rec.owner.is_root()) {
            q.edns = false; // no well-formed OPT to echo
            return parse_outcome::formerr;
        }
        q.edns = true;
        q.udp_payload = std::max<std::uint16_t>(rec.klass, 512); // RFC 6891 6.2.5
        q.edns_version = static_cast<std::uint8_t>(rec.ttl >> 16);
        q.dnssec_ok = (rec.ttl & 0x8000U) != 0;
    }
    if (r.remaining() != 0) {
        return parse_outcome::formerr;
    }
    return parse_outcome::ok;
}

parse_outcome parse(std::span<const std::uint8_t> query, parsed_query& q) noexcept
{
    reader r(query);
    if (r.read_header(q.hdr)) {
        return parse_outcome::drop;
    }
    if ((q.hdr.flags & flag::qr) != 0) {
        return parse_outcome::drop; // a response: answering it could start a loop
    }
    const auto body = parse_body(r, q);
    // Other opcodes are not implemented whatever their body; it is read only to echo the
    // question and the OPT (RFC 6891 7: a response to an EDNS query carries an OPT).
    return q.hdr.opcode() != 0 ? parse_outcome::notimp : body;
}

class section_writer
{
public:
    explicit section_writer(writer& w) : w_(w) {}

    // Writes one record; rolls back and returns false when it does not fit.
    bool record(std::string_view owner, rr_type type, std::uint32_t ttl, std::string_view rdata)
    {
        return write(owner, type, ttl, [&] { return write_rdata(type, rdata); });
    }

    bool txt(std::string_view owner, std::uint32_t ttl, std::string_view value)
    {
        return write(owner, rr_type::txt, ttl, [&] {
            return w_.write_u8(static_cast<std::uint8_t>(value.size())) && w_.write_bytes(value);
        });
    }

    bool rrset(std::string_view owner, const dns::rrset& set, std::uint16_t& count)
    {
        for (const auto& rdata : set.rdatas) {
            if (!record(owner, set.type, set.ttl, rdata)) {
                return false;
            }
            ++count;
        }
        return true;
    }

private:
    template <class F>
    bool write(std::string_view owner, rr_type type, std::uint32_t ttl, F&& rdata)
    {
        const auto mark = w_.mark();
        if (!w_.write_name(owner) || !w_.write_u16(static_cast<std::uint16_t>(type)) ||
            !w_.write_u16(class_in) || !w_.write_u32(ttl) || !w_.write_u16(0)) {
            w_.rollback(mark);
            return false;
        }
        const std::size_t rdlength_at = w_.size() - 2;
        if (!rdata()) {
            w_.rollback(mark);
            return false;
        }
        w_.patch_u16(rdlength_at, static_cast<std::uint16_t>(w_.size() - rdlength_at - 2));
        return true;
    }

    // Names inside NS, CNAME, PTR, MX and SOA rdata may be compressed (RFC 1035 4.1.4, RFC 3597
    // 4); stored rdata holds them uncompressed, so they can be split off by their lengths.
    bool write_rdata(rr_type type, std::string_view rdata)
    {
        switch (type) {
        case rr_type::ns:
        case rr_type::cname:
        case rr_type::ptr:
            return w_.write_name(rdata);
        case rr_type::mx:
            return w_.write_bytes(rdata.substr(0, 2)) && w_.write_name(rdata.substr(2));
        case rr_type::soa: {
            const auto mname = name_length(rdata);
            const auto rname = name_length(rdata.substr(mname));
            return w_.write_name(rdata.substr(0, mname)) &&
                   w_.write_name(rdata.substr(mname, rname)) &&
                   w_.write_bytes(rdata.substr(mname + rname));
        }
        default:
            return w_.write_bytes(rdata);
        }
    }

    static std::size_t name_length(std::string_view wire) noexcept
    {
        std::size_t pos = 0;
        while (pos < wire.size() && wire[pos] != 0) {
            pos += static_cast<std::uint8_t>(wire[pos]) + 1U;
        }
        return std::min(pos + 1, wire.size());
    }

    writer& w_;
};

struct section_counts
{
    std::uint16_t an = 0;
    std::uint16_t ns = 0;
    std::uint16_t ar = 0;
};

class zone_answer
{
public:
    // `authoritative`: false for QCLASS ANY, whose negative answers carry no SOA (as NSD).
    zone_answer(
        section_writer& out,
        const zone& z,
        const zone_view& data,
        section_counts& counts,
        bool authoritative
    )
        : out_(out), zone_(z), data_(data), counts_(counts), authoritative_(authoritative)
    {}

    // Fills the answer, authority and additional sections; returns the RCODE, or nothing when
    // they did not fit.
    // `lowered`: the question's name folded to lower case, computed once by respond().
    std::optional<rcode> run(const parsed_query& q, const wire_name& lowered)
    {
        std::string_view name = lowered.view();
        // The first owner points back at the question, echoing its letter case (0x20).
        std::string_view owner = q.qname.view();
        const auto qtype = static_cast<rr_type>(q.qtype);

        for (int hop = 0; hop <= max_cname_chain; ++hop) {
            const node* n = zone_.find(name);
            const rrset* cname = n != nullptr ? n->find(rr_type::cname) : nullptr;
            if (cname != nullptr && qtype != rr_type::cname && qtype != rr_type::any) {
                if (!out_.rrset(owner, *cname, counts_.an)) {
                    return std::nullopt;
                }
                const std::string_view target = cname->rdatas.front();
                if (!is_at_or_below(target, zone_.apex())) {
                    return rcode::noerror; // out of zone: the resolver follows it from here
                }
                name = target;
                owner = target;
                continue;
            }
            const std::uint16_t before = counts_.an;
            bool dynamic_found = false;
            if (!answer_at(n, name, owner, qtype, dynamic_found)) {
                return std::nullopt;
            }
            if (counts_.an != before) {
                return rcode::noerror;
            }
            const bool exists =
                n != nullptr || dynamic_found ||
                (data_.challenges != nullptr && data_.challenges->name_exists(name));
            if (authoritative_ && !negative_soa()) {
                return std::nullopt;
            }
            // After a CNAME the RCODE speaks of the last name in the chain (RFC 6604 2.1).
            return exists ? rcode::noerror : rcode::nxdomain;
        }
        return rcode::noerror; // a chain longer than we follow: the resolver goes on
    }

    // The answer holds challenge TXT values: a CA is validating.
    [[nodiscard]] bool challenge_answered() const noexcept { return challenge_answered_; }

private:
    bool challenge_answered_ = false;

    bool answer_at(
        const node* n,
        std::string_view name,
        std::string_view owner,
        rr_type qtype,
        bool& dynamic_found
    )
    {
        if (qtype == rr_type::any && n != nullptr && !n->rrsets.empty()) {
            return out_.rrset(owner, n->rrsets.front(), counts_.an); // RFC 8482 4.1: one RRset
        }
        if (const rrset* set = n != nullptr ? n->find(qtype) : nullptr) {
            if (!out_.rrset(owner, *set, counts_.an)) {
                return false;
            }
            if (qtype == rr_type::ns && !add_glue(*set)) {
                return false;
            }
        }
        if ((qtype == rr_type::txt || qtype == rr_type::any) && data_.challenges != nullptr) {
            const auto* values = data_.challenges->find_txt(name);
            if (values == nullptr) {
                return true;
            }
            dynamic_found = true;
            for (const auto& v : *values) {
                if (!out_.txt(owner, v.ttl, v.text)) {
                    return false;
                }
                ++counts_.an;
            }
            challenge_answered_ = true;
            return true;
        }
        return true;
    }

    // A and AAAA of in-zone name servers, so a resolver need not ask again.
    bool add_glue(const rrset& ns)
    {
        for (const auto& target : ns.rdatas) {
            const node* host = zone_.find(target);
            if (host == nullptr) {
                continue;
            }
            for (const auto type : {rr_type::a, rr_type::aaaa}) {
                if (const rrset* addresses = host->find(type)) {
                    if (!out_.rrset(target, *addresses, counts_.ar)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    // SOA in the authority section of NXDOMAIN and NODATA answers, with the negative TTL
    // (RFC 2308 3 and 5).
    bool negative_soa()
    {
        if (!out_.record(
                zone_.apex(), rr_type::soa, zone_.negative_ttl(), zone_.soa().rdatas.front()
            )) {
            return false;
        }
        ++counts_.ns;
        return true;
    }

    section_writer& out_;
    const zone& zone_;
    const zone_view& data_;
    section_counts& counts_;
    bool authoritative_;
};

enum class identity_kind : std::uint64_t
{
    answer = 1,
    nxdomain,
    error,
};

std::uint64_t
identity_of(identity_kind kind, std::string_view name = {}, std::uint16_t qtype = 0) noexcept
{
    const std::uint64_t name_hash = name.empty() ? 0 : std::hash<std::string_view>{}(name);
    return mix64(name_hash ^ (static_cast<std::uint64_t>(kind) << 16U) ^ qtype);
}

void write_opt(
    writer& w, const parsed_query& q, const responder_options& options, std::uint16_t extended_rcode
)
{
    (void)w.write_u8(0);
    (void)w.write_u16(static_cast<std::uint16_t>(rr_type::opt));
    (void)w.write_u16(options.max_udp_payload);
    // DO is copied from the query (RFC 3225 3).
    (void)w.write_u32(
        (static_cast<std::uint32_t>(extended_rcode >> 4) << 24) | (q.dnssec_ok ? 0x8000U : 0U)
    );
    (void)w.write_u16(0);
}

// NOTIMP and FORMERR: the header, the question when it could be read (NOTIMP only: a FORMERR
// question may be the very thing that is wrong), and our OPT when the query had a good one.
std::size_t error_response(
    writer& w,
    const parsed_query& q,
    rcode code,
    const responder_options& options,
    response_info* info
) noexcept
{
    header h;
    h.id = q.hdr.id;
    h.flags = static_cast<std::uint16_t>(
        flag::qr | (q.hdr.flags & (flag::opcode_mask | flag::rd)) | static_cast<std::uint16_t>(code)
    );
    w.write_header(h);
    std::uint16_t qd = 0;
    if (code == rcode::notimp && q.question_ok && w.write_name(q.qname.view()) &&
        w.write_u16(q.qtype) && w.write_u16(q.qclass)) {
        qd = 1;
    }
    if (info != nullptr) {
        info->identity = identity_of(identity_kind::error);
        info->question_end = w.size();
        info->edns = q.edns;
    }
    if (q.edns) {
        write_opt(w, q, options, 0);
    }
    w.set_counts(qd, 0, 0, q.edns ? 1 : 0);
    return w.size();
}

} // namespace

std::size_t respond(
    std::span<const std::uint8_t> query,
    std::span<std::uint8_t> out,
    const zone_view& data,
    transport via,
    const responder_options& options,
    response_info* info
) noexcept
{
    parsed_query q;
    const auto outcome = parse(query, q);
    writer w(out, via == transport::tcp ? max_message_size : options.max_udp_payload);
    switch (outcome) {
    case parse_outcome::drop:
        return 0;
    case parse_outcome::notimp:
        return error_response(w, q, rcode::notimp, options, info);
    case parse_outcome::formerr:
        return error_response(w, q, rcode::formerr, options, info);
    case parse_outcome::ok:
        break;
    }

    std::size_t limit = max_message_size;
    if (via == transport::udp) {
        limit = q.edns ? std::min(q.udp_payload, options.max_udp_payload) : std::size_t{512};
    }
    // Room for our OPT record is kept aside so that it always fits.
    const std::size_t sections_limit = limit - (q.edns ? opt_record_size : 0);
    w.set_limit(sections_limit);

    auto flags = static_cast<std::uint16_t>(flag::qr | (q.hdr.flags & flag::rd));
    auto write_question = [&] {
        w.write_header(header{q.hdr.id, flags, 1, 0, 0, 0});
        // The question always fits: it came in a message no larger than this one may be
        // (a 512-byte UDP query carries at most 12 + 255 + 4 bytes of question).
        return w.write_name(q.qname.view()) && w.write_u16(q.qtype) && w.write_u16(q.qclass);
    };
    if (!write_question()) {
        return error_response(w, q, rcode::formerr, options, info);
    }

    const std::size_t question_end = w.size();
    std::uint16_t extended_rcode = 0;
    rcode code = rcode::noerror;
    section_counts counts;
    bool dynamic_answered = false;
    const wire_name lowered = q.qname.lowered(); // once: zone lookups and the answer use it
    const zone* z = nullptr;
    if (q.edns && q.edns_version != 0) {
        extended_rcode = rcode_badvers;
    } else if (q.qclass != class_in && q.qclass != class_any) {
        code = rcode::refused;
    } else if (z = data.zones != nullptr ? data.zones->find_zone(lowered.view()) : nullptr;
               z == nullptr) {
        code = rcode::refused; // not authoritative: no referral to the root from us
    } else if (q.qtype == static_cast<std::uint16_t>(rr_type::axfr) || q.qtype == static_cast<std::uint16_t>(rr_type::ixfr)) {
        code = rcode::refused; // zone transfers are not offered
    } else {
        const bool authoritative = q.qclass == class_in;
        if (authoritative) {
            flags |= flag::aa;
        }
        section_writer sections(w);
        zone_answer answer(sections, *z, data, counts, authoritative);
        if (auto result = answer.run(q, lowered)) {
            code = *result;
            dynamic_answered = answer.challenge_answered();
        } else {
            // Does not fit: an empty answer with TC tells the client to retry over TCP
            // (RFC 7766 5, RFC 2181 9).
            counts = {};
            flags |= flag::tc;
            (void)write_question();
        }
    }

    w.set_limit(limit);
    if (q.edns) {
        write_opt(w, q, options, extended_rcode);
        ++counts.ar;
    }
    flags = static_cast<std::uint16_t>(
        flags | static_cast<std::uint16_t>(code) | (extended_rcode & 0xF)
    );
    w.set_flags(flags);
    w.set_counts(1, counts.an, counts.ns, counts.ar);
    if (info != nullptr) {
        info->question_end = question_end;
        info->edns = q.edns;
        info->challenge_answered = dynamic_answered;
        if (extended_rcode != 0 || (code != rcode::noerror && code != rcode::nxdomain)) {
            info->identity = identity_of(identity_kind::error);
        } else if (code == rcode::nxdomain) {
            info->identity = identity_of(identity_kind::nxdomain, z->apex());
        } else {
            info->identity = identity_of(identity_kind::answer, lowered.view(), q.qtype);
        }
    }
    return w.size();
}

std::size_t respond(
    std::span<const std::uint8_t> query,
    std::span<std::uint8_t> out,
    const zone_data& data,
    transport via,
    const responder_options& options,
    response_info* info
) noexcept
{
    // Taking the snapshot copies a shared_ptr under a short lock: not for the server's hot path,
    // which keeps one per thread (snapshot_cache).
    std::shared_ptr<const challenge_set> challenges;
    if (data.challenges != nullptr) {
        try {
            challenges = data.challenges->snapshot();
        } catch (...) {
            return 0; // std::mutex::lock failed: drop the query
        }
    }
    return respond(query, out, zone_view{data.zones, challenges.get()}, via, options, info);
}

std::size_t truncate_response(
    std::span<std::uint8_t> message, std::size_t size, const response_info& info
) noexcept
{
    if (size < header_size || info.question_end < header_size || info.question_end > size ||
        (info.edns && size < info.question_end + opt_record_size)) {
        return 0;
    }
    std::size_t end = info.question_end;
    if (info.edns) {
        std::memmove(
            message.data() + end, message.data() + size - opt_record_size, opt_record_size
        );
        end += opt_record_size;
    }
    message[2] |= static_cast<std::uint8_t>(flag::tc >> 8U);
    const std::uint8_t qd = info.question_end > header_size ? 1 : 0;
    const std::array<std::uint8_t, 8> counts{
        0, qd, 0, 0, 0, 0, 0, info.edns ? std::uint8_t{1} : std::uint8_t{0}};
    std::memcpy(message.data() + 4, counts.data(), counts.size());
    return end;
}

std::uint16_t response_rcode(std::span<const std::uint8_t> response) noexcept
{
    if (response.size() < header_size) {
        return 0;
    }
    const auto code = static_cast<std::uint16_t>(response[3] & 0x0FU);
    // The responder writes its OPT last. An upper RCODE (only BADVERS) comes with NOERROR's low
    // bits and nothing but that OPT after the question: ANCOUNT = NSCOUNT = 0, ARCOUNT = 1.
    const auto count = [&](std::size_t at) {
        return static_cast<std::uint16_t>((response[at] << 8U) | response[at + 1]);
    };
    const std::size_t size = response.size();
    if (code != 0 || count(6) != 0 || count(8) != 0 || count(10) != 1 ||
        size < header_size + opt_record_size || response[size - 11] != 0 ||
        response[size - 10] != 0 || response[size - 9] != static_cast<std::uint8_t>(rr_type::opt)) {
        return code;
    }
    return static_cast<std::uint16_t>(response[size - 6] << 4U); // RFC 6891 6.1.3
}

void notify_challenge_query(
    core::challenge_observer& observer,
    std::span<const std::uint8_t> response,
    const response_info& info
) noexcept
{
    if (!info.challenge_answered || info.question_end < header_size + 5 ||
        info.question_end > response.size()) {
        return;
    }
    // The question is written uncompressed right after the header; QTYPE and QCLASS end it.
    const std::string_view wire(
        reinterpret_cast<const char*>(response.data()) + header_size,
        info.question_end - header_size - 4
    );
    try {
        observer.challenge_queried(core::lower_name(name_to_text(wire)));
    } catch (...) {
        // No memory for the name: the order polls at its own pace.
    }
}

} // namespace certfleet::dns
