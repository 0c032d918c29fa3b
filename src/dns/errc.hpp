#pragma once
// Errors of the dns module: wire-format decoding, names, configuration, lookups and networks.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace certfleet::dns {

enum class errc
{
    truncated = 1,     // a read ran past the end of the message
    bad_label,         // label type 0x40/0x80 or a label longer than 63 bytes
    name_too_long,     // a name longer than 255 bytes on the wire
    bad_pointer,       // a compression pointer that does not point strictly backwards
    too_many_pointers, // more compression hops than a valid name can have
    bad_count,         // a section count the message cannot hold
    bad_opt,           // an OPT record not at the root, or more than one OPT
    trailing_data,     // bytes left after the last record
    invalid_name,      // a presentation-format name that is not a domain name
    invalid_record,    // a record in configuration that cannot be encoded
    value_too_long,    // a TXT character-string longer than 255 bytes
    descriptor_limit,  // RLIMIT_NOFILE cannot hold the configured TCP connections
    invalid_network,   // not an IP network in CIDR notation ("192.0.2.0/24")
};

[[nodiscard]] const boost::system::error_category& dns_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), dns_category()};
}

} // namespace certfleet::dns

template <> struct boost::system::is_error_code_enum<certfleet::dns::errc> : std::true_type
{};
