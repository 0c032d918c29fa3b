#pragma once
// Reads the CAA RRset out of a recursive resolver's response to a CAA query: the records owned
// by the query name or, when the name is an alias, by the end of the CNAME chain the resolver
// put in the answer section (RFC 8659 3: the Relevant RRset of an alias is its target's).
//
// Pure and bounds-checked: every read is checked against the end of the message and of the
// RDATA. Thread safety: keeps no state.

#include <boost/system/result.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/caa_policy.hpp"

namespace certfleet::dns {

struct caa_answer
{
    std::string owner;                     // canonical wire: the name that owns `records`
    std::vector<core::caa_record> records; // in answer order; empty when there is none
};

// `qname` is the canonical wire name that was asked for. Errors: dns::errc from the codec
// (truncated, bad_pointer, ...) when the message or a CAA RDATA is malformed (RFC 8659 4.1).
[[nodiscard]] boost::system::result<caa_answer>
read_caa_answer(std::span<const std::uint8_t> message, std::string_view qname) noexcept;

} // namespace certfleet::dns
