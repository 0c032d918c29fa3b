#include "app/api_paths.hpp"

#include "net/http_query.hpp"

namespace certfleet::app {

std::vector<std::string_view> path_segments(std::string_view path)
{
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
    }
    return out;
}

std::optional<std::map<std::string, std::string>>
match_path(std::string_view template_path, std::string_view path)
{
    if (path.empty() || path.front() != '/') {
        return std::nullopt;
    }
    // A trailing slash names another resource; only "/" itself ends in one.
    if (path.size() > 1 && path.back() == '/') {
        return std::nullopt;
    }
    // Nor does an empty segment: "//api/v1/status" is not "/api/v1/status" to a proxy or cache
    // in front, which keys on the path as sent.
    if (path.find("//") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto want = path_segments(template_path);
    const auto have = path_segments(path);
    if (want.size() != have.size()) {
        return std::nullopt;
    }
    std::map<std::string, std::string> bound;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
            auto value = net::percent_decode(have[i]);
            if (!value || value->empty()) {
                return std::nullopt;
            }
            bound.emplace(std::string(want[i].substr(1, want[i].size() - 2)), std::move(*value));
        } else if (want[i] != have[i]) {
            return std::nullopt;
        }
    }
    return bound;
}

} // namespace certfleet::app
