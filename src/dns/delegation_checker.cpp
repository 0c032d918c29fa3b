#include "dns/delegation_checker.hpp"

#include "core/challenge_name.hpp"
#include "dns/ares_client.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"

namespace certfleet::dns {
namespace {

constexpr int max_chain = 8;

std::string with_final_dot(std::string name)
{
    if (name.empty() || name.back() != '.') {
        name.push_back('.');
    }
    return name;
}

enum class cname_outcome
{
    found,
    no_such_name,
    no_cname,
    failed,
};

struct cname_result
{
    cname_outcome outcome = cname_outcome::failed;
    std::string target; // canonical wire
    std::string reason;
};

// Extracts the CNAME at `owner` from a response, with our own bounds-checked codec.
cname_result parse_cname_answer(const std::vector<std::uint8_t>& answer, std::string_view owner)
{
    reader r(answer);
    header h;
    if (r.read_header(h)) {
        return {cname_outcome::failed, {}, "malformed response"};
    }
    if (h.rcode_bits() == static_cast<std::uint8_t>(rcode::nxdomain)) {
        return {cname_outcome::no_such_name, {}, {}};
    }
    wire_name qname;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    for (int i = 0; i < h.qdcount; ++i) {
        if (r.read_name(qname) || r.read_u16(qtype) || r.read_u16(qclass)) {
            return {cname_outcome::failed, {}, "malformed response"};
        }
    }
    record_view rec;
    for (int i = 0; i < h.ancount; ++i) {
        if (r.read_record(rec)) {
            return {cname_outcome::failed, {}, "malformed response"};
        }
        if (rec.type != rr_type::cname || rec.owner.lowered().view() != owner) {
            continue;
        }
        wire_name target;
        if (r.read_name_at(rec.rdata_offset, target)) {
            return {cname_outcome::failed, {}, "malformed CNAME record"};
        }
        return {cname_outcome::found, std::string(target.lowered().view()), {}};
    }
    return {cname_outcome::no_cname, {}, {}};
}

// SERVFAIL and REFUSED come back as failures with their own reason (ares_client asks c-ares not
// to hide them behind "Could not contact DNS servers").
cname_result lookup_cname(ares_client& client, std::string_view canonical)
{
    auto answer = client.query(name_to_text(canonical), rr_type::cname);
    switch (answer.outcome) {
    case ares_outcome::answered:
        return parse_cname_answer(answer.message, canonical);
    case ares_outcome::no_such_name:
        return {cname_outcome::no_such_name, {}, {}};
    case ares_outcome::no_data:
        return {cname_outcome::no_cname, {}, {}};
    case ares_outcome::failed:
        break;
    }
    return {cname_outcome::failed, {}, std::move(answer.error)};
}

} // namespace

std::string_view to_string(delegation_status s) noexcept
{
    switch (s) {
    case delegation_status::correct:
        return "correct";
    case delegation_status::missing:
        return "missing";
    case delegation_status::points_elsewhere:
        return "points_elsewhere";
    case delegation_status::lookup_failed:
        return "lookup_failed";
    }
    return "unknown";
}

delegation_report check_delegation(const delegation_check& check)
{
    ares_client client({check.resolvers, check.timeout, check.tries});
    return check_delegation(check, client);
}

std::vector<std::pair<std::string, rr_type>> delegation_questions(const delegation_check& check)
{
    const auto challenge =
        canonical_name(with_final_dot(core::challenge_name_for(core::managed_name_for(check.name)))
        );
    if (!challenge) {
        return {};
    }
    return {{name_to_text(*challenge), rr_type::cname}};
}

delegation_report check_delegation(const delegation_check& check, ares_client& client)
{
    delegation_report report;
    const auto name = core::managed_name_for(check.name);
    report.challenge_name = with_final_dot(core::challenge_name_for(name));
    report.expected_target = with_final_dot(check.expected_target);
    auto challenge = canonical_name(report.challenge_name);
    auto expected = canonical_name(report.expected_target);
    if (!challenge || !expected) {
        report.status = delegation_status::lookup_failed;
        report.detail = "not a valid domain name: check the name and the expected target";
        return report;
    }
    if (!client.setup_error().empty()) {
        report.detail = client.setup_error();
        return report;
    }

    std::string current = *challenge;
    for (int hop = 0; hop < max_chain; ++hop) {
        const auto result = lookup_cname(client, current);
        switch (result.outcome) {
        case cname_outcome::failed:
            if (hop > 0) {
                // The first answer already shows the name is delegated somewhere else.
                report.status = delegation_status::points_elsewhere;
                report.detail = report.challenge_name + " points at " + report.chain.front() +
                                " (the rest of the chain could not be looked up: " + result.reason +
                                "); point it at " + report.expected_target;
                return report;
            }
            report.status = delegation_status::lookup_failed;
            report.detail = "lookup of " + name_to_text(current) + " failed: " + result.reason +
                            "; check that the resolver is reachable and try again";
            return report;
        case cname_outcome::no_such_name:
        case cname_outcome::no_cname:
            if (hop == 0) {
                report.status = delegation_status::missing;
                report.detail = std::string(
                                    result.outcome == cname_outcome::no_such_name
                                        ? "no such name: "
                                        : "the name exists but has no CNAME: "
                                ) +
                                "add `" + report.challenge_name + " CNAME " +
                                report.expected_target + "` at the DNS provider of " + name + ".";
            } else {
                report.status = delegation_status::points_elsewhere;
                report.detail = "the CNAME chain ends at " + report.chain.back() + ", not at " +
                                report.expected_target + ": point " + report.challenge_name +
                                " at " + report.expected_target;
            }
            return report;
        case cname_outcome::found:
            report.chain.push_back(name_to_text(result.target));
            if (result.target == *expected) {
                report.status = delegation_status::correct;
                report.detail = report.challenge_name + " reaches " + report.expected_target;
                return report;
            }
            current = result.target;
            break;
        }
    }
    report.status = delegation_status::points_elsewhere;
    report.detail = "the CNAME chain is longer than " + std::to_string(max_chain) +
                    " hops or loops: point " + report.challenge_name + " straight at " +
                    report.expected_target;
    return report;
}

} // namespace certfleet::dns
