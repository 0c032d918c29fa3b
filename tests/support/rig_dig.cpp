#include "support/rig_dig.hpp"

#include <cctype>
#include <charconv>
#include <optional>
#include <sstream>

namespace certfleet::test {
namespace {

enum class section
{
    none,
    question,
    answer,
    authority,
    additional,
};

bool starts_with(std::string_view s, std::string_view prefix) noexcept
{
    return s.substr(0, prefix.size()) == prefix;
}

// The token after `key` in `line`, ending at a blank, ',' or ';'.
std::string value_after(std::string_view line, std::string_view key)
{
    const auto at = line.find(key);
    if (at == std::string_view::npos) {
        return {};
    }
    auto rest = line.substr(at + key.size());
    const auto end = rest.find_first_of(" \t,;");
    return std::string(rest.substr(0, end));
}

template <class T> std::optional<T> number(std::string_view text)
{
    T v{};
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || p == text.data()) {
        return std::nullopt;
    }
    return v;
}

// Splits at blanks outside double quotes (a quoted TXT string with blanks stays one token).
std::vector<std::string> tokens(std::string_view line)
{
    std::vector<std::string> out;
    std::string current;
    bool quoted = false;
    bool in_token = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (!quoted && (c == ' ' || c == '\t')) {
            if (in_token) {
                out.push_back(std::move(current));
                current.clear();
                in_token = false;
            }
            continue;
        }
        in_token = true;
        current.push_back(c);
        if (c == '\\' && i + 1 < line.size()) {
            current.push_back(line[++i]);
        } else if (c == '"') {
            quoted = !quoted;
        }
    }
    if (in_token) {
        out.push_back(std::move(current));
    }
    return out;
}

// "\"a b\" \"c\"" → "a bc": the character-strings of one TXT record joined, quotes and
// escapes (\" \\ \DDD) removed.
std::string unquote_txt(std::string_view data)
{
    std::string out;
    bool quoted = false;
    for (std::size_t i = 0; i < data.size(); ++i) {
        const char c = data[i];
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        if (!quoted && (c == ' ' || c == '\t')) {
            continue;
        }
        if (c == '\\' && i + 3 < data.size() &&
            std::isdigit(static_cast<unsigned char>(data[i + 1])) != 0) {
            if (auto v = number<int>(data.substr(i + 1, 3))) {
                out.push_back(static_cast<char>(*v));
                i += 3;
                continue;
            }
        }
        if (c == '\\' && i + 1 < data.size()) {
            out.push_back(data[++i]);
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::optional<section> section_header(std::string_view line)
{
    static constexpr std::pair<std::string_view, section> names[] = {
        {";; QUESTION SECTION:", section::question},
        {";; ANSWER SECTION:", section::answer},
        {";; AUTHORITY SECTION:", section::authority},
        {";; ADDITIONAL SECTION:", section::additional},
    };
    for (const auto& [text, s] : names) {
        if (starts_with(line, text)) {
            return s;
        }
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(dig_tool tool) noexcept
{
    return tool == dig_tool::dig ? "dig" : "kdig";
}

std::vector<dig_record> dig_output::answers(std::string_view type) const
{
    std::vector<dig_record> out;
    for (const auto& r : answer) {
        if (r.type == type) {
            out.push_back(r);
        }
    }
    return out;
}

std::vector<std::string> dig_output::txt_answers() const
{
    std::vector<std::string> out;
    for (const auto& r : answers("TXT")) {
        out.push_back(unquote_txt(r.data));
    }
    return out;
}

dig_output parse_dig_output(run_result process)
{
    dig_output out;
    out.process = std::move(process);
    std::istringstream lines(out.process.out);
    std::string line;
    section current = section::none;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find("->>HEADER<<-") != std::string::npos) {
            // A new message (dig and kdig print each try): forget the previous one.
            const auto raw = std::move(out.process);
            out = dig_output{};
            out.process = raw;
            out.parsed = true;
            out.opcode = value_after(line, "opcode: ");
            out.status = value_after(line, "status: ");
            out.id = number<std::uint16_t>(value_after(line, "id: ")).value_or(0);
            current = section::none;
            continue;
        }
        if (starts_with(line, ";; flags:") || starts_with(line, ";; Flags:")) {
            const auto colon = line.find(':');
            const auto semicolon = line.find(';', colon);
            for (auto& f : tokens(line.substr(colon + 1, semicolon - colon - 1))) {
                out.flags.insert(std::move(f));
            }
            continue;
        }
        if (starts_with(line, "; EDNS: version: ")) { // dig
            out.edns_version = number<int>(value_after(line, "version: "));
            out.edns_udp_size = number<std::uint32_t>(value_after(line, "udp: "));
            continue;
        }
        if (starts_with(line, ";; Version: ")) { // kdig
            out.edns_version = number<int>(value_after(line, "Version: "));
            out.edns_udp_size = number<std::uint32_t>(value_after(line, "UDP size: "));
            continue;
        }
        if (auto s = section_header(line)) {
            current = *s;
            continue;
        }
        if (line.empty()) {
            current = section::none;
            continue;
        }
        if (current == section::question) {
            const auto name_start = line.find_first_not_of("; \t");
            const auto t = tokens(line.substr(std::min(name_start, line.size())));
            if (t.size() >= 3) {
                out.question.push_back({t[0], t[1], t[2]});
            }
            continue;
        }
        if (current == section::none || starts_with(line, ";")) {
            continue;
        }
        const auto t = tokens(line);
        if (t.size() < 4) {
            continue;
        }
        dig_record r{t[0], number<std::uint32_t>(t[1]).value_or(0), t[2], t[3], {}};
        for (std::size_t i = 4; i < t.size(); ++i) {
            r.data += (i > 4 ? " " : "") + t[i];
        }
        auto& target = current == section::answer      ? out.answer
                       : current == section::authority ? out.authority
                                                       : out.additional;
        target.push_back(std::move(r));
    }
    return out;
}

dig_output run_dig(dig_tool tool, std::uint16_t port, const std::vector<std::string>& args)
{
    std::vector<std::string> argv{
        std::string(to_string(tool)), "@127.0.0.1", "-p", std::to_string(port)};
    if (tool == dig_tool::dig) {
        argv.insert(argv.end(), {"+time=2", "+tries=1"});
    } else {
        argv.insert(argv.end(), {"+timeout=2", "+retry=0"});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    // A ~/.digrc could change dig's output format: keep the user's out of it.
    return parse_dig_output(
        run(argv, {.timeout = std::chrono::seconds(10), .env = {"HOME=/nonexistent"}})
    );
}

} // namespace certfleet::test
