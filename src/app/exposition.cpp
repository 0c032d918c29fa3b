#include "app/exposition.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace certfleet::app {
namespace {

bool name_char(char c, bool first, bool colon) noexcept
{
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    return letter || (colon && c == ':') || (!first && digit);
}

bool valid_name(std::string_view name, bool colon) noexcept
{
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!name_char(name[i], i == 0, colon)) {
            return false;
        }
    }
    return true;
}

void check_names(const metric_family& f)
{
    if (!valid_name(f.name, true)) {
        throw std::invalid_argument("metrics: invalid metric name '" + f.name + "'");
    }
    for (const auto& s : f.samples) {
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
            const auto& label = s.labels[i].first;
            if (!valid_name(label, false) || label.starts_with("__")) {
                throw std::invalid_argument(
                    "metrics: invalid label name '" + label + "' in " + f.name
                );
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (s.labels[j].first == label) {
                    throw std::invalid_argument(
                        "metrics: label '" + label + "' twice in a sample of " + f.name
                    );
                }
            }
        }
    }
}

// HELP escapes \ and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote)
{
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

void append_value(std::string& out, double v)
{
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    std::array<char, 32> buffer{};
    const auto written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
    out.append(buffer.data(), written.ptr);
}

void append_sample(std::string& out, const std::string& name, const metric_sample& s)
{
    out += name;
    if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
            out += i == 0 ? "" : ",";
            out += s.labels[i].first;
            out += "=\"";
            append_escaped(out, s.labels[i].second, true);
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    append_value(out, s.value);
    out += '\n';
}

} // namespace

std::string render_exposition(std::vector<metric_family> families)
{
    std::sort(families.begin(), families.end(), [](const auto& a, const auto& b) {
        return a.name < b.name;
    });
    std::string out;
    for (std::size_t i = 0; i < families.size(); ++i) {
        auto& f = families[i];
        check_names(f);
        if (i > 0 && families[i - 1].name == f.name) {
            throw std::invalid_argument("metrics: two families named " + f.name);
        }
        if (f.samples.empty()) {
            continue;
        }
        std::sort(f.samples.begin(), f.samples.end(), [](const auto& a, const auto& b) {
            return a.labels < b.labels;
        });
        out += "# HELP " + f.name + ' ';
        append_escaped(out, f.help, false);
        out += "\n# TYPE " + f.name + (f.type == metric_type::counter ? " counter\n" : " gauge\n");
        for (const auto& s : f.samples) {
            append_sample(out, f.name, s);
        }
    }
    return out;
}

} // namespace certfleet::app
