#include "deploy/target_support.hpp"

#include <date/date.h>

namespace certfleet::deploy {
namespace {

constexpr std::string_view begin_marker = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view end_marker = "-----END CERTIFICATE-----";

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629 section 4), or 0.
std::size_t utf8_sequence(std::string_view text)
{
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const auto lead = byte(0);
    const std::size_t length = lead < 0x80   ? 1
                               : lead < 0xc2 ? 0
                               : lead < 0xe0 ? 2
                               : lead < 0xf0 ? 3
                               : lead < 0xf5 ? 4
                                             : 0;
    if (length == 0 || length > text.size()) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80) {
            return 0;
        }
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((lead == 0xe0 && byte(1) < 0xa0) || (lead == 0xed && byte(1) >= 0xa0) ||
        (lead == 0xf0 && byte(1) < 0x90) || (lead == 0xf4 && byte(1) >= 0x90)) {
        return 0;
    }
    return length;
}

} // namespace

chain_files split_chain_pem(std::string_view chain_pem)
{
    chain_files out;
    std::size_t position = 0;
    for (bool leaf = true;; leaf = false) {
        const auto begin = chain_pem.find(begin_marker, position);
        const auto end =
            begin == std::string_view::npos ? begin : chain_pem.find(end_marker, begin);
        if (end == std::string_view::npos) {
            break;
        }
        position = end + end_marker.size();
        std::string block(chain_pem.substr(begin, position - begin));
        block += '\n';
        (leaf ? out.cert : out.chain) += block;
        out.fullchain += block;
    }
    return out;
}

std::string utc_text(std::chrono::system_clock::time_point when)
{
    return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(when));
}

std::string trimmed_output(std::string_view output, std::size_t max_bytes)
{
    auto text = trim(output);
    std::string out;
    if (text.size() > max_bytes) {
        text = text.substr(text.size() - max_bytes);
        out = "...";
    }
    // The JSON report must hold valid UTF-8: anything else would make it fail to serialize.
    while (!text.empty()) {
        const auto length = utf8_sequence(text);
        const auto u = static_cast<unsigned char>(text.front());
        if (length == 0 || (u < 0x20 && u != '\n' && u != '\t') || u == 0x7f) {
            out += '?';
            text.remove_prefix(1);
        } else {
            out.append(text.substr(0, length));
            text.remove_prefix(length);
        }
    }
    return out;
}

std::optional<std::vector<std::string>>
command_option(const nlohmann::json& value, std::string_view name, std::string& problem)
{
    if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
        return std::vector<std::string>{"/bin/sh", "-c", value.get<std::string>()};
    }
    if (value.is_array() && !value.empty()) {
        std::vector<std::string> argv;
        for (const auto& a : value) {
            if (!a.is_string()) {
                break;
            }
            argv.push_back(a.get<std::string>());
        }
        if (argv.size() == value.size() && !argv.front().empty()) {
            return argv;
        }
    }
    if (!value.is_null()) {
        problem = "\"" + std::string(name) +
                  "\" must be a non-empty array of strings (the program first) or a shell command";
    }
    return std::nullopt;
}

std::optional<std::chrono::seconds>
seconds_option(const nlohmann::json& value, std::string_view name, std::string& problem)
{
    if (value.is_number_integer() && value.get<std::int64_t>() >= 1 &&
        value.get<std::int64_t>() <= 86400) {
        return std::chrono::seconds{value.get<std::int64_t>()};
    }
    if (!value.is_null()) {
        problem = "\"" + std::string(name) + "\" must be a whole number of seconds from 1 to 86400";
    }
    return std::nullopt;
}

std::optional<mode_t>
mode_option(const nlohmann::json& value, std::string_view name, std::string& problem)
{
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        mode_t mode = 0;
        bool octal = text.size() >= 3 && text.size() <= 4;
        for (const char c : text) {
            octal = octal && c >= '0' && c <= '7';
            mode = static_cast<mode_t>(mode * 8 + static_cast<mode_t>(c - '0'));
        }
        if (octal && mode <= 0777) {
            return mode;
        }
    }
    if (!value.is_null()) {
        problem = "\"" + std::string(name) +
                  "\" must be an octal mode as a string, permission bits only (\"0640\")";
    }
    return std::nullopt;
}

std::optional<std::string>
string_option(const nlohmann::json& value, std::string_view name, std::string& problem)
{
    if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
        return value.get<std::string>();
    }
    if (!value.is_null()) {
        problem = "\"" + std::string(name) + "\" must be a non-empty string";
    }
    return std::nullopt;
}

command_run run_command(const process_runner& processes, process_request request)
{
    command_run run;
    const std::string program = request.argv.empty() ? std::string{} : request.argv.front();
    const auto timeout = request.timeout;
    run.details["command"] = request.argv;
    auto outcome = processes.run(std::move(request));
    if (!outcome) {
        run.message = describe_process_error(program, timeout, outcome.error());
        run.details["error"] = run.message;
        return run;
    }
    const auto output = trimmed_output(outcome->output);
    run.details["exit_code"] = outcome->exit_code;
    run.details["output"] = output;
    run.ok = outcome->exit_code == 0;
    run.message = "\"" + program + "\" exited with " + std::to_string(outcome->exit_code);
    if (!output.empty()) {
        run.message += ": " + output;
    }
    return run;
}

} // namespace certfleet::deploy
