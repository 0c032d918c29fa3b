#pragma once
// Deployment windows (DESIGN section 6): when an agent may apply a bundle.
//
// A window is days and a local time range in an IANA time zone:
//   "Sun 02:00-04:00 Europe/Berlin", "Mon-Fri 22:00-23:30 UTC", "Sat,Sun 01:00-05:00
//   America/New_York", "daily 00:00-24:00 UTC" (always open). A range that ends before it starts
//   crosses midnight
//   ("Fri 23:00-01:00 UTC" opens Friday 23:00 and closes Saturday 01:00).
// Several windows may be given, separated by ';'.
//
// The server does the time-zone arithmetic (date/tz) and sends agents the next openings as UTC
// instants; agents need no time-zone database. Daylight-saving rules: a local start time that does
// not exist (the skipped hour) opens at the first instant after the gap; a local time that exists
// twice (the repeated hour) means its first occurrence; a window's length is measured in local
// wall-clock time, so "01:30-03:30" on a night that loses an hour is open one hour of real time
// (counted from where the window really opened: "02:00-03:00" inside the skipped hour opens when
// the gap ends and stays open one hour).

#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::deploy {

using time_point = std::chrono::system_clock::time_point;

struct window
{
    unsigned days = 0; // bit 0 = Sunday ... bit 6 = Saturday
    std::chrono::minutes start{0};
    std::chrono::minutes end{0}; // 24:00 is 1440; end < start crosses midnight
    std::string time_zone;       // IANA name, "UTC"
};

// A UTC interval [start, end) in which bundles may be applied.
struct opening
{
    time_point start;
    time_point end;
    friend bool operator==(const opening&, const opening&) = default;
};

// Parses one or several windows (';'-separated). Errors: invalid_window (the message names the
// offending part through `error_text`), unknown_time_zone.
[[nodiscard]] boost::system::result<std::vector<window>>
parse_windows(std::string_view text, std::string* error_text = nullptr);

// The canonical text of windows, as parse_windows reads it back.
[[nodiscard]] std::string to_string(const std::vector<window>& windows);

// The next `count` openings that end after `now`, in order, overlapping (and touching) ones
// merged. An opening that is already open starts at or before `now`. Empty windows give no
// openings (the agent then applies at once). Openings are computed up to count + 2 weeks ahead:
// a chain of openings that never closes (daily 00:00-24:00) ends there.
[[nodiscard]] std::vector<opening>
next_openings(const std::vector<window>& windows, time_point now, std::size_t count);

// Agent side, no time zones: whether `now` lies in one of `openings` ([start, end)), and when the
// next one opens: the start of the earliest opening that ends after `now` (at or before `now` when
// one is open), nullopt when none does.
[[nodiscard]] bool is_open(const std::vector<opening>& openings, time_point now) noexcept;
[[nodiscard]] std::optional<time_point>
next_opening_start(const std::vector<opening>& openings, time_point now) noexcept;

} // namespace certfleet::deploy
