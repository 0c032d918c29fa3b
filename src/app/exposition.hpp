#pragma once
// The Prometheus text exposition format, version 0.0.4: what GET /metrics answers. Pure.
//
// render_exposition() writes each family as `# HELP`, `# TYPE`, then its samples, one a line:
// families ordered by name and samples by their label values (as Prometheus' own client
// libraries do), so that two scrapes of the same state are the same bytes. A family without
// samples is left out (its series are absent, not NaN). HELP text escapes backslash and
// newline; label values escape backslash, double quote and newline. Values are written in
// their shortest exact form; NaN, +Inf and -Inf as the format spells them.
//
// Names are checked: a metric name matches [a-zA-Z_:][a-zA-Z0-9_:]*, a label name
// [a-zA-Z_][a-zA-Z0-9_]* without a leading "__", and no two families share a name. A wrong one
// throws std::invalid_argument: the families come from code, not from input, so it is a bug.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certfleet::app {

// The Content-Type of the answer.
inline constexpr std::string_view exposition_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type
{
    counter, // only goes up (from 0 at start); its name ends in _total
    gauge,   // a value read now
};

struct metric_sample
{
    std::vector<std::pair<std::string, std::string>> labels; // name, value
    double value = 0;
};

struct metric_family
{
    std::string name; // "certfleet_renewals_total"
    std::string help; // one sentence for people
    metric_type type = metric_type::gauge;
    std::vector<metric_sample> samples;
};

[[nodiscard]] std::string render_exposition(std::vector<metric_family> families);

} // namespace certfleet::app
