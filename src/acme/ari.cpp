#include "acme/ari.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include "acme/errc.hpp"
#include "acme/problem.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"

namespace certfleet::acme {
namespace {

using std::chrono::system_clock;
using value_t = nlohmann::json::value_t;

constexpr std::size_t max_pem_size = std::size_t{1024} * 1024;
constexpr std::size_t max_timestamp_size = 64;
constexpr int min_year = 1970;
constexpr int max_year = 2200; // well inside the ±292 years of a nanosecond time_point

// A cursor over a timestamp; every read checks the bounds. Reads after a failed one are
// harmless, so a caller may check all its results at once.
class reader
{
public:
    explicit reader(std::string_view s) noexcept : s_(s) {}

    [[nodiscard]] bool done() const noexcept { return pos_ == s_.size(); }

    // Consumes the next character when it is one of chars.
    bool one_of(std::string_view chars) noexcept
    {
        if (pos_ < s_.size() && chars.find(s_[pos_]) != std::string_view::npos) {
            ++pos_;
            return true;
        }
        return false;
    }

    // Exactly n digits, then one of the characters of `then` unless it is empty.
    std::optional<int> field(std::size_t n, std::string_view then = {}) noexcept
    {
        if (s_.size() - pos_ < n) {
            return std::nullopt;
        }
        int value = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = s_[pos_ + i];
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            value = value * 10 + (c - '0');
        }
        pos_ += n;
        if (!then.empty() && !one_of(then)) {
            return std::nullopt;
        }
        return value;
    }

    // time-secfrac digits after the ".", in nanoseconds (digits past the ninth are dropped).
    std::optional<std::int64_t> fraction() noexcept
    {
        std::int64_t nanos = 0;
        std::size_t count = 0;
        for (; pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; ++pos_, ++count) {
            if (count < 9) {
                nanos = nanos * 10 + (s_[pos_] - '0');
            }
        }
        if (count == 0) {
            return std::nullopt;
        }
        for (; count < 9; ++count) {
            nanos *= 10;
        }
        return nanos;
    }

    // time-offset = "Z" / ("+" / "-") time-hour ":" time-minute, in minutes east of UTC.
    std::optional<int> offset() noexcept
    {
        if (one_of("Zz")) {
            return 0;
        }
        const bool west = pos_ < s_.size() && s_[pos_] == '-';
        if (!one_of("+-")) {
            return std::nullopt;
        }
        const auto h = field(2, ":");
        const auto m = field(2);
        if (!h || !m || *h > 23 || *m > 59) {
            return std::nullopt;
        }
        return (west ? -1 : 1) * (*h * 60 + *m);
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

} // namespace

std::string
ari_cert_id(std::string_view authority_key_id_raw, std::string_view serial_der_content_raw)
{
    return core::base64url_encode(authority_key_id_raw) + "." +
           core::base64url_encode(serial_der_content_raw);
}

boost::system::result<std::string> ari_cert_id_from_pem(std::string_view leaf_pem) noexcept
{
    if (leaf_pem.size() > max_pem_size) {
        return make_error_code(errc::value_too_large);
    }
    // The PEM is at most 1 MiB: running out of memory here ends the process, as anywhere else.
    const auto chain = core::parse_pem_chain(leaf_pem);
    if (!chain || chain->empty()) {
        return make_error_code(errc::malformed_response);
    }
    const auto& leaf = chain->front();
    if (!leaf.authority_key_id || leaf.authority_key_id->empty()) {
        return make_error_code(errc::missing_field);
    }
    return ari_cert_id(*leaf.authority_key_id, leaf.serial);
}

std::optional<system_clock::time_point> parse_rfc3339(std::string_view text) noexcept
{
    // date-time = full-date "T" full-time (RFC 3339 5.6, which also allows "t", "z", and by
    // its note a space for "T").
    if (text.size() > max_timestamp_size) {
        return std::nullopt;
    }
    reader r(text);
    const auto y = r.field(4, "-");
    const auto mo = r.field(2, "-");
    const auto d = r.field(2, "Tt ");
    const auto h = r.field(2, ":");
    const auto mi = r.field(2, ":");
    const auto s = r.field(2);
    const auto nanos = r.one_of(".") ? r.fraction() : std::optional<std::int64_t>{0};
    const auto offset = r.offset();
    if (!y || !mo || !d || !h || !mi || !s || !nanos || !offset || !r.done()) {
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day date{
        year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    // A leap second (60) is accepted and lands on the next minute's first second.
    if (!date.ok() || *y < min_year || *y > max_year || *h > 23 || *mi > 59 || *s > 60) {
        return std::nullopt;
    }
    const auto local = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s};
    return time_point_cast<system_clock::duration>(local - minutes{*offset} + nanoseconds{*nanos});
}

boost::system::result<renewal_window> parse_renewal_info(std::string_view body) noexcept
{
    auto doc = detail::parse_object(body);
    if (!doc) {
        return doc.error();
    }
    auto window =
        detail::member(*doc, "suggestedWindow", value_t::object, detail::presence::required);
    if (!window) {
        return window.error();
    }
    auto start = detail::string_member(**window, "start", detail::presence::required);
    if (!start) {
        return start.error();
    }
    auto end = detail::string_member(**window, "end", detail::presence::required);
    if (!end) {
        return end.error();
    }
    const auto start_time = parse_rfc3339(**start);
    const auto end_time = parse_rfc3339(**end);
    if (!start_time || !end_time || *end_time <= *start_time) {
        return make_error_code(errc::malformed_response);
    }
    renewal_window out{*start_time, *end_time, std::nullopt};
    if (auto url = detail::string_member(
            *doc, "explanationURL", detail::presence::optional, detail::content::http_url
        )) {
        out.explanation_url = std::move(*url);
    }
    return out;
}

system_clock::time_point pick_renewal_time(const renewal_window& window, double uniform01) noexcept
{
    if (window.end <= window.start) {
        return window.start;
    }
    if (std::isnan(uniform01) || uniform01 < 0.0) {
        uniform01 = 0.0;
    }
    // Unsigned arithmetic: end - start may not fit the signed representation.
    const auto start = static_cast<std::uint64_t>(window.start.time_since_epoch().count());
    const auto span = static_cast<std::uint64_t>(window.end.time_since_epoch().count()) - start;
    const double scaled = static_cast<double>(span) * std::min(uniform01, 1.0);
    auto offset = scaled >= static_cast<double>(span) ? span : static_cast<std::uint64_t>(scaled);
    if (offset >= span) {
        offset = span - 1; // the window is [start, end)
    }
    return system_clock::time_point{
        system_clock::duration{static_cast<system_clock::rep>(start + offset)}};
}

} // namespace certfleet::acme
