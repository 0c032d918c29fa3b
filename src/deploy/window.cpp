#include "deploy/window.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

using std::chrono::minutes;
using local_minutes = date::local_time<minutes>;
using sys_minutes = date::sys_time<minutes>;

constexpr std::array<std::string_view, 7> day_names{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
constexpr unsigned all_days = 0x7f;
constexpr minutes one_day{24 * 60};

bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::vector<std::string_view> split_words(std::string_view text)
{
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
        const auto begin = i;
        while (i < text.size() && !is_space(text[i])) {
            ++i;
        }
        if (i > begin) {
            words.push_back(text.substr(begin, i - begin));
        }
    }
    return words;
}

std::vector<std::string_view> split(std::string_view text, char separator)
{
    std::vector<std::string_view> parts;
    std::size_t begin = 0;
    for (auto at = text.find(separator); at != std::string_view::npos;
         at = text.find(separator, begin)) {
        parts.push_back(text.substr(begin, at - begin));
        begin = at + 1;
    }
    parts.push_back(text.substr(begin));
    return parts;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::optional<unsigned> day_index(std::string_view name) noexcept
{
    for (unsigned i = 0; i < day_names.size(); ++i) {
        if (iequals(name, day_names[i])) {
            return i;
        }
    }
    return std::nullopt;
}

// "daily", "Sun", "Mon-Fri", "Fri-Mon" (wrapping past Saturday), "Sat,Sun,Wed"; 0 when invalid.
unsigned parse_days(std::string_view text)
{
    if (iequals(text, "daily")) {
        return all_days;
    }
    unsigned days = 0;
    for (const auto item : split(text, ',')) {
        const auto dash = item.find('-');
        const auto first = day_index(item.substr(0, dash));
        const auto last = dash == std::string_view::npos ? first : day_index(item.substr(dash + 1));
        if (!first || !last) {
            return 0;
        }
        for (unsigned d = *first;; d = (d + 1) % 7) {
            days |= 1U << d;
            if (d == *last) {
                break;
            }
        }
    }
    return days;
}

// "HH:MM", exactly two digits each; 24:00 only when `end`.
std::optional<minutes> parse_clock(std::string_view text, bool end) noexcept
{
    const auto is_digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    if (text.size() != 5 || text[2] != ':' || !is_digit(0) || !is_digit(1) || !is_digit(3) ||
        !is_digit(4)) {
        return std::nullopt;
    }
    const auto digit = [&](std::size_t i) { return static_cast<int>(text[i] - '0'); };
    const auto hours = digit(0) * 10 + digit(1);
    const auto mins = digit(3) * 10 + digit(4);
    if (mins > 59 || hours > 24 || (hours == 24 && (!end || mins != 0))) {
        return std::nullopt;
    }
    return minutes{hours * 60 + mins};
}

// Null for UTC (so that UTC needs no time-zone database); throws when the zone is unknown.
const date::time_zone* zone_of(const std::string& name)
{
    if (name == "UTC") {
        return nullptr;
    }
    return date::locate_zone(name);
}

bool zone_exists(const std::string& name) noexcept
{
    try {
        (void)zone_of(name);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

boost::system::result<window> fail(errc code, std::string* error_text, std::string text)
{
    if (error_text != nullptr) {
        *error_text = std::move(text);
    }
    return boost::system::error_code{code};
}

boost::system::result<window>
parse_window(std::string_view text, std::size_t number, std::string* error_text)
{
    const auto where = "window " + std::to_string(number) + " (\"" + std::string(text) + "\"): ";
    const auto words = split_words(text);
    if (words.size() != 3) {
        return fail(
            errc::invalid_window, error_text,
            where + "expected DAYS HH:MM-HH:MM ZONE, e.g. \"Sun 02:00-04:00 Europe/Berlin\""
        );
    }
    window w;
    w.days = parse_days(words[0]);
    if (w.days == 0) {
        return fail(
            errc::invalid_window, error_text,
            where + "days \"" + std::string(words[0]) +
                "\" are not Sun..Sat, a range such as Mon-Fri, a list such as Sat,Sun, or daily"
        );
    }
    const auto dash = words[1].find('-');
    const auto start = parse_clock(words[1].substr(0, dash), false);
    const auto end = dash == std::string_view::npos ? std::nullopt
                                                    : parse_clock(words[1].substr(dash + 1), true);
    if (!start || !end || *start == *end) {
        return fail(
            errc::invalid_window, error_text,
            where + "time range \"" + std::string(words[1]) +
                "\" is not HH:MM-HH:MM with different times (00:00 to 23:59, end up to 24:00)"
        );
    }
    w.start = *start;
    w.end = *end;
    w.time_zone = std::string(words[2]);
    if (!zone_exists(w.time_zone)) {
        return fail(
            errc::unknown_time_zone, error_text,
            where + "time zone \"" + w.time_zone +
                "\" is not in the IANA database (e.g. Europe/Berlin, America/New_York, UTC)"
        );
    }
    return w;
}

std::string days_text(unsigned days)
{
    if ((days & all_days) == all_days) {
        return "daily";
    }
    // Runs of set days in week order, each from a day whose previous day is unset, so that a run
    // through Saturday and Sunday stays whole ("Fri-Mon"); runs of three or more become ranges.
    std::string text;
    for (unsigned d = 0; d < 7; ++d) {
        if ((days >> d & 1U) == 0 || (days >> ((d + 6) % 7) & 1U) != 0) {
            continue; // not the start of a run
        }
        auto last = d;
        while ((days >> ((last + 1) % 7) & 1U) != 0) {
            last = (last + 1) % 7;
        }
        const auto length = (last + 7 - d) % 7 + 1;
        text += text.empty() ? "" : ",";
        text += day_names[d];
        if (length >= 3) {
            text += "-" + std::string(day_names[last]);
        } else if (length == 2) {
            text += "," + std::string(day_names[last]);
        }
    }
    return text;
}

std::string clock_text(minutes m)
{
    const auto hours = m.count() / 60;
    const auto mins = m.count() % 60;
    std::string text;
    text += static_cast<char>('0' + hours / 10);
    text += static_cast<char>('0' + hours % 10);
    text += ':';
    text += static_cast<char>('0' + mins / 10);
    text += static_cast<char>('0' + mins % 10);
    return text;
}

// A local wall-clock time as an instant, by the DST rules of the header: a time in the skipped
// hour is the instant the gap ends; a time that exists twice is its first occurrence.
sys_minutes to_sys(const date::time_zone* zone, local_minutes local)
{
    if (zone == nullptr) {
        return sys_minutes{local.time_since_epoch()};
    }
    const auto info = zone->get_info(local);
    if (info.result == date::local_info::nonexistent) {
        return date::floor<minutes>(info.first.end);
    }
    return sys_minutes{local.time_since_epoch()} - date::floor<minutes>(info.first.offset);
}

local_minutes to_local(const date::time_zone* zone, sys_minutes instant)
{
    if (zone == nullptr) {
        return local_minutes{instant.time_since_epoch()};
    }
    return date::floor<minutes>(zone->to_local(instant));
}

// The openings of one window on the local days [first, first + count).
void openings_of(
    const window& w,
    const date::time_zone* zone,
    date::local_days first,
    int count,
    std::vector<opening>& out
)
{
    const auto length = w.end > w.start ? w.end - w.start : w.end + one_day - w.start;
    for (auto day = first; day < first + date::days{count}; day += date::days{1}) {
        if ((w.days >> date::weekday{day}.c_encoding() & 1U) == 0) {
            continue;
        }
        const auto start = to_sys(zone, day + w.start);
        // The length is wall-clock time from where the window really opened, so a window that
        // starts inside the skipped hour still stays open for its length after the gap.
        const auto end = to_sys(zone, to_local(zone, start) + length);
        if (end > start) {
            out.push_back({start, end});
        }
    }
}

// Sorted, with overlapping and touching openings joined.
std::vector<opening> merged(std::vector<opening> openings)
{
    std::sort(openings.begin(), openings.end(), [](const opening& a, const opening& b) {
        return a.start < b.start;
    });
    std::vector<opening> out;
    for (const auto& o : openings) {
        if (!out.empty() && o.start <= out.back().end) {
            out.back().end = std::max(out.back().end, o.end);
        } else {
            out.push_back(o);
        }
    }
    return out;
}

} // namespace

boost::system::result<std::vector<window>>
parse_windows(std::string_view text, std::string* error_text)
{
    std::vector<window> windows;
    if (split_words(text).empty()) {
        return windows; // no windows: bundles are applied at once
    }
    const auto parts = split(text, ';');
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto w = parse_window(parts[i], i + 1, error_text);
        if (!w) {
            return w.error();
        }
        windows.push_back(std::move(*w));
    }
    return windows;
}

std::string to_string(const std::vector<window>& windows)
{
    std::string text;
    for (const auto& w : windows) {
        text += text.empty() ? "" : "; ";
        text += days_text(w.days) + " " + clock_text(w.start) + "-" + clock_text(w.end) + " " +
                w.time_zone;
    }
    return text;
}

std::vector<opening>
next_openings(const std::vector<window>& windows, time_point now, std::size_t count)
{
    if (count == 0) {
        return {};
    }
    // Every window opens at least once a week, so count + 2 weeks hold count openings even after
    // merging, unless openings chain into each other (an always-open window): such a chain is cut
    // at that horizon. Two days back catch a window that opened yesterday and is still open.
    const auto days = static_cast<int>(7 * (std::min<std::size_t>(count, 520) + 2));
    std::vector<opening> all;
    for (const auto& w : windows) {
        const date::time_zone* zone = nullptr;
        try {
            zone = zone_of(w.time_zone);
        } catch (const std::exception&) {
            continue; // not from parse_windows: an unknown zone gives no openings
        }
        const auto today = date::floor<date::days>(to_local(zone, date::floor<minutes>(now)));
        openings_of(w, zone, today - date::days{2}, days + 2, all);
    }
    std::vector<opening> out;
    for (const auto& o : merged(std::move(all))) {
        if (o.end > now && out.size() < count) {
            out.push_back(o);
        }
    }
    return out;
}

} // namespace certfleet::deploy
