#include "dns/rdata.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <vector>

#include "dns/errc.hpp"

namespace certfleet::dns {
namespace {

struct type_name
{
    rr_type type;
    std::string_view text;
};

constexpr std::array<type_name, 9> served_types{{
    {rr_type::a, "A"},
    {rr_type::ns, "NS"},
    {rr_type::cname, "CNAME"},
    {rr_type::soa, "SOA"},
    {rr_type::mx, "MX"},
    {rr_type::txt, "TXT"},
    {rr_type::aaaa, "AAAA"},
    {rr_type::caa, "CAA"},
    {rr_type::ptr, "PTR"},
}};

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<char>(std::toupper(static_cast<unsigned char>(a[i])));
        if (x != b[i]) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// Splits presentation text into words; quoted strings are one word (quotes removed, escapes
// unescaped). Returns nothing on an unterminated quote.
std::optional<std::vector<std::string>> words(std::string_view text)
{
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '\t') {
            ++i;
            continue;
        }
        std::string word;
        if (text[i] == '"') {
            ++i;
            bool closed = false;
            while (i < text.size()) {
                if (text[i] == '\\' && i + 1 < text.size()) {
                    word.push_back(text[i + 1]);
                    i += 2;
                    continue;
                }
                if (text[i] == '"') {
                    closed = true;
                    ++i;
                    break;
                }
                word.push_back(text[i++]);
            }
            if (!closed) {
                return std::nullopt;
            }
        } else {
            while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
                word.push_back(text[i++]);
            }
        }
        out.push_back(std::move(word));
    }
    return out;
}

template <class T> std::optional<T> parse_number(std::string_view s) noexcept
{
    T v{};
    const auto* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, v);
    if (ec != std::errc{} || p != end) {
        return std::nullopt;
    }
    return v;
}

void append_u16(std::string& out, std::uint16_t v)
{
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

} // namespace

std::optional<rr_type> type_from_text(std::string_view text) noexcept
{
    for (const auto& t : served_types) {
        if (iequals(text, t.text)) {
            return t.type;
        }
    }
    return std::nullopt;
}

std::string_view type_to_text(rr_type type) noexcept
{
    for (const auto& t : served_types) {
        if (t.type == type) {
            return t.text;
        }
    }
    return "TYPE?";
}

boost::system::result<std::string> resolve_name(std::string_view text, std::string_view origin)
{
    text = trim(text);
    if (text == "@") {
        return std::string(origin);
    }
    auto wire = canonical_name(text);
    if (!wire) {
        return wire;
    }
    if (text.back() == '.') {
        return wire;
    }
    wire->pop_back(); // drop the root label, then append the origin
    *wire += origin;
    if (wire->size() > max_name_length) {
        return errc::name_too_long;
    }
    return wire;
}

std::string txt_rdata(std::string_view value)
{
    std::string out;
    do {
        const auto chunk = value.substr(0, 255);
        out.push_back(static_cast<char>(chunk.size()));
        out += chunk;
        value.remove_prefix(chunk.size());
    } while (!value.empty());
    return out;
}

boost::system::result<std::string>
encode_rdata(rr_type type, std::string_view text, std::string_view origin)
{
    text = trim(text);
    switch (type) {
    case rr_type::a:
    case rr_type::aaaa: {
        std::array<unsigned char, 16> addr{};
        const int family = type == rr_type::a ? AF_INET : AF_INET6;
        if (::inet_pton(family, std::string(text).c_str(), addr.data()) != 1) {
            return errc::invalid_record;
        }
        return std::string(
            reinterpret_cast<const char*>(addr.data()), type == rr_type::a ? 4U : 16U
        );
    }
    case rr_type::ns:
    case rr_type::cname:
    case rr_type::ptr:
        return resolve_name(text, origin);
    case rr_type::mx: {
        auto w = words(text);
        if (!w || w->size() != 2) {
            return errc::invalid_record;
        }
        auto pref = parse_number<std::uint16_t>((*w)[0]);
        auto exchange = resolve_name((*w)[1], origin);
        if (!pref || !exchange) {
            return errc::invalid_record;
        }
        std::string out;
        append_u16(out, *pref);
        return out + *exchange;
    }
    case rr_type::txt: {
        auto w = words(text);
        if (!w || w->empty()) {
            return errc::invalid_record;
        }
        std::string out;
        for (const auto& s : *w) {
            if (s.size() > 255) {
                return errc::value_too_long;
            }
            out.push_back(static_cast<char>(s.size()));
            out += s;
        }
        return out;
    }
    case rr_type::caa: {
        auto w = words(text);
        if (!w || w->size() != 3) {
            return errc::invalid_record;
        }
        auto flags = parse_number<std::uint8_t>((*w)[0]);
        const auto& tag = (*w)[1];
        if (!flags || tag.empty() || tag.size() > 255) {
            return errc::invalid_record;
        }
        std::string out;
        out.push_back(static_cast<char>(*flags));
        out.push_back(static_cast<char>(tag.size()));
        return out + tag + (*w)[2];
    }
    default:
        return errc::invalid_record;
    }
}

} // namespace certfleet::dns
