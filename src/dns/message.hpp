#pragma once
// DNS message codec (RFC 1035 4.1): a bounds-checked reader and a writer with name compression.
// Every read is checked against the end of the message; no read allocates.

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <span>
#include <string_view>

#include "dns/name.hpp"

namespace certfleet::dns {

enum class rr_type : std::uint16_t
{
    a = 1,
    ns = 2,
    cname = 5,
    soa = 6,
    ptr = 12,
    mx = 15,
    txt = 16,
    aaaa = 28,
    opt = 41,
    ixfr = 251,
    axfr = 252,
    any = 255,
    caa = 257,
};

inline constexpr std::uint16_t class_in = 1;
inline constexpr std::uint16_t class_any = 255;
inline constexpr std::size_t header_size = 12;

enum class rcode : std::uint8_t
{
    noerror = 0,
    formerr = 1,
    servfail = 2,
    nxdomain = 3,
    notimp = 4,
    refused = 5,
};
// Extended RCODE (RFC 6891 6.1.3): the upper 8 bits travel in the OPT record.
inline constexpr std::uint16_t rcode_badvers = 16;

namespace flag {
inline constexpr std::uint16_t qr = 0x8000;
inline constexpr std::uint16_t aa = 0x0400;
inline constexpr std::uint16_t tc = 0x0200;
inline constexpr std::uint16_t rd = 0x0100;
inline constexpr std::uint16_t ra = 0x0080;
inline constexpr std::uint16_t opcode_mask = 0x7800;
inline constexpr std::uint16_t rcode_mask = 0x000f;
} // namespace flag

struct header
{
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
    std::uint16_t nscount = 0;
    std::uint16_t arcount = 0;

    [[nodiscard]] std::uint8_t opcode() const noexcept
    {
        return static_cast<std::uint8_t>((flags & flag::opcode_mask) >> 11);
    }
    [[nodiscard]] std::uint8_t rcode_bits() const noexcept
    {
        return static_cast<std::uint8_t>(flags & flag::rcode_mask);
    }
};

// A record as read from the wire; rdata points into the message.
struct record_view
{
    wire_name owner;
    rr_type type{};
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::span<const std::uint8_t> rdata;
    std::size_t rdata_offset = 0; // where rdata starts in the message, for names inside it
};

class reader
{
public:
    explicit reader(std::span<const std::uint8_t> message) noexcept : msg_(message) {}

    [[nodiscard]] boost::system::error_code read_header(header& out) noexcept;
    // Reads a possibly compressed name. Pointers must point strictly before the label that
    // holds them, which rules out loops; the expanded name must fit in 255 bytes.
    [[nodiscard]] boost::system::error_code read_name(wire_name& out) noexcept;
    // A name with no compression pointer (questions of queries, names in configuration).
    [[nodiscard]] boost::system::error_code read_uncompressed_name(wire_name& out) noexcept;
    [[nodiscard]] boost::system::error_code read_u16(std::uint16_t& out) noexcept;
    [[nodiscard]] boost::system::error_code read_u32(std::uint32_t& out) noexcept;
    [[nodiscard]] boost::system::error_code read_record(record_view& out) noexcept;
    [[nodiscard]] boost::system::error_code skip(std::size_t n) noexcept;

    // Reads a name that starts at `offset` of the message (inside rdata, say).
    [[nodiscard]] boost::system::error_code
    read_name_at(std::size_t offset, wire_name& out) const noexcept;

    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return msg_.size() - pos_; }
    [[nodiscard]] std::span<const std::uint8_t> message() const noexcept { return msg_; }

private:
    [[nodiscard]] boost::system::error_code
    decode_name(std::size_t& pos, wire_name& out, bool allow_pointers) const noexcept;

    std::span<const std::uint8_t> msg_;
    std::size_t pos_ = 0;
};

// Writes a message into a caller-provided buffer, never past `limit`. A record that does not fit
// is rolled back whole (see checkpoint), so the caller can set TC and stop cleanly.
class writer
{
public:
    writer(std::span<std::uint8_t> buffer, std::size_t limit) noexcept;

    struct checkpoint
    {
        std::size_t pos;
        std::size_t names;
    };

    void write_header(const header& h) noexcept; // at offset 0; always fits (limit >= 12)
    void
    set_counts(std::uint16_t qd, std::uint16_t an, std::uint16_t ns, std::uint16_t ar) noexcept;
    void set_flags(std::uint16_t flags) noexcept;

    // Names are compared case-insensitively for compression; the bytes written keep their case.
    [[nodiscard]] bool write_name(std::string_view wire) noexcept;
    [[nodiscard]] bool write_u8(std::uint8_t v) noexcept;
    [[nodiscard]] bool write_u16(std::uint16_t v) noexcept;
    [[nodiscard]] bool write_u32(std::uint32_t v) noexcept;
    [[nodiscard]] bool write_bytes(std::span<const std::uint8_t> bytes) noexcept;
    [[nodiscard]] bool write_bytes(std::string_view bytes) noexcept;
    // Patches a 16-bit value written earlier (RDLENGTH).
    void patch_u16(std::size_t at, std::uint16_t v) noexcept;

    [[nodiscard]] checkpoint mark() const noexcept { return {pos_, names_}; }
    void rollback(checkpoint c) noexcept
    {
        pos_ = c.pos;
        names_ = c.names;
    }
    void set_limit(std::size_t limit) noexcept;
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
    [[nodiscard]] std::size_t size() const noexcept { return pos_; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept
    {
        return {buf_.data(), pos_};
    }

private:
    [[nodiscard]] bool matches_at(std::size_t offset, std::string_view suffix) const noexcept;

    static constexpr std::size_t max_names = 32;
    std::span<std::uint8_t> buf_;
    std::size_t limit_;
    std::size_t pos_ = 0;
    std::array<std::uint16_t, max_names> name_offsets_{};
    std::size_t names_ = 0;
};

} // namespace certfleet::dns
