#include "acme/http_headers.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "net/http_message.hpp"

namespace certfleet::acme {
namespace {

using namespace std::chrono;

constexpr seconds max_retry_after = hours{24};
constexpr std::size_t max_links = 100;

bool is_ows(char c) noexcept
{
    return c == ' ' || c == '\t';
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// A cursor over one HTTP-date; every read checks the bounds.
class date_reader
{
public:
    explicit date_reader(std::string_view s) noexcept : s_(s) {}

    [[nodiscard]] bool done() const noexcept { return pos_ == s_.size(); }

    bool literal(std::string_view l) noexcept
    {
        if (s_.substr(pos_).starts_with(l)) {
            pos_ += l.size();
            return true;
        }
        return false;
    }

    std::optional<int> number(std::size_t n) noexcept
    {
        if (s_.size() - pos_ < n) {
            return std::nullopt;
        }
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!is_digit(s_[pos_ + i])) {
                return std::nullopt;
            }
            v = v * 10 + (s_[pos_ + i] - '0');
        }
        pos_ += n;
        return v;
    }

    // Index of the first name that matches here (and consumes it), or nullopt.
    template <std::size_t N>
    std::optional<unsigned> one_of(const std::array<std::string_view, N>& names) noexcept
    {
        for (std::size_t i = 0; i < N; ++i) {
            if (literal(names[i])) {
                return static_cast<unsigned>(i);
            }
        }
        return std::nullopt;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

constexpr std::array<std::string_view, 7> day_names{"Mon", "Tue", "Wed", "Thu",
                                                    "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names{
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};
constexpr std::array<std::string_view, 12> month_names{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

struct civil_time
{
    int year = 0;
    unsigned month = 0; // 1..12
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
};

// time-of-day = hour ":" minute ":" second
bool time_of_day(date_reader& r, civil_time& t) noexcept
{
    const auto h = r.number(2);
    const bool colon1 = r.literal(":");
    const auto m = r.number(2);
    const bool colon2 = r.literal(":");
    const auto sec = r.number(2);
    if (!h || !colon1 || !m || !colon2 || !sec) {
        return false;
    }
    t.hour = *h;
    t.minute = *m;
    t.second = *sec;
    return true;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7).
std::optional<civil_time> imf_fixdate(std::string_view s) noexcept
{
    date_reader r(s);
    civil_time t;
    if (!r.one_of(day_names) || !r.literal(", ")) {
        return std::nullopt;
    }
    const auto day = r.number(2);
    if (!day || !r.literal(" ")) {
        return std::nullopt;
    }
    const auto month = r.one_of(month_names);
    if (!month || !r.literal(" ")) {
        return std::nullopt;
    }
    const auto year = r.number(4);
    if (!year || !r.literal(" ") || !time_of_day(r, t) || !r.literal(" GMT") || !r.done()) {
        return std::nullopt;
    }
    t.year = *year;
    t.month = *month + 1;
    t.day = *day;
    return t;
}

// rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years ahead
// of now is in the previous century (RFC 9110 5.6.7).
std::optional<civil_time> rfc850_date(std::string_view s, int current_year) noexcept
{
    date_reader r(s);
    civil_time t;
    if (!r.one_of(long_day_names) || !r.literal(", ")) {
        return std::nullopt;
    }
    const auto day = r.number(2);
    if (!day || !r.literal("-")) {
        return std::nullopt;
    }
    const auto month = r.one_of(month_names);
    if (!month || !r.literal("-")) {
        return std::nullopt;
    }
    const auto yy = r.number(2);
    if (!yy || !r.literal(" ") || !time_of_day(r, t) || !r.literal(" GMT") || !r.done()) {
        return std::nullopt;
    }
    t.year = current_year / 100 * 100 + *yy;
    if (t.year > current_year + 50) {
        t.year -= 100;
    }
    t.month = *month + 1;
    t.day = *day;
    return t;
}

// asctime-date: "Sun Nov  6 08:49:37 1994".
std::optional<civil_time> asctime_date(std::string_view s) noexcept
{
    date_reader r(s);
    civil_time t;
    if (!r.one_of(day_names) || !r.literal(" ")) {
        return std::nullopt;
    }
    const auto month = r.one_of(month_names);
    if (!month || !r.literal(" ")) {
        return std::nullopt;
    }
    std::optional<int> day = r.literal(" ") ? r.number(1) : r.number(2);
    if (!day || !r.literal(" ") || !time_of_day(r, t) || !r.literal(" ")) {
        return std::nullopt;
    }
    const auto year = r.number(4);
    if (!year || !r.done()) {
        return std::nullopt;
    }
    t.year = *year;
    t.month = *month + 1;
    t.day = *day;
    return t;
}

// Seconds since the epoch; nullopt for an impossible date or time (a leap second is allowed).
std::optional<std::int64_t> to_epoch_seconds(const civil_time& t) noexcept
{
    const year_month_day date{year{t.year}, month{t.month}, day{static_cast<unsigned>(t.day)}};
    if (!date.ok() || t.hour > 23 || t.minute > 59 || t.second > 60) {
        return std::nullopt;
    }
    const auto days_since_epoch = sys_days{date}.time_since_epoch().count();
    return std::int64_t{days_since_epoch} * 86400 + std::int64_t{t.hour} * 3600 +
           std::int64_t{t.minute} * 60 + t.second;
}

// Skips to the next comma that separates list elements, past quoted strings and <URLs>.
void skip_list_element(std::string_view v, std::size_t& pos) noexcept
{
    while (pos < v.size() && v[pos] != ',') {
        if (v[pos] == '"') {
            for (++pos; pos < v.size() && v[pos] != '"'; ++pos) {
                if (v[pos] == '\\') {
                    ++pos;
                }
            }
        } else if (v[pos] == '<') {
            while (pos < v.size() && v[pos] != '>') {
                ++pos;
            }
        }
        if (pos < v.size()) {
            ++pos;
        }
    }
}

bool is_tchar(char c) noexcept
{
    static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           specials.find(c) != std::string_view::npos;
}

void skip_ows(std::string_view v, std::size_t& pos) noexcept
{
    while (pos < v.size() && is_ows(v[pos])) {
        ++pos;
    }
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    const auto lower = [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
               return lower(x) == lower(y);
           });
}

// quoted-string (RFC 9110 5.6.4) starting at the opening quote; nullopt when unterminated.
std::optional<std::string> quoted_string(std::string_view v, std::size_t& pos)
{
    std::string value;
    for (++pos; pos < v.size(); ++pos) {
        if (v[pos] == '"') {
            ++pos;
            return value;
        }
        if (v[pos] == '\\' && pos + 1 < v.size()) {
            ++pos;
        }
        value += v[pos];
    }
    return std::nullopt;
}

// A parameter value: a quoted string, or a token by the grammar, read here up to the next
// delimiter so that the common unquoted "type=text/html" does not cost the whole link.
std::optional<std::string> param_value(std::string_view v, std::size_t& pos)
{
    if (pos < v.size() && v[pos] == '"') {
        return quoted_string(v, pos);
    }
    const auto start = pos;
    while (pos < v.size() && v[pos] != ';' && v[pos] != ',' && !is_ows(v[pos])) {
        ++pos;
    }
    return std::string(v.substr(start, pos - start));
}

struct link_param
{
    std::string_view name;
    std::string value;
};

// link-param = token BWS [ "=" BWS ( token / quoted-string ) ], pos just after the ";".
std::optional<link_param> read_link_param(std::string_view v, std::size_t& pos)
{
    skip_ows(v, pos);
    const auto start = pos;
    while (pos < v.size() && is_tchar(v[pos])) {
        ++pos;
    }
    link_param p{v.substr(start, pos - start), {}};
    if (p.name.empty()) {
        return std::nullopt;
    }
    skip_ows(v, pos);
    if (pos < v.size() && v[pos] == '=') {
        ++pos;
        skip_ows(v, pos);
        auto value = param_value(v, pos);
        if (!value) {
            return std::nullopt;
        }
        p.value = std::move(*value);
    }
    return p;
}

// One link-value "<url>" *( OWS ";" OWS link-param ) starting at pos (RFC 8288 3): the URL
// and the first rel parameter's value (3.3: later ones are ignored). pos ends at the comma
// that closes the element, or at the end.
struct parsed_link
{
    std::string_view url;
    std::optional<std::string> rel;
};

std::optional<parsed_link> link_value(std::string_view v, std::size_t& pos)
{
    if (pos >= v.size() || v[pos] != '<') {
        return std::nullopt;
    }
    const auto close = v.find('>', pos);
    if (close == std::string_view::npos) {
        pos = v.size();
        return std::nullopt;
    }
    parsed_link out{v.substr(pos + 1, close - pos - 1), std::nullopt};
    pos = close + 1;
    for (;;) {
        skip_ows(v, pos);
        if (pos == v.size() || v[pos] == ',') {
            return out;
        }
        if (v[pos] != ';') {
            return std::nullopt;
        }
        ++pos;
        auto param = read_link_param(v, pos);
        if (!param) {
            return std::nullopt;
        }
        if (!out.rel && iequals(param->name, "rel")) {
            out.rel = std::move(param->value);
        }
    }
}

bool printable_ascii(std::string_view s) noexcept
{
    return std::all_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20U && static_cast<unsigned char>(c) < 0x7FU;
    });
}

// One link per relation type in rels, which are separated by spaces (RFC 8288 3.3).
void append_rels(std::vector<link>& out, std::string_view url, std::string_view rels)
{
    while (out.size() < max_links) {
        const auto start = rels.find_first_not_of(" \t");
        if (start == std::string_view::npos) {
            return;
        }
        rels.remove_prefix(start);
        const auto end = std::min(rels.find_first_of(" \t"), rels.size());
        std::string rel(rels.substr(0, end));
        rels.remove_prefix(end);
        if (rel.find(':') == std::string::npos) { // a registered name, not an extension URI
            std::transform(rel.begin(), rel.end(), rel.begin(), [](char c) {
                return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
            });
        }
        out.push_back(link{std::string(url), std::move(rel)});
    }
}

// The links of one header value: a comma-separated list of link-values.
void append_links(std::vector<link>& out, std::string_view v)
{
    std::size_t pos = 0;
    while (pos < v.size() && out.size() < max_links) {
        skip_ows(v, pos);
        if (pos < v.size() && v[pos] == ',') {
            ++pos; // empty list elements are allowed (RFC 9110 5.6.1)
            continue;
        }
        const auto parsed = link_value(v, pos);
        if (!parsed) {
            skip_list_element(v, pos);
            continue;
        }
        if (parsed->rel && !parsed->url.empty() && printable_ascii(parsed->url)) {
            append_rels(out, parsed->url, *parsed->rel);
        }
    }
}

} // namespace

std::optional<seconds>
parse_retry_after(std::string_view value, system_clock::time_point now) noexcept
{
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    // delta-seconds = 1*DIGIT; a negative number is read as "now".
    const bool negative = value.front() == '-';
    const auto number = negative ? value.substr(1) : value;
    if (!number.empty() && number.find_first_not_of("0123456789") == std::string_view::npos) {
        if (negative) {
            return seconds{0};
        }
        std::int64_t n = 0;
        for (const char c : number) {
            n = n * 10 + (c - '0');
            if (n > max_retry_after.count()) {
                return max_retry_after;
            }
        }
        return seconds{n};
    }
    const int current_year = static_cast<int>(year_month_day{floor<days>(now)}.year());
    auto t = imf_fixdate(value);
    if (!t) {
        t = rfc850_date(value, current_year);
    }
    if (!t) {
        t = asctime_date(value);
    }
    if (!t) {
        return std::nullopt;
    }
    const auto at = to_epoch_seconds(*t);
    if (!at) {
        return std::nullopt;
    }
    // The date has whole seconds, so ceil(at - now) is at - floor(now).
    const auto delta = *at - floor<seconds>(now).time_since_epoch().count();
    if (delta <= 0) {
        return seconds{0};
    }
    return delta > max_retry_after.count() ? max_retry_after : seconds{delta};
}

std::vector<link> parse_link_headers(const std::vector<std::string_view>& values)
{
    std::vector<link> out;
    for (const auto v : values) {
        append_links(out, v);
    }
    return out;
}

std::optional<std::chrono::seconds>
retry_after_of(const net::http_response& r, std::chrono::system_clock::time_point now)
{
    if (auto value = r.header("Retry-After")) {
        return parse_retry_after(*value, now);
    }
    return std::nullopt;
}

} // namespace certfleet::acme
