#pragma once
// The authoritative responder: a pure function from a query's bytes to a response's bytes.
// The server around it only moves bytes, enforces limits and timeouts.
//
// Behaviour (DESIGN section 5): AA on answers from our zones; REFUSED outside them; NXDOMAIN vs
// NODATA with the SOA in the authority section (RFC 2308); EDNS0 echoed with our payload size,
// BADVERS for versions other than 0 (RFC 6891); TC and an empty answer when the response does not
// fit a UDP client's payload; the question's letter case echoed; NOTIMP for opcodes other than
// QUERY; FORMERR for malformed queries whose header could be read; nothing for queries with QR
// set or shorter than a header; a single RRset for ANY (RFC 8482). QCLASS ANY (255) is answered
// as IN, as NSD does: the same records, but without AA and without the SOA of negative answers,
// since an answer for every class is not one we are authoritative for.

#include <cstdint>
#include <span>

#include "core/challenge_observer.hpp"
#include "dns/challenge_records.hpp"
#include "dns/zone.hpp"

namespace certfleet::dns {

enum class transport
{
    udp,
    tcp,
};

struct responder_options
{
    // The largest UDP response we send and advertise (RFC 6891 6.2.5; 1232 avoids fragmentation).
    std::uint16_t max_udp_payload = 1232;
};

struct zone_data
{
    const catalog* zones = nullptr;
    const challenge_records* challenges = nullptr; // may be null
};

// One consistent view of everything one answer reads: both are immutable while it is written.
struct zone_view
{
    const catalog* zones = nullptr;
    const challenge_set* challenges = nullptr; // may be null
};

inline constexpr std::size_t max_message_size = 65535;

// What the server needs to know of a response beyond its bytes, to rate-limit and truncate it.
struct response_info
{
    // The response's identity for rate limiting: one hash for the name and type of an answer or
    // NODATA, one for every NXDOMAIN in a zone (random names count together), one for every
    // error (REFUSED, FORMERR, NOTIMP, BADVERS).
    std::uint64_t identity = 0;
    std::size_t question_end = 0;    // the header and the question: what a truncated copy keeps
    bool edns = false;               // the response ends with our OPT record (11 bytes, no options)
    bool challenge_answered = false; // TXT values from the challenge records are in the answer
};

// Writes the response into `out` (at least max_message_size bytes for TCP, max_udp_payload for
// UDP) and returns its size; 0 means the query is dropped without an answer. Fills `info` when
// given.
[[nodiscard]] std::size_t respond(
    std::span<const std::uint8_t> query,
    std::span<std::uint8_t> out,
    const zone_view& view,
    transport via,
    const responder_options& options,
    response_info* info = nullptr
) noexcept;

// The same over the current challenge records, read once for this answer.
[[nodiscard]] std::size_t respond(
    std::span<const std::uint8_t> query,
    std::span<std::uint8_t> out,
    const zone_data& data,
    transport via,
    const responder_options& options,
    response_info* info = nullptr
) noexcept;

// Tells `observer` the question's name (lower case, no final dot) when the response holds
// challenge TXT values. `response` is what respond() wrote, `info` what it reported.
void notify_challenge_query(
    core::challenge_observer& observer,
    std::span<const std::uint8_t> response,
    const response_info& info
) noexcept;

// The RCODE of a response respond() wrote, with the upper bits from its OPT record (BADVERS is
// 16); 0 for fewer bytes than a header. Reads a few header bytes: cheap enough per query.
[[nodiscard]] std::uint16_t response_rcode(std::span<const std::uint8_t> response) noexcept;

// Cuts a response of `size` bytes written by respond() down to its header, question and OPT,
// with TC set: the "slip" of response rate limiting, which sends a resolver to TCP (RFC 7766 5).
// Returns the new size.
[[nodiscard]] std::size_t truncate_response(
    std::span<std::uint8_t> message, std::size_t size, const response_info& info
) noexcept;

} // namespace certfleet::dns
