#include "deploy/window.hpp"

#include <doctest/doctest.h>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// An instant written out in UTC, with the calendar of the standard library (not date/tz).
time_point utc(int y, unsigned mo, unsigned d, int h, int mi = 0)
{
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi};
}

std::vector<window> parse(std::string_view text)
{
    std::string error;
    auto w = parse_windows(text, &error);
    INFO(text, ": ", error);
    REQUIRE(w.has_value());
    return w.value();
}

std::vector<opening> openings(std::string_view text, time_point now, std::size_t count)
{
    return next_openings(parse(text), now, count);
}

} // namespace
} // namespace certfleet::deploy

// Failed comparisons print the openings as UTC instants.
template <> struct doctest::StringMaker<std::vector<certfleet::deploy::opening>>
{
    static doctest::String convert(const std::vector<certfleet::deploy::opening>& openings)
    {
        const auto text = [](certfleet::deploy::time_point t) {
            const auto day = std::chrono::floor<std::chrono::days>(t);
            const std::chrono::year_month_day ymd{day};
            const auto minutes = std::chrono::floor<std::chrono::minutes>(t - day).count();
            return std::to_string(static_cast<int>(ymd.year())) + "-" +
                   std::to_string(static_cast<unsigned>(ymd.month())) + "-" +
                   std::to_string(static_cast<unsigned>(ymd.day())) + "T" +
                   std::to_string(minutes / 60) + ":" + std::to_string(minutes % 60) + "Z";
        };
        std::string out = "{";
        for (const auto& o : openings) {
            out += " [" + text(o.start) + ", " + text(o.end) + ")";
        }
        return (out + " }").c_str();
    }
};

namespace certfleet::deploy {

TEST_SUITE("deploy")
{
    TEST_CASE("window: parses days, times and zones")
    {
        const auto w = parse("Sun 02:00-04:00 Europe/Berlin");
        REQUIRE(w.size() == 1);
        CHECK(w[0].days == 1U);
        CHECK(w[0].start == 120min);
        CHECK(w[0].end == 240min);
        CHECK(w[0].time_zone == "Europe/Berlin");

        struct row
        {
            std::string_view text;
            unsigned days;
        };
        // bit 0 = Sunday ... bit 6 = Saturday
        for (const auto& r : {
                 row{"Mon-Fri 22:00-23:30 UTC", 0b0111110U},
                 row{"Fri-Mon 22:00-23:30 UTC", 0b1100011U}, // wraps past Saturday
                 row{"Sat,Sun 22:00-23:30 UTC", 0b1000001U},
                 row{"Mon,Wed-Thu 22:00-23:30 UTC", 0b0011010U},
                 row{"daily 22:00-23:30 UTC", 0b1111111U},
                 row{"sun 22:00-23:30 UTC", 0b0000001U}, // day names in any case
             }) {
            INFO(r.text);
            const auto parsed = parse(r.text);
            REQUIRE(parsed.size() == 1);
            CHECK(parsed[0].days == r.days);
        }

        const auto all_day = parse("daily 00:00-24:00 UTC");
        CHECK(all_day[0].start == 0min);
        CHECK(all_day[0].end == 1440min);
        const auto crossing = parse("Fri 23:00-01:00 UTC");
        CHECK(crossing[0].start == 1380min);
        CHECK(crossing[0].end == 60min);

        const auto several = parse("Sun 02:00-04:00 Europe/Berlin;Mon 01:00-02:00 Asia/Kolkata");
        REQUIRE(several.size() == 2);
        CHECK(several[1].time_zone == "Asia/Kolkata");
        CHECK(parse("").empty());
        CHECK(parse("  ").empty());
    }

    TEST_CASE("window: canonical text reads back the same")
    {
        for (const auto text : {
                 "Sun 02:00-04:00 Europe/Berlin; Mon-Fri 22:00-23:30 UTC",
                 "Fri-Mon 23:00-01:00 America/New_York",
                 "Sat,Sun 01:00-05:00 America/New_York",
                 "Sun,Mon 01:00-05:00 UTC",
                 "Mon,Wed,Fri 01:00-05:00 UTC",
                 "Sun,Tue-Thu 01:00-05:00 UTC",
                 "daily 00:00-24:00 UTC",
             }) {
            CHECK(to_string(parse(text)) == text);
        }
        CHECK(to_string(parse("sat,sun,mon,tue 01:00-05:00 UTC")) == "Sat-Tue 01:00-05:00 UTC");
        CHECK(to_string(parse("Mon,Tue,Wed 01:00-05:00 UTC")) == "Mon-Wed 01:00-05:00 UTC");
        CHECK(to_string({}).empty());
    }

    TEST_CASE("window: malformed windows are refused naming the part")
    {
        struct row
        {
            std::string_view text;
            std::string_view named; // what the error text must quote
        };
        for (const auto& r : {
                 row{"Sun 02:00-04:00", "DAYS HH:MM-HH:MM ZONE"},
                 row{"Sun 02:00-04:00 UTC extra", "DAYS HH:MM-HH:MM ZONE"},
                 row{"Sunday 02:00-04:00 UTC", "\"Sunday\""},
                 row{"Mon-Fri-Sat 02:00-04:00 UTC", "\"Mon-Fri-Sat\""},
                 row{"Sat,,Sun 02:00-04:00 UTC", "\"Sat,,Sun\""},
                 row{"Mon- 02:00-04:00 UTC", "\"Mon-\""},
                 row{"Sun 2:00-04:00 UTC", "\"2:00-04:00\""},
                 row{"Sun 02:00-04:60 UTC", "\"02:00-04:60\""},
                 row{"Sun 24:00-01:00 UTC", "\"24:00-01:00\""},
                 row{"Sun 02:00-24:01 UTC", "\"02:00-24:01\""},
                 row{"Sun 25:00-26:00 UTC", "\"25:00-26:00\""},
                 row{"Sun 02:00-02:00 UTC", "\"02:00-02:00\""},
                 row{"Sun 02:00 UTC", "\"02:00\""},
                 row{"Sun 0::00-04:00 UTC", "\"0::00-04:00\""},
                 row{"Sun 02:00-04:00 UTC;", "window 2"},
                 row{"Sun 02:00-04:00 UTC; Mon 01:00-99:00 UTC", "window 2"},
             }) {
            INFO(r.text);
            std::string error;
            const auto w = parse_windows(r.text, &error);
            REQUIRE_FALSE(w.has_value());
            CHECK(w.error() == make_error_code(errc::invalid_window));
            INFO(error);
            CHECK(error.find(r.named) != std::string::npos);
        }
        // Without an error_text the code alone comes back.
        CHECK(parse_windows("Sun 02:00 UTC").error() == make_error_code(errc::invalid_window));
    }

    TEST_CASE("window: a zone outside the IANA database is refused")
    {
        for (const auto zone : {"Mars/Olympus_Mons", "utc+2", "Europe/berlin"}) {
            std::string error;
            const auto w = parse_windows("Sun 02:00-04:00 " + std::string(zone), &error);
            REQUIRE_FALSE(w.has_value());
            CHECK(w.error() == make_error_code(errc::unknown_time_zone));
            INFO(error);
            CHECK(error.find(zone) != std::string::npos);
        }
    }

    TEST_CASE("window: next openings in UTC")
    {
        // 2027-03-03 is a Wednesday (2027-03-01 is a Monday).
        const auto weekdays = "Mon-Fri 22:00-23:30 UTC";
        CHECK(
            openings(weekdays, utc(2027, 3, 3, 12), 4) ==
            std::vector<opening>{
                {utc(2027, 3, 3, 22), utc(2027, 3, 3, 23, 30)},
                {utc(2027, 3, 4, 22), utc(2027, 3, 4, 23, 30)},
                {utc(2027, 3, 5, 22), utc(2027, 3, 5, 23, 30)},
                {utc(2027, 3, 8, 22), utc(2027, 3, 8, 23, 30)}, // Monday
            }
        );
        // Already open: the opening starts before now.
        CHECK(
            openings(weekdays, utc(2027, 3, 3, 22, 30), 1) ==
            std::vector<opening>{{utc(2027, 3, 3, 22), utc(2027, 3, 3, 23, 30)}}
        );
        // At its end it is over ([start, end)).
        CHECK(
            openings(weekdays, utc(2027, 3, 3, 23, 30), 1) ==
            std::vector<opening>{{utc(2027, 3, 4, 22), utc(2027, 3, 4, 23, 30)}}
        );
        // Fri, Sat, Sun, Mon after a Wednesday.
        CHECK(
            openings("Fri-Mon 10:00-11:00 UTC", utc(2027, 3, 3, 12), 4) ==
            std::vector<opening>{
                {utc(2027, 3, 5, 10), utc(2027, 3, 5, 11)},
                {utc(2027, 3, 6, 10), utc(2027, 3, 6, 11)},
                {utc(2027, 3, 7, 10), utc(2027, 3, 7, 11)},
                {utc(2027, 3, 8, 10), utc(2027, 3, 8, 11)},
            }
        );
        CHECK(openings(weekdays, utc(2027, 3, 3, 12), 0).empty());
        CHECK(next_openings({}, utc(2027, 3, 3, 12), 5).empty());
    }

    TEST_CASE("window: a window crossing midnight")
    {
        // Friday 23:00 to Saturday 01:00; at Saturday 00:30 (2027-03-06) the opening of Friday
        // is still open.
        CHECK(
            openings("Fri 23:00-01:00 UTC", utc(2027, 3, 6, 0, 30), 2) ==
            std::vector<opening>{
                {utc(2027, 3, 5, 23), utc(2027, 3, 6, 1)},
                {utc(2027, 3, 12, 23), utc(2027, 3, 13, 1)},
            }
        );
        // In Berlin (CET, UTC+1 in March before the 28th): Friday 23:00 local is 22:00Z.
        CHECK(
            openings("Fri 23:00-01:00 Europe/Berlin", utc(2027, 3, 3, 0), 1) ==
            std::vector<opening>{{utc(2027, 3, 5, 22), utc(2027, 3, 6, 0)}}
        );
    }

    TEST_CASE("window: Europe/Berlin across spring-forward")
    {
        // 2027-03-28 (last Sunday of March): at 01:00Z the clocks go from 02:00 CET to 03:00
        // CEST, so local 02:00-03:00 does not exist.
        // "02:00-03:00": opens when the gap ends (01:00Z = 03:00 CEST) and stays open one hour of
        // wall-clock time, to 04:00 CEST = 02:00Z. The next Sunday, 02:00 CEST = 00:00Z.
        CHECK(
            openings("Sun 02:00-03:00 Europe/Berlin", utc(2027, 3, 27, 12), 2) ==
            std::vector<opening>{
                {utc(2027, 3, 28, 1), utc(2027, 3, 28, 2)},
                {utc(2027, 4, 4, 0), utc(2027, 4, 4, 1)},
            }
        );
        // The week before, in CET: 02:00 CET = 01:00Z to 03:00 CET = 02:00Z.
        CHECK(
            openings("Sun 02:00-03:00 Europe/Berlin", utc(2027, 3, 20, 12), 1) ==
            std::vector<opening>{{utc(2027, 3, 21, 1), utc(2027, 3, 21, 2)}}
        );
        // "01:30-03:30" on that night: 01:30 CET = 00:30Z to 03:30 CEST = 01:30Z, one hour of
        // real time.
        CHECK(
            openings("Sun 01:30-03:30 Europe/Berlin", utc(2027, 3, 27, 12), 1) ==
            std::vector<opening>{{utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 30)}}
        );
        // A start in the gap, later than its beginning: 02:30 also opens at 01:00Z (03:00 CEST)
        // and closes an hour of wall-clock later, 04:00 CEST = 02:00Z.
        CHECK(
            openings("Sun 02:30-03:30 Europe/Berlin", utc(2027, 3, 27, 12), 1) ==
            std::vector<opening>{{utc(2027, 3, 28, 1), utc(2027, 3, 28, 2)}}
        );
    }

    TEST_CASE("window: Europe/Berlin across fall-back")
    {
        // 2027-10-31 (last Sunday of October): at 01:00Z the clocks go from 03:00 CEST back to
        // 02:00 CET, so local 02:00-03:00 happens twice; its first occurrence counts.
        // "02:00-03:00": 02:00 CEST = 00:00Z to 03:00 CET = 02:00Z (two hours of real time).
        CHECK(
            openings("Sun 02:00-03:00 Europe/Berlin", utc(2027, 10, 30, 12), 2) ==
            std::vector<opening>{
                {utc(2027, 10, 31, 0), utc(2027, 10, 31, 2)},
                {utc(2027, 11, 7, 1), utc(2027, 11, 7, 2)}, // CET: 02:00 = 01:00Z
            }
        );
        // Inside the repeated hour: 02:15 CEST = 00:15Z to 02:45 CEST = 00:45Z.
        CHECK(
            openings("Sun 02:15-02:45 Europe/Berlin", utc(2027, 10, 30, 12), 1) ==
            std::vector<opening>{{utc(2027, 10, 31, 0, 15), utc(2027, 10, 31, 0, 45)}}
        );
    }

    TEST_CASE("window: America/New_York across its spring-forward")
    {
        // 2027-03-14 (second Sunday of March): 02:00 EST (07:00Z) becomes 03:00 EDT.
        // Sat 13th: 01:00 EST = 06:00Z to 05:00 EST = 10:00Z.
        // Sun 14th: 01:00 EST = 06:00Z to 05:00 EDT = 09:00Z (three hours of real time).
        // Sat 20th: 01:00 EDT = 05:00Z to 05:00 EDT = 09:00Z.
        CHECK(
            openings("Sat,Sun 01:00-05:00 America/New_York", utc(2027, 3, 12, 12), 3) ==
            std::vector<opening>{
                {utc(2027, 3, 13, 6), utc(2027, 3, 13, 10)},
                {utc(2027, 3, 14, 6), utc(2027, 3, 14, 9)},
                {utc(2027, 3, 20, 5), utc(2027, 3, 20, 9)},
            }
        );
    }

    TEST_CASE("window: Australia/Sydney, daylight saving in the southern hemisphere")
    {
        // 2027-04-04 (first Sunday of April): 03:00 AEDT (UTC+11) goes back to 02:00 AEST
        // (UTC+10) at 16:00Z on the 3rd. "02:00-04:00": the first 02:00 is AEDT = 15:00Z on the
        // 3rd; 04:00 AEST = 18:00Z. The next Sunday, AEST: 02:00 = 16:00Z on the 10th.
        CHECK(
            openings("Sun 02:00-04:00 Australia/Sydney", utc(2027, 4, 1, 0), 2) ==
            std::vector<opening>{
                {utc(2027, 4, 3, 15), utc(2027, 4, 3, 18)},
                {utc(2027, 4, 10, 16), utc(2027, 4, 10, 18)},
            }
        );
        // 2027-10-03 (first Sunday of October): 02:00 AEST becomes 03:00 AEDT at 16:00Z on the
        // 2nd. "02:30-03:30" starts in the gap: 16:00Z to 04:00 AEDT = 17:00Z.
        CHECK(
            openings("Sun 02:30-03:30 Australia/Sydney", utc(2027, 10, 1, 0), 1) ==
            std::vector<opening>{{utc(2027, 10, 2, 16), utc(2027, 10, 2, 17)}}
        );
    }

    TEST_CASE("window: Asia/Kolkata, a half-hour offset")
    {
        // IST is UTC+05:30 all year: Monday 2027-03-08 09:00 IST = 03:30Z.
        CHECK(
            openings("Mon 09:00-10:00 Asia/Kolkata", utc(2027, 3, 3, 12), 1) ==
            std::vector<opening>{{utc(2027, 3, 8, 3, 30), utc(2027, 3, 8, 4, 30)}}
        );
    }

    TEST_CASE("window: overlapping and touching openings are merged")
    {
        CHECK(
            openings("Mon 08:00-12:00 UTC; Mon 10:00-14:00 UTC", utc(2027, 3, 3, 12), 1) ==
            std::vector<opening>{{utc(2027, 3, 8, 8), utc(2027, 3, 8, 14)}}
        );
        CHECK(
            openings("Mon 08:00-10:00 UTC; Mon 10:00-12:00 UTC", utc(2027, 3, 3, 12), 2) ==
            std::vector<opening>{
                {utc(2027, 3, 8, 8), utc(2027, 3, 8, 12)},
                {utc(2027, 3, 15, 8), utc(2027, 3, 15, 12)},
            }
        );
        // Two zones: Mon 10:00-11:00 Berlin (CET) is 09:00-10:00Z, 14:00-15:00 Kolkata (IST) is
        // 08:30-09:30Z.
        CHECK(
            openings(
                "Mon 10:00-11:00 Europe/Berlin; Mon 14:00-15:00 Asia/Kolkata", utc(2027, 3, 3, 12),
                1
            ) == std::vector<opening>{{utc(2027, 3, 8, 8, 30), utc(2027, 3, 8, 10)}}
        );
        // Always open: one opening around now, reaching at least two weeks ahead.
        const auto now = utc(2027, 3, 3, 12);
        const auto always = openings("daily 00:00-24:00 UTC", now, 3);
        REQUIRE(always.size() == 1);
        CHECK(always[0].start <= now);
        CHECK(always[0].end >= now + days{14});
    }

    TEST_CASE("window: a window with an unknown zone gives no openings")
    {
        const std::vector<window> w{{.days = 1, .start = 60min, .end = 120min, .time_zone = "X/Y"}};
        CHECK(next_openings(w, utc(2027, 3, 3, 12), 3).empty());
    }

    TEST_CASE("window: is_open and next_opening_start at the edges")
    {
        const auto t0 = utc(2027, 3, 8, 8);
        const auto t1 = utc(2027, 3, 8, 10);
        const auto t2 = utc(2027, 3, 15, 8);
        const auto t3 = utc(2027, 3, 15, 10);
        const std::vector<opening> o{{t0, t1}, {t2, t3}};

        CHECK_FALSE(is_open(o, t0 - 1ns));
        CHECK(is_open(o, t0));
        CHECK(is_open(o, t1 - 1ns));
        CHECK_FALSE(is_open(o, t1));
        CHECK(is_open(o, t2));
        CHECK_FALSE(is_open(o, t3));
        CHECK_FALSE(is_open({}, t0));

        CHECK(next_opening_start(o, t0 - 1s).value() == t0);
        CHECK(next_opening_start(o, t0).value() == t0);       // open: its start
        CHECK(next_opening_start(o, t1 - 1ns).value() == t0); // still open
        CHECK(next_opening_start(o, t1).value() == t2);
        CHECK(next_opening_start(o, t3 - 1ns).value() == t2);
        CHECK_FALSE(next_opening_start(o, t3).has_value());
        CHECK_FALSE(next_opening_start({}, t0).has_value());
    }
}

} // namespace certfleet::deploy
