#include "deploy/bundle_fields.hpp"

#include <array>
#include <cstdio>
#include <limits>

#include "core/crypto/encoding.hpp"

namespace certfleet::deploy::detail {
namespace {

constexpr std::string_view begin_marker = "-----BEGIN ";
constexpr std::string_view end_marker = "-----END ";
constexpr std::string_view certificate_label = "CERTIFICATE-----";
constexpr std::size_t max_certificates = 16;

bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) noexcept
{
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

} // namespace

std::optional<std::vector<std::string>> pem_certificates(std::string_view pem)
{
    std::vector<std::string> out;
    for (auto at = pem.find(begin_marker); at != std::string_view::npos;
         at = pem.find(begin_marker, at)) {
        at += begin_marker.size();
        if (pem.substr(at, certificate_label.size()) != certificate_label ||
            out.size() == max_certificates) {
            return std::nullopt;
        }
        at += certificate_label.size();
        const auto end = pem.find(end_marker, at);
        if (end == std::string_view::npos ||
            pem.substr(end + end_marker.size(), certificate_label.size()) != certificate_label) {
            return std::nullopt;
        }
        std::string body;
        for (const char c : pem.substr(at, end - at)) {
            if (!is_space(c)) {
                body.push_back(c);
            }
        }
        auto der = core::base64_decode(body);
        if (!der || der->empty()) {
            return std::nullopt;
        }
        out.push_back(std::move(*der));
        at = end + end_marker.size() + certificate_label.size();
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

std::string format_utc(std::chrono::system_clock::time_point t)
{
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day date{day};
    const hh_mm_ss time{secs - day};
    std::array<char, 32> out{};
    const int n = std::snprintf(
        out.data(), out.size(), "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
        static_cast<long long>(time.seconds().count())
    );
    return {out.data(), static_cast<std::size_t>(n)};
}

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text) noexcept
{
    using namespace std::chrono;
    constexpr std::string_view shape = "dddd-dd-ddTdd:dd:ddZ";
    if (text.size() != shape.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] != 'd' && text[i] != shape[i]) {
            return std::nullopt;
        }
    }
    const auto y = digits(text, 0, 4);
    const auto mo = digits(text, 5, 2);
    const auto d = digits(text, 8, 2);
    const auto h = digits(text, 11, 2);
    const auto mi = digits(text, 14, 2);
    const auto s = digits(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *y < 1970 || *h > 23 || *mi > 59 || *s > 59) {
        return std::nullopt;
    }
    const year_month_day date{
        year{*y}, month{static_cast<unsigned>(*mo)}, std::chrono::day{static_cast<unsigned>(*d)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    return time_point_cast<system_clock::duration>(
        sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s}
    );
}

const nlohmann::json*
member(const nlohmann::json& object, const char* name, nlohmann::json::value_t type) noexcept
{
    const auto it = object.find(name);
    if (it == object.end() || it->type() != type) {
        return nullptr;
    }
    return &*it;
}

std::optional<std::string_view>
string_member(const nlohmann::json& object, const char* name) noexcept
{
    const auto* v = member(object, name, nlohmann::json::value_t::string);
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string_view{v->get_ref<const std::string&>()};
}

std::optional<std::int64_t> integer_member(const nlohmann::json& object, const char* name) noexcept
{
    const auto it = object.find(name);
    if (it == object.end()) {
        return std::nullopt;
    }
    if (it->is_number_unsigned()) {
        const auto u = it->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(u);
    }
    if (it->is_number_integer()) {
        return it->get<std::int64_t>();
    }
    return std::nullopt;
}

bool is_lower_hex(std::string_view text, std::size_t size) noexcept
{
    if (text.empty() || (size != 0 && text.size() != size)) {
        return false;
    }
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

} // namespace certfleet::deploy::detail
