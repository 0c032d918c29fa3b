// The agent's side of deployment windows: openings are UTC instants the server computed, so
// nothing here needs a time-zone database (window.cpp, which does, runs on the server only).
#include <algorithm>

#include "deploy/window.hpp"

namespace certfleet::deploy {

bool is_open(const std::vector<opening>& openings, time_point now) noexcept
{
    return std::any_of(openings.begin(), openings.end(), [now](const opening& o) {
        return o.start <= now && now < o.end;
    });
}

std::optional<time_point>
next_opening_start(const std::vector<opening>& openings, time_point now) noexcept
{
    std::optional<time_point> next;
    for (const auto& o : openings) {
        if (o.end > now && (!next || o.start < *next)) {
            next = o.start;
        }
    }
    return next;
}

} // namespace certfleet::deploy
