#include "dns/name.hpp"

#include <algorithm>

#include "dns/errc.hpp"

namespace certfleet::dns {

bool wire_name::append_label(std::span<const std::uint8_t> label) noexcept
{
    if (label.empty() || label.size() > max_label_length ||
        size_ + 1 + label.size() + 1 > max_name_length) {
        return false;
    }
    bytes_[size_] = static_cast<std::uint8_t>(label.size());
    std::copy(label.begin(), label.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(size_ + 1));
    size_ += label.size() + 1;
    bytes_[size_] = 0;
    return true;
}

wire_name wire_name::lowered() const noexcept
{
    wire_name copy = *this;
    lower_ascii(std::span{copy.bytes_.data(), copy.size_});
    return copy;
}

void lower_ascii(std::span<std::uint8_t> bytes) noexcept
{
    for (auto& b : bytes) {
        if (b >= 'A' && b <= 'Z') {
            b = static_cast<std::uint8_t>(b + ('a' - 'A'));
        }
    }
}

void lower_ascii(std::string& bytes) noexcept
{
    lower_ascii(std::span{reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()});
}

boost::system::result<std::string> name_from_text(std::string_view text)
{
    if (text.empty()) {
        return errc::invalid_name;
    }
    if (text == ".") {
        return std::string(1, '\0');
    }
    std::string wire;
    std::string label;
    auto finish_label = [&]() -> bool {
        if (label.empty() || label.size() > max_label_length) {
            return false;
        }
        wire.push_back(static_cast<char>(label.size()));
        wire += label;
        label.clear();
        return true;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.') {
            if (!finish_label()) {
                return errc::invalid_name;
            }
            continue;
        }
        if (c != '\\') {
            label.push_back(c);
            continue;
        }
        if (i + 1 >= text.size()) {
            return errc::invalid_name;
        }
        if (text[i + 1] >= '0' && text[i + 1] <= '9') {
            const auto d = text.substr(i + 1, 3);
            if (d.size() != 3 ||
                !std::all_of(d.begin(), d.end(), [](char x) { return x >= '0' && x <= '9'; })) {
                return errc::invalid_name;
            }
            const int v = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
            if (v > 255) {
                return errc::invalid_name;
            }
            label.push_back(static_cast<char>(v));
            i += 3;
            continue;
        }
        label.push_back(text[++i]);
    }
    if (!label.empty() && !finish_label()) {
        return errc::invalid_name;
    }
    if (wire.size() + 1 > max_name_length) {
        return errc::name_too_long;
    }
    wire.push_back('\0');
    return wire;
}

boost::system::result<std::string> canonical_name(std::string_view text)
{
    auto wire = name_from_text(text);
    if (wire) {
        lower_ascii(*wire);
    }
    return wire;
}

std::string name_to_text(std::string_view wire)
{
    std::string text;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        const auto len = static_cast<std::uint8_t>(wire[pos]);
        if (len == 0 || pos + 1 + len > wire.size()) {
            break;
        }
        for (const char ch : wire.substr(pos + 1, len)) {
            const auto u = static_cast<unsigned char>(ch);
            if (ch == '.' || ch == '\\') {
                text.push_back('\\');
                text.push_back(ch);
            } else if (u <= 0x20 || u >= 0x7f) {
                static constexpr char digits[] = "0123456789";
                text.push_back('\\');
                text.push_back(digits[u / 100]);
                text.push_back(digits[(u / 10) % 10]);
                text.push_back(digits[u % 10]);
            } else {
                text.push_back(ch);
            }
        }
        text.push_back('.');
        pos += 1U + len;
    }
    return text.empty() ? "." : text;
}

bool is_at_or_below(std::string_view name, std::string_view apex) noexcept
{
    if (name.size() < apex.size()) {
        return false;
    }
    // Walk label boundaries so that "xexample.com" does not match "example.com".
    while (name.size() > apex.size()) {
        name.remove_prefix(static_cast<std::uint8_t>(name.front()) + 1U);
    }
    return name == apex;
}

} // namespace certfleet::dns
