#pragma once
// Domain names in wire format (RFC 1035 3.1): a sequence of length-prefixed labels ending with
// the root label. wire_name holds one in a fixed buffer, so decoding a query allocates nothing.

#include <array>
#include <boost/system/result.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace certfleet::dns {

inline constexpr std::size_t max_name_length = 255;
inline constexpr std::size_t max_label_length = 63;

class wire_name
{
public:
    wire_name() noexcept { bytes_[0] = 0; } // the root

    // Appends one label. Precondition: the label fits (checked by the callers that decode).
    [[nodiscard]] bool append_label(std::span<const std::uint8_t> label) noexcept;

    [[nodiscard]] std::span<const std::uint8_t> wire() const noexcept
    {
        return {bytes_.data(), size_ + 1U};
    }
    [[nodiscard]] std::string_view view() const noexcept
    {
        return {reinterpret_cast<const char*>(bytes_.data()), size_ + 1U};
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_ + 1U; }
    [[nodiscard]] bool is_root() const noexcept { return size_ == 0; }

    // The same name with ASCII letters folded to lower case (names compare case-insensitively).
    [[nodiscard]] wire_name lowered() const noexcept;

private:
    std::array<std::uint8_t, max_name_length> bytes_{};
    std::size_t size_ = 0; // bytes before the terminating root label
};

// Parses a presentation-format name ("www.Example.com", final dot optional, "." or "@"-free).
// Supports \DDD and \X escapes. Result is in wire format, case preserved.
[[nodiscard]] boost::system::result<std::string> name_from_text(std::string_view text);

// Same, folded to lower case: the canonical key used for lookups.
[[nodiscard]] boost::system::result<std::string> canonical_name(std::string_view text);

// Presentation form of a wire name, with a final dot; escapes non-printable bytes and dots.
[[nodiscard]] std::string name_to_text(std::string_view wire);

// Folds ASCII upper case to lower case in place.
void lower_ascii(std::span<std::uint8_t> bytes) noexcept;
void lower_ascii(std::string& bytes) noexcept;

// True when `name` equals `apex` or lies below it; both in canonical wire form.
[[nodiscard]] bool is_at_or_below(std::string_view name, std::string_view apex) noexcept;

// Calls f(suffix) for each proper ancestor of `name`, nearest first, down to (excluding) `stop`.
template <class F> void for_each_ancestor(std::string_view name, std::size_t stop_length, F&& f)
{
    while (name.size() > stop_length && name.front() != 0) {
        name.remove_prefix(static_cast<std::uint8_t>(name.front()) + 1U);
        if (name.size() <= stop_length) {
            break;
        }
        f(name);
    }
}

} // namespace certfleet::dns
