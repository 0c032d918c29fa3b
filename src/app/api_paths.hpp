#pragma once
// Path templates of the REST routes ("/api/v1/certificates/{id}"): matching a request path and
// splitting a path into segments. Pure functions (the router and the fuzz target use them).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::app {

// The non-empty segments of a path: "/a//b/" → {"a", "b"}.
[[nodiscard]] std::vector<std::string_view> path_segments(std::string_view path);

// Matches a path against a template; the {parameters} it binds, percent-decoded. nullopt when it
// does not match (or a parameter is empty or badly encoded, or the path ends in '/' or has an empty
// segment).
[[nodiscard]] std::optional<std::map<std::string, std::string>>
match_path(std::string_view template_path, std::string_view path);

} // namespace certfleet::app
