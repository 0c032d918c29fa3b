#include "dns/delegation_checker.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <poll.h>

#include <array>
#include <memory>
#include <mutex>

#include "core/challenge_name.hpp"
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

struct channel_deleter
{
    void operator()(ares_channel c) const noexcept { ares_destroy(c); }
};
using channel_ptr = std::unique_ptr<std::remove_pointer_t<ares_channel>, channel_deleter>;

struct cname_lookup
{
    bool done = false;
    int status = ARES_SUCCESS;
    std::vector<unsigned char> answer;
};

void on_answer(void* arg, int status, int, unsigned char* abuf, int alen)
{
    auto* lookup = static_cast<cname_lookup*>(arg);
    lookup->done = true;
    lookup->status = status;
    if (abuf != nullptr && alen > 0) {
        lookup->answer.assign(abuf, abuf + alen);
    }
}

void run_until_done(ares_channel channel, const cname_lookup& lookup)
{
    while (!lookup.done) {
        std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> sockets{};
        const int mask = ares_getsock(channel, sockets.data(), ARES_GETSOCK_MAXNUM);
        std::vector<pollfd> fds;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(mask, i)) {
                events |= POLLIN;
            }
            if (ARES_GETSOCK_WRITABLE(mask, i)) {
                events |= POLLOUT;
            }
            if (events != 0) {
                fds.push_back(pollfd{sockets[static_cast<std::size_t>(i)], events, 0});
            }
        }
        timeval tv{};
        const timeval* wait = ares_timeout(channel, nullptr, &tv);
        const int timeout_ms =
            wait == nullptr ? 100 : static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000);
        ::poll(fds.data(), fds.size(), timeout_ms);
        if (fds.empty()) {
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (const auto& p : fds) {
            ares_process_fd(
                channel, (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 ? p.fd : ARES_SOCKET_BAD,
                (p.revents & POLLOUT) != 0 ? p.fd : ARES_SOCKET_BAD
            );
        }
    }
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
cname_result parse_cname_answer(const std::vector<unsigned char>& answer, std::string_view owner)
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

cname_result lookup_cname(ares_channel channel, std::string_view canonical)
{
    cname_lookup lookup;
    const auto text = name_to_text(canonical);
    ares_query(channel, text.c_str(), ns_c_in, ns_t_cname, on_answer, &lookup);
    run_until_done(channel, lookup);
    if (lookup.status == ARES_ENOTFOUND) {
        return {cname_outcome::no_such_name, {}, {}};
    }
    if (lookup.status == ARES_ENODATA) {
        return {cname_outcome::no_cname, {}, {}};
    }
    if (lookup.status != ARES_SUCCESS) {
        return {cname_outcome::failed, {}, ares_strerror(lookup.status)};
    }
    return parse_cname_answer(lookup.answer, canonical);
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
    static std::once_flag library_once;
    std::call_once(library_once, [] { ares_library_init(ARES_LIB_INIT_ALL); });

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

    ares_options options{};
    options.timeout = static_cast<int>(check.timeout.count());
    options.tries = check.tries;
    ares_channel raw = nullptr;
    if (ares_init_options(&raw, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
        report.detail = "cannot initialise the resolver library";
        return report;
    }
    channel_ptr channel(raw);
    if (!check.resolvers.empty()) {
        std::string csv;
        for (const auto& r : check.resolvers) {
            csv += (csv.empty() ? "" : ",") + r;
        }
        if (ares_set_servers_ports_csv(channel.get(), csv.c_str()) != ARES_SUCCESS) {
            report.detail =
                "invalid resolver address '" + csv + "': use host:port, e.g. 127.0.0.1:53";
            return report;
        }
    }

    std::string current = *challenge;
    for (int hop = 0; hop < max_chain; ++hop) {
        const auto result = lookup_cname(channel.get(), current);
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
