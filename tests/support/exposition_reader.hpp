#pragma once
// Reads values back out of a Prometheus text exposition, for tests.

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace certfleet::test {

// The value of the sample written exactly as `series` ("name" or `name{label="value"}`), or
// nullopt when no line holds it.
[[nodiscard]] inline std::optional<double>
exposition_value(std::string_view exposition, std::string_view series)
{
    std::istringstream lines{std::string(exposition)};
    for (std::string line; std::getline(lines, line);) {
        if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::nullopt;
}

} // namespace certfleet::test
