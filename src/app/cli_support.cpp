#include "app/cli_support.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>

#include "app/commands.hpp"
#include "core/config_error.hpp"

namespace certfleet::app {

void add_config_option(CLI::App& cmd, std::string& file)
{
    cmd.add_option(
           "-c,--config", file,
           "Configuration file (default: $CERTFLEET_CONFIG, else ./certfleet.toml)"
    )
        ->check(CLI::ExistingFile);
}

int with_settings(
    const std::string& config_file, const std::function<int(const server_settings&)>& body
)
{
    std::optional<server_settings> settings;
    try {
        settings = load_settings(config_file);
    } catch (const core::config_error& e) {
        std::cerr << "certfleet: configuration error: " << e.what()
                  << "\nFix the file (see README, section Configuration) and run again.\n";
        return exit_usage;
    }
    try {
        return body(*settings);
    } catch (const startup_error& e) {
        std::cerr << "certfleet: " << e.what() << '\n';
        return exit_failure;
    }
}

int with_state(
    const std::string& config_file, const std::function<int(const server_settings&, state&)>& body
)
{
    return with_settings(config_file, [&](const server_settings& settings) {
        if (settings.config_file.empty()) {
            std::cerr << "certfleet: no configuration file: run `certfleet init` to create one, "
                         "then pass --config or set CERTFLEET_CONFIG.\n";
            return exit_usage;
        }
        auto opened = open_state(settings);
        return body(settings, opened);
    });
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string format_time(std::optional<std::chrono::system_clock::time_point> t)
{
    if (!t) {
        return "-";
    }
    const std::time_t seconds = static_cast<std::time_t>(unix_seconds(*t));
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text)
{
    std::tm utc{};
    const std::string copy(text);
    const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(timegm(&utc));
}

std::string
relative_time(std::chrono::system_clock::time_point t, std::chrono::system_clock::time_point now)
{
    const bool past = t < now;
    auto s = std::chrono::duration_cast<std::chrono::seconds>(past ? now - t : t - now).count();
    std::string text;
    if (s >= 86400) {
        text = std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
    } else if (s >= 3600) {
        text = std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
    } else if (s >= 60) {
        text = std::to_string(s / 60) + "m";
    } else {
        text = std::to_string(s) + "s";
    }
    return past ? text + " ago" : "in " + text;
}

void print_table(
    std::ostream& out,
    const std::vector<std::string>& header,
    const std::vector<std::vector<std::string>>& rows
)
{
    std::vector<std::size_t> widths(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) {
        widths[i] = header[i].size();
        for (const auto& row : rows) {
            if (i < row.size()) {
                widths[i] = std::max(widths[i], row[i].size());
            }
        }
    }
    auto print_row = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < header.size(); ++i) {
            const auto& cell = i < row.size() ? row[i] : std::string();
            out << cell;
            if (i + 1 < header.size()) {
                out << std::string(widths[i] - cell.size() + 2, ' ');
            }
        }
        out << '\n';
    };
    print_row(header);
    for (const auto& row : rows) {
        print_row(row);
    }
}

std::string join(const std::vector<std::string>& items, std::string_view separator)
{
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

// "90d", "12h", "30m", "3600s" (or plain seconds).
std::optional<std::int64_t> duration_seconds(const std::string& text)
{
    if (text.empty()) {
        return std::nullopt;
    }
    std::size_t used = 0;
    std::int64_t n = 0;
    try {
        n = std::stoll(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const auto unit = text.substr(used);
    const std::int64_t scale = unit.empty() || unit == "s" ? 1
                               : unit == "m"               ? 60
                               : unit == "h"               ? 3600
                               : unit == "d"               ? 86400
                                                           : 0;
    if (scale == 0 || n <= 0) {
        return std::nullopt;
    }
    return n * scale;
}

} // namespace certfleet::app
