#include "acme/problem.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "acme/errc.hpp"

namespace certfleet::acme {
namespace {

constexpr std::string_view acme_error_prefix = "urn:ietf:params:acme:error:";
constexpr std::string_view about_blank = "about:blank";
constexpr std::size_t max_type_size = 1024;
constexpr std::size_t max_subproblems = 100;
constexpr std::size_t max_raw_detail = 256; // bytes of a non-JSON error body kept as detail
constexpr std::size_t max_summary = std::size_t{8} * 1024;

// Cuts s to at most max bytes without splitting a UTF-8 sequence.
void truncate_utf8(std::string& s, std::size_t max)
{
    if (s.size() <= max) {
        return;
    }
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    s.resize(cut);
}

void append_hex_escape(std::string& out, char prefix, std::uint32_t value, int digits)
{
    static constexpr std::string_view hex = "0123456789abcdef";
    out += '\\';
    out += prefix;
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += hex[(value >> static_cast<unsigned>(shift)) & 0xFU];
    }
}

// The code point of the well-formed UTF-8 sequence at s[i], and its length; length 0 when the
// bytes there are not well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
struct decoded
{
    std::uint32_t code_point = 0;
    std::size_t length = 0;
};

decoded decode_utf8(std::string_view s, std::size_t i) noexcept
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned lead = byte(i);
    std::size_t length = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (lead >= 0xC2U && lead <= 0xDFU) {
        length = 2;
        cp = lead & 0x1FU;
        min = 0x80;
    } else if (lead >= 0xE0U && lead <= 0xEFU) {
        length = 3;
        cp = lead & 0x0FU;
        min = 0x800;
    } else if (lead >= 0xF0U && lead <= 0xF4U) {
        length = 4;
        cp = lead & 0x07U;
        min = 0x10000;
    } else {
        return {};
    }
    if (s.size() - i < length) {
        return {};
    }
    for (std::size_t k = 1; k < length; ++k) {
        const unsigned next = byte(i + k);
        if ((next & 0xC0U) != 0x80U) {
            return {};
        }
        cp = (cp << 6U) | (next & 0x3FU);
    }
    if (cp < min || cp > 0x10FFFFU || (cp >= 0xD800U && cp <= 0xDFFFU)) {
        return {};
    }
    return {cp, length};
}

// Characters that can change how a log line or a terminal reads: C1 controls, line and
// paragraph separators, bidirectional embeddings, overrides and isolates, the BOM.
bool dangerous_code_point(std::uint32_t cp) noexcept
{
    return (cp >= 0x80U && cp <= 0x9FU) || cp == 0x200EU || cp == 0x200FU ||
           (cp >= 0x2028U && cp <= 0x202EU) || (cp >= 0x2066U && cp <= 0x2069U) || cp == 0xFEFFU;
}

// Appends s with everything that is not plain printable text escaped (see problem::summary).
void append_escaped(std::string& out, std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20U && c < 0x7FU) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c == '\n') {
            out += "\\n";
            ++i;
            continue;
        }
        if (c == '\r') {
            out += "\\r";
            ++i;
            continue;
        }
        if (c == '\t') {
            out += "\\t";
            ++i;
            continue;
        }
        if (c < 0x80U) {
            append_hex_escape(out, 'x', c, 2);
            ++i;
            continue;
        }
        const auto d = decode_utf8(s, i);
        if (d.length == 0) {
            append_hex_escape(out, 'x', c, 2);
            ++i;
            continue;
        }
        if (dangerous_code_point(d.code_point)) {
            append_hex_escape(out, 'u', d.code_point, 4);
        } else {
            out.append(s.substr(i, d.length));
        }
        i += d.length;
    }
}

std::string_view short_name(std::string_view type) noexcept
{
    if (type.empty()) {
        return about_blank;
    }
    if (type.starts_with(acme_error_prefix) && type.size() > acme_error_prefix.size()) {
        type.remove_prefix(acme_error_prefix.size());
    }
    return type;
}

// A string member, cut to max bytes; empty when absent or not a string.
std::string lenient_string(const nlohmann::json& obj, std::string_view key, std::size_t max)
{
    const auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) {
        return {};
    }
    std::string s = it->get_ref<const std::string&>();
    truncate_utf8(s, max);
    return s;
}

std::string raw_body_detail(std::string_view body)
{
    std::string head(body.substr(0, max_raw_detail));
    truncate_utf8(head, max_raw_detail);
    std::string out;
    append_escaped(out, head);
    if (body.size() > head.size()) {
        out += "...";
    }
    return out;
}

bool ascii_printable_uri_char(unsigned char c) noexcept
{
    static constexpr std::string_view forbidden = "\"<>\\^`{|}";
    return c > 0x20U && c < 0x7FU && forbidden.find(static_cast<char>(c)) == std::string_view::npos;
}

bool iequals_prefix(std::string_view s, std::string_view lower_prefix) noexcept
{
    if (s.size() < lower_prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<unsigned char>(c - 'A' + 'a');
        }
        if (c != static_cast<unsigned char>(lower_prefix[i])) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string_view registered_short_type(std::string_view type) noexcept
{
    // RFC 8555 6.7 (and errata), RFC 9773 7.4 (alreadyReplaced), the profiles draft
    // (invalidProfile); sorted for the binary search.
    static constexpr std::array<std::string_view, 26> registered{
        "accountDoesNotExist",
        "alreadyReplaced",
        "alreadyRevoked",
        "badCSR",
        "badNonce",
        "badPublicKey",
        "badRevocationReason",
        "badSignatureAlgorithm",
        "caa",
        "compound",
        "connection",
        "dns",
        "externalAccountRequired",
        "incorrectResponse",
        "invalidContact",
        "invalidProfile",
        "malformed",
        "orderNotReady",
        "rateLimited",
        "rejectedIdentifier",
        "serverInternal",
        "tls",
        "unauthorized",
        "unsupportedContact",
        "unsupportedIdentifier",
        "userActionRequired",
    };
    if (!type.starts_with(acme_error_prefix)) {
        return "other";
    }
    const auto name = type.substr(acme_error_prefix.size());
    const auto it = std::lower_bound(registered.begin(), registered.end(), name);
    return it != registered.end() && *it == name ? *it : std::string_view("other");
}

bool problem::is(std::string_view acme_type) const noexcept
{
    if (acme_type.empty()) {
        return false;
    }
    if (type == acme_type) {
        return true;
    }
    const std::string_view t = type;
    return t.size() == acme_error_prefix.size() + acme_type.size() &&
           t.starts_with(acme_error_prefix) && t.ends_with(acme_type);
}

std::string problem::summary() const
{
    std::string out;
    append_escaped(out, short_name(type));
    if (status != 0) {
        out += " (HTTP " + std::to_string(status) + ")";
    }
    if (!detail.empty()) {
        out += ": ";
        append_escaped(out, detail);
    }
    for (const auto& sub : subproblems) {
        if (out.size() > max_summary) {
            break;
        }
        out += "; ";
        if (!sub.identifier_value.empty()) {
            append_escaped(out, sub.identifier_value);
            out += ": ";
        }
        append_escaped(out, short_name(sub.type));
        if (!sub.detail.empty()) {
            out += ": ";
            append_escaped(out, sub.detail);
        }
    }
    if (out.size() > max_summary) {
        truncate_utf8(out, max_summary - 3);
        out += "...";
    }
    return out;
}

std::optional<problem> parse_problem(std::string_view body, unsigned http_status) noexcept
{
    const bool error_status = http_status >= 400;
    auto doc = detail::parse_object(body);
    if (doc) {
        if (!error_status) {
            const auto it = doc->find("type");
            if (it == doc->end() || !it->is_string() ||
                !std::string_view(it->get_ref<const std::string&>())
                     .starts_with(acme_error_prefix)) {
                return std::nullopt;
            }
        }
        auto p = detail::problem_from_json(*doc, http_status);
        if (p.detail.empty() && p.type == about_blank) {
            p.detail = raw_body_detail(body); // an error body without type or detail: show it
        }
        return p;
    }
    if (!error_status) {
        return std::nullopt;
    }
    problem p;
    p.type = about_blank;
    p.status = static_cast<int>(std::min(http_status, 999U));
    p.detail = raw_body_detail(body);
    return p;
}

namespace detail {

bool nesting_within(std::string_view text, std::size_t limit) noexcept
{
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i; // the escaped character cannot end the string
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) {
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

boost::system::result<nlohmann::json> parse_object(std::string_view body) noexcept
{
    if (body.size() > max_body_size || !nesting_within(body, max_nesting)) {
        return make_error_code(errc::value_too_large);
    }
    auto doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return make_error_code(errc::malformed_response);
    }
    return doc;
}

bool is_http_url(std::string_view s) noexcept
{
    std::size_t scheme = 0;
    if (iequals_prefix(s, "https://")) {
        scheme = 8;
    } else if (iequals_prefix(s, "http://")) {
        scheme = 7;
    } else {
        return false;
    }
    if (!std::all_of(s.begin(), s.end(), [](char c) {
            return ascii_printable_uri_char(static_cast<unsigned char>(c));
        })) {
        return false;
    }
    std::string_view authority = s.substr(scheme);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    return !authority.empty() && authority.front() != ':';
}

boost::system::result<const nlohmann::json*> member(
    const nlohmann::json& obj, std::string_view key, nlohmann::json::value_t type, presence p
) noexcept
{
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        if (p == presence::required) {
            return make_error_code(errc::missing_field);
        }
        return nullptr;
    }
    // nlohmann tells signed, unsigned and floating-point numbers apart; callers here ask for
    // strings, booleans, arrays and objects only.
    if (it->type() != type) {
        return make_error_code(errc::malformed_response);
    }
    return &*it;
}

namespace {

boost::system::result<std::string> checked_string(const nlohmann::json& value, content c) noexcept
{
    if (!value.is_string()) {
        return make_error_code(errc::malformed_response);
    }
    const auto& s = value.get_ref<const std::string&>();
    if (s.size() > max_string_size) {
        return make_error_code(errc::value_too_large);
    }
    if (c == content::http_url && !is_http_url(s)) {
        return make_error_code(errc::malformed_response);
    }
    return s;
}

} // namespace

boost::system::result<std::optional<std::string>>
string_member(const nlohmann::json& obj, std::string_view key, presence p, content c) noexcept
{
    auto m = member(obj, key, nlohmann::json::value_t::string, p);
    if (!m) {
        return m.error();
    }
    if (*m == nullptr) {
        return std::optional<std::string>{};
    }
    auto s = checked_string(**m, c);
    if (!s) {
        return s.error();
    }
    if (p == presence::required && s->empty()) {
        return make_error_code(errc::malformed_response);
    }
    return std::optional<std::string>{std::move(*s)};
}

boost::system::result<std::vector<std::string>> string_array_member(
    const nlohmann::json& obj, std::string_view key, std::size_t max_items, presence p, content c
) noexcept
{
    auto m = member(obj, key, nlohmann::json::value_t::array, p);
    if (!m) {
        return m.error();
    }
    std::vector<std::string> out;
    if (*m == nullptr) {
        return out;
    }
    if ((*m)->size() > max_items) {
        return make_error_code(errc::value_too_large);
    }
    out.reserve((*m)->size());
    for (const auto& element : **m) {
        auto s = checked_string(element, c);
        if (!s) {
            return s.error();
        }
        out.push_back(std::move(*s));
    }
    return out;
}

problem problem_from_json(const nlohmann::json& obj, unsigned http_status) noexcept
{
    problem p;
    p.type = lenient_string(obj, "type", max_type_size);
    if (p.type.empty()) {
        p.type = about_blank;
    }
    p.detail = lenient_string(obj, "detail", max_string_size);
    if (p.detail.empty()) {
        p.detail = lenient_string(obj, "title", max_string_size); // RFC 7807 3.1
    }
    if (http_status != 0) {
        p.status = static_cast<int>(std::min(http_status, 999U));
    } else if (const auto it = obj.find("status"); it != obj.end() && it->is_number_integer()) {
        const auto value = it->get<std::int64_t>();
        p.status = value >= 100 && value <= 599 ? static_cast<int>(value) : 0;
    }
    const auto subs = obj.find("subproblems");
    if (subs == obj.end() || !subs->is_array()) {
        return p;
    }
    for (const auto& s : *subs) {
        if (p.subproblems.size() == max_subproblems) {
            break;
        }
        if (!s.is_object()) {
            continue;
        }
        subproblem sub;
        sub.type = lenient_string(s, "type", max_type_size);
        sub.detail = lenient_string(s, "detail", max_string_size);
        if (const auto id = s.find("identifier"); id != s.end() && id->is_object()) {
            sub.identifier_type = lenient_string(*id, "type", max_type_size);
            sub.identifier_value = lenient_string(*id, "value", max_string_size);
        }
        p.subproblems.push_back(std::move(sub));
    }
    return p;
}

} // namespace detail
} // namespace certfleet::acme
