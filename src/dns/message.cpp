#include "dns/message.hpp"

#include <algorithm>
#include <cstring>

#include "dns/errc.hpp"

namespace certfleet::dns {

namespace {
constexpr std::uint8_t pointer_bits = 0xC0;
// A 255-byte name has at most 127 labels, so a valid name never needs more hops than that.
constexpr int max_pointer_hops = 127;

[[nodiscard]] bool equal_label_nocase(const std::uint8_t* a, const char* b, std::size_t n) noexcept
{
    for (std::size_t i = 0; i < n; ++i) {
        auto x = a[i];
        auto y = static_cast<std::uint8_t>(b[i]);
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<std::uint8_t>(x + 32);
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<std::uint8_t>(y + 32);
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}
} // namespace

boost::system::error_code reader::read_header(header& out) noexcept
{
    if (msg_.size() < header_size) {
        return errc::truncated;
    }
    auto u16 = [&](std::size_t at) {
        return static_cast<std::uint16_t>((msg_[at] << 8) | msg_[at + 1]);
    };
    out.id = u16(0);
    out.flags = u16(2);
    out.qdcount = u16(4);
    out.ancount = u16(6);
    out.nscount = u16(8);
    out.arcount = u16(10);
    pos_ = header_size;
    return {};
}

boost::system::error_code
reader::decode_name(std::size_t& pos, wire_name& out, bool allow_pointers) const noexcept
{
    out = wire_name{};
    std::size_t cursor = pos;
    std::size_t segment_start = pos;
    bool jumped = false;
    int hops = 0;
    std::size_t wire_length = 1;
    for (;;) {
        if (cursor >= msg_.size()) {
            return errc::truncated;
        }
        const std::uint8_t len = msg_[cursor];
        if ((len & pointer_bits) == pointer_bits) {
            if (!allow_pointers) {
                return errc::bad_pointer;
            }
            if (cursor + 1 >= msg_.size()) {
                return errc::truncated;
            }
            const std::size_t target =
                static_cast<std::size_t>((len & 0x3F) << 8) | msg_[cursor + 1];
            if (target >= segment_start) {
                return errc::bad_pointer;
            }
            if (++hops > max_pointer_hops) {
                return errc::too_many_pointers;
            }
            if (!jumped) {
                pos = cursor + 2;
                jumped = true;
            }
            cursor = target;
            segment_start = target;
            continue;
        }
        if ((len & pointer_bits) != 0) {
            return errc::bad_label; // 0x40 and 0x80 label types are obsolete (RFC 6891 5)
        }
        if (len == 0) {
            if (!jumped) {
                pos = cursor + 1;
            }
            return {};
        }
        if (cursor + 1 + len > msg_.size()) {
            return errc::truncated;
        }
        wire_length += 1U + len;
        if (wire_length > max_name_length) {
            return errc::name_too_long;
        }
        if (!out.append_label(msg_.subspan(cursor + 1, len))) {
            return errc::name_too_long;
        }
        cursor += 1U + len;
    }
}

boost::system::error_code reader::read_name(wire_name& out) noexcept
{
    return decode_name(pos_, out, true);
}

boost::system::error_code reader::read_uncompressed_name(wire_name& out) noexcept
{
    return decode_name(pos_, out, false);
}

boost::system::error_code reader::read_name_at(std::size_t offset, wire_name& out) const noexcept
{
    return decode_name(offset, out, true);
}

boost::system::error_code reader::read_u16(std::uint16_t& out) noexcept
{
    if (remaining() < 2) {
        return errc::truncated;
    }
    out = static_cast<std::uint16_t>((msg_[pos_] << 8) | msg_[pos_ + 1]);
    pos_ += 2;
    return {};
}

boost::system::error_code reader::read_u32(std::uint32_t& out) noexcept
{
    if (remaining() < 4) {
        return errc::truncated;
    }
    out = (std::uint32_t{msg_[pos_]} << 24) | (std::uint32_t{msg_[pos_ + 1]} << 16) |
          (std::uint32_t{msg_[pos_ + 2]} << 8) | std::uint32_t{msg_[pos_ + 3]};
    pos_ += 4;
    return {};
}

boost::system::error_code reader::skip(std::size_t n) noexcept
{
    if (remaining() < n) {
        return errc::truncated;
    }
    pos_ += n;
    return {};
}

boost::system::error_code reader::read_record(record_view& out) noexcept
{
    std::uint16_t type = 0;
    std::uint16_t rdlength = 0;
    if (auto ec = read_name(out.owner)) {
        return ec;
    }
    if (auto ec = read_u16(type)) {
        return ec;
    }
    out.type = static_cast<rr_type>(type);
    if (auto ec = read_u16(out.klass)) {
        return ec;
    }
    if (auto ec = read_u32(out.ttl)) {
        return ec;
    }
    if (auto ec = read_u16(rdlength)) {
        return ec;
    }
    if (remaining() < rdlength) {
        return errc::truncated;
    }
    out.rdata_offset = pos_;
    out.rdata = msg_.subspan(pos_, rdlength);
    pos_ += rdlength;
    return {};
}

writer::writer(std::span<std::uint8_t> buffer, std::size_t limit) noexcept
    : buf_(buffer), limit_(std::min(limit, buffer.size()))
{}

void writer::set_limit(std::size_t limit) noexcept
{
    limit_ = std::min(limit, buf_.size());
}

void writer::write_header(const header& h) noexcept
{
    pos_ = 0;
    names_ = 0;
    (void)write_u16(h.id);
    (void)write_u16(h.flags);
    (void)write_u16(h.qdcount);
    (void)write_u16(h.ancount);
    (void)write_u16(h.nscount);
    (void)write_u16(h.arcount);
}

void writer::set_flags(std::uint16_t flags) noexcept
{
    patch_u16(2, flags);
}

void writer::set_counts(
    std::uint16_t qd, std::uint16_t an, std::uint16_t ns, std::uint16_t ar
) noexcept
{
    patch_u16(4, qd);
    patch_u16(6, an);
    patch_u16(8, ns);
    patch_u16(10, ar);
}

void writer::patch_u16(std::size_t at, std::uint16_t v) noexcept
{
    buf_[at] = static_cast<std::uint8_t>(v >> 8);
    buf_[at + 1] = static_cast<std::uint8_t>(v);
}

bool writer::write_u8(std::uint8_t v) noexcept
{
    if (pos_ + 1 > limit_) {
        return false;
    }
    buf_[pos_++] = v;
    return true;
}

bool writer::write_u16(std::uint16_t v) noexcept
{
    if (pos_ + 2 > limit_) {
        return false;
    }
    buf_[pos_] = static_cast<std::uint8_t>(v >> 8);
    buf_[pos_ + 1] = static_cast<std::uint8_t>(v);
    pos_ += 2;
    return true;
}

bool writer::write_u32(std::uint32_t v) noexcept
{
    if (pos_ + 4 > limit_) {
        return false;
    }
    return write_u16(static_cast<std::uint16_t>(v >> 16)) &&
           write_u16(static_cast<std::uint16_t>(v));
}

bool writer::write_bytes(std::span<const std::uint8_t> bytes) noexcept
{
    if (pos_ + bytes.size() > limit_) {
        return false;
    }
    std::copy(bytes.begin(), bytes.end(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ += bytes.size();
    return true;
}

bool writer::write_bytes(std::string_view bytes) noexcept
{
    return write_bytes(std::span{reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}
    );
}

// True when the name stored at `offset` (following pointers we wrote ourselves) equals `suffix`.
bool writer::matches_at(std::size_t offset, std::string_view suffix) const noexcept
{
    std::size_t s = 0;
    for (int hops = 0; hops < max_pointer_hops;) {
        // A name being written may be registered before its end is: never read past pos_
        // (a name compared with its own prefix would otherwise read stale buffer bytes).
        if (offset >= pos_) {
            return false;
        }
        const std::uint8_t len = buf_[offset];
        if ((len & pointer_bits) == pointer_bits) {
            offset = static_cast<std::size_t>((len & 0x3F) << 8) | buf_[offset + 1];
            ++hops;
            continue;
        }
        if (s >= suffix.size() || static_cast<std::uint8_t>(suffix[s]) != len) {
            return false;
        }
        if (len == 0) {
            return true;
        }
        if (offset + 1U + len > pos_) {
            return false;
        }
        // Byte-equal first: most repeated names are copies of the question, case and all.
        if (std::memcmp(&buf_[offset + 1], &suffix[s + 1], len) != 0 &&
            !equal_label_nocase(&buf_[offset + 1], &suffix[s + 1], len)) {
            return false;
        }
        offset += 1U + len;
        s += 1U + len;
    }
    return false;
}

bool writer::write_name(std::string_view wire) noexcept
{
    while (!wire.empty() && wire.front() != 0) {
        for (std::size_t i = 0; i < names_; ++i) {
            if (matches_at(name_offsets_[i], wire)) {
                return write_u16(static_cast<std::uint16_t>(0xC000U | name_offsets_[i]));
            }
        }
        const auto label_length = static_cast<std::uint8_t>(wire.front());
        if (label_length + 1U > wire.size()) {
            return false; // a malformed name never reaches the wire
        }
        const std::size_t here = pos_;
        if (!write_bytes(wire.substr(0, label_length + 1U))) {
            return false;
        }
        if (here < 0x4000 && names_ < max_names) {
            name_offsets_[names_++] = static_cast<std::uint16_t>(here);
        }
        wire.remove_prefix(label_length + 1U);
    }
    return write_u8(0);
}

} // namespace certfleet::dns
