#pragma once
// The authoritative responder: a pure function from a query's bytes to a response's bytes.
// The server around it only moves bytes, enforces limits and timeouts.
//
// Behaviour (DESIGN section 5): AA on answers from our zones; REFUSED outside them; NXDOMAIN vs
// NODATA with the SOA in the authority section (RFC 2308); EDNS0 echoed with our payload size,
// BADVERS for versions other than 0 (RFC 6891); TC and an empty answer when the response does not
// fit a UDP client's payload; the question's letter case echoed; NOTIMP for opcodes other than
// QUERY; FORMERR for malformed queries whose header could be read; nothing for queries with QR
// set or shorter than a header; a single RRset for ANY (RFC 8482).

#include <cstdint>
#include <span>

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

inline constexpr std::size_t max_message_size = 65535;

// Writes the response into `out` (at least max_message_size bytes for TCP, max_udp_payload for
// UDP) and returns its size; 0 means the query is dropped without an answer.
[[nodiscard]] std::size_t respond(
    std::span<const std::uint8_t> query,
    std::span<std::uint8_t> out,
    const zone_data& data,
    transport via,
    const responder_options& options
) noexcept;

} // namespace certfleet::dns
