#include "dns/caa_answer.hpp"

#include "dns/errc.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"

namespace certfleet::dns {
namespace {

// Longer chains than a resolver would follow (unbound stops at 8 or so) are not ours to judge.
constexpr int max_chain = 16;

// Flags (1 octet), tag length (1 octet), tag, value: the rest of the RDATA (RFC 8659 4.1).
boost::system::result<core::caa_record> read_caa_rdata(std::span<const std::uint8_t> rdata)
{
    if (rdata.size() < 2 || rdata.size() - 2 < rdata[1]) {
        return errc::truncated;
    }
    const auto tag = rdata.subspan(2, rdata[1]);
    const auto value = rdata.subspan(2U + rdata[1]);
    return core::caa_record{
        rdata[0], std::string(tag.begin(), tag.end()), std::string(value.begin(), value.end())};
}

struct answer_record
{
    std::string owner; // canonical wire
    rr_type type{};
    std::span<const std::uint8_t> rdata;
    std::size_t rdata_offset = 0;
};

} // namespace

boost::system::result<caa_answer>
read_caa_answer(std::span<const std::uint8_t> message, std::string_view qname) noexcept
{
    reader r(message);
    header h;
    if (auto ec = r.read_header(h)) {
        return ec;
    }
    for (int i = 0; i < h.qdcount; ++i) {
        wire_name name;
        std::uint16_t type = 0;
        std::uint16_t klass = 0;
        if (auto ec = r.read_name(name);
            ec || (ec = r.read_u16(type)) || (ec = r.read_u16(klass))) {
            return ec;
        }
    }
    std::vector<answer_record> answers;
    for (int i = 0; i < h.ancount; ++i) {
        record_view rec;
        if (auto ec = r.read_record(rec)) {
            return ec;
        }
        if (rec.klass == class_in) {
            answers.push_back(
                {std::string(rec.owner.lowered().view()), rec.type, rec.rdata, rec.rdata_offset}
            );
        }
    }

    caa_answer out{std::string(qname), {}};
    for (int hop = 0; hop < max_chain; ++hop) {
        const answer_record* alias = nullptr;
        for (const auto& a : answers) {
            if (a.type == rr_type::cname && a.owner == out.owner) {
                alias = &a;
                break;
            }
        }
        if (alias == nullptr) {
            break;
        }
        wire_name target;
        if (auto ec = r.read_name_at(alias->rdata_offset, target)) {
            return ec;
        }
        out.owner = std::string(target.lowered().view());
    }
    for (const auto& a : answers) {
        if (a.type != rr_type::caa || a.owner != out.owner) {
            continue;
        }
        auto record = read_caa_rdata(a.rdata);
        if (!record) {
            return record.error();
        }
        out.records.push_back(std::move(*record));
    }
    return out;
}

} // namespace certfleet::dns
