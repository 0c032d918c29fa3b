// Reading the files target's options (files_target.hpp has their description).

#include <array>
#include <set>

#include "deploy/files_target.hpp"
#include "deploy/target.hpp"
#include "deploy/target_support.hpp"

namespace certfleet::deploy {
namespace {

struct kind_spelling
{
    file_kind kind;
    const char* option;
    const char* default_name; // under "dir"; nullptr: only when named
};

constexpr std::array<kind_spelling, 6> kinds{{
    {file_kind::cert, "cert", "cert.pem"},
    {file_kind::chain, "chain", "chain.pem"},
    {file_kind::fullchain, "fullchain", "fullchain.pem"},
    {file_kind::key, "key", "key.pem"},
    {file_kind::pfx, "pfx", "cert.pfx"},
    {file_kind::pfx_password, "pfx_password", nullptr},
}};

constexpr std::array<const char*, 7> other_options{
    "dir", "owner", "group", "mode", "key_mode", "reload", "reload_timeout_seconds"};

std::string in_quotes(std::string_view text)
{
    return "\"" + std::string(text) + "\"";
}

bool known_option(const std::string& name)
{
    for (const auto& k : kinds) {
        if (name == k.option) {
            return true;
        }
    }
    for (const auto* o : other_options) {
        if (name == o) {
            return true;
        }
    }
    return name == "verify" || is_server_option(name);
}

// A non-negative integer (JSON text gives unsigned numbers, C++ literals signed ones).
std::optional<std::uint64_t> whole_number(const nlohmann::json& value)
{
    if (value.is_number_unsigned()) {
        return value.get<std::uint64_t>();
    }
    if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
        return static_cast<std::uint64_t>(value.get<std::int64_t>());
    }
    return std::nullopt;
}

std::optional<std::filesystem::path>
path_option(const nlohmann::json& value, std::string_view name, std::string& problem)
{
    auto text = string_option(value, name, problem);
    if (!text) {
        return std::nullopt;
    }
    std::filesystem::path path(*text);
    if (!path.is_absolute() || !path.has_filename()) {
        problem = in_quotes(name) + " must be an absolute path" +
                  (name == "dir" ? std::string{} : " to a file");
        return std::nullopt;
    }
    return path.lexically_normal();
}

bool parse_paths(const nlohmann::json& options, files_options& out, std::string& problem)
{
    const auto dir = path_option(options.value("dir", nlohmann::json()), "dir", problem);
    if (!problem.empty()) {
        return false;
    }
    std::set<std::filesystem::path> seen;
    for (const auto& k : kinds) {
        auto path = path_option(options.value(k.option, nlohmann::json()), k.option, problem);
        if (!problem.empty()) {
            return false;
        }
        const bool from_dir = !path && dir && k.default_name != nullptr;
        if (from_dir) {
            path = *dir / k.default_name;
        }
        if (!path) {
            continue;
        }
        if (!seen.insert(*path).second) {
            problem = "two files would be written to " + path->string();
            return false;
        }
        out.files.push_back({k.kind, *path, from_dir});
    }
    if (out.files.empty()) {
        problem = "name at least one file to write (\"cert\", \"chain\", \"fullchain\", \"key\", "
                  "\"pfx\", \"pfx_password\") or a \"dir\"";
        return false;
    }
    return true;
}

// "owner" and "group": a name or a number, kept as text (looked up on the agent, not here).
bool parse_account(
    const nlohmann::json& value, std::string_view name, std::string& out, std::string& problem
)
{
    if (const auto number = whole_number(value)) {
        out = std::to_string(*number);
        return true;
    }
    if (value.is_null() || (value.is_string() && !value.get_ref<const std::string&>().empty())) {
        out = value.is_null() ? std::string{} : value.get<std::string>();
        return true;
    }
    problem = in_quotes(name) + " must be a name or a number";
    return false;
}

bool parse_verify(const nlohmann::json& value, files_options& out, std::string& problem)
{
    if (value.is_null()) {
        return true;
    }
    const auto field = [&](const char* name) { return value.value(name, nlohmann::json()); };
    if (!value.is_object() || !field("host").is_string() ||
        field("host").get<std::string>().empty()) {
        problem = "\"verify\" must be an object with a \"host\" to connect to";
        return false;
    }
    probe_request probe{.host = field("host").get<std::string>()};
    const auto port_field = field("port");
    const auto port = port_field.is_null() ? 443 : whole_number(port_field).value_or(0);
    const auto sni = field("sni");
    const auto sstp = field("sstp");
    const auto wait = whole_number(field("wait_seconds"));
    if (port < 1 || port > 65535) {
        problem = "\"verify\": \"port\" must be a TCP port number";
        return false;
    }
    if ((!sni.is_null() && !sni.is_string()) || (!sstp.is_null() && !sstp.is_boolean())) {
        problem = "\"verify\": \"sni\" must be a name and \"sstp\" true or false";
        return false;
    }
    if (!field("wait_seconds").is_null() && !(wait && *wait <= 600)) {
        problem = "\"verify\": \"wait_seconds\" must be a whole number from 0 to 600";
        return false;
    }
    probe.port = static_cast<std::uint16_t>(port);
    probe.sni = sni.is_string() ? sni.get<std::string>() : std::string{};
    probe.sstp = sstp.is_boolean() && sstp.get<bool>();
    out.verify_wait = std::chrono::seconds{static_cast<std::int64_t>(wait.value_or(10))};
    out.verify = std::move(probe);
    return true;
}

} // namespace

std::optional<files_options>
parse_files_options(const nlohmann::json& options, std::string& problem)
{
    problem.clear();
    if (!options.is_object()) {
        problem = "the options must be a JSON object";
        return std::nullopt;
    }
    for (const auto& [name, value] : options.items()) {
        if (!known_option(name)) {
            problem = "unknown option " + in_quotes(name);
            return std::nullopt;
        }
    }
    files_options out;
    const auto field = [&](const char* name) { return options.value(name, nlohmann::json()); };
    if (!parse_paths(options, out, problem) ||
        !parse_account(field("owner"), "owner", out.owner, problem) ||
        !parse_account(field("group"), "group", out.group, problem)) {
        return std::nullopt;
    }
    out.mode = mode_option(field("mode"), "mode", problem);
    out.key_mode = mode_option(field("key_mode"), "key_mode", problem);
    out.reload = command_option(field("reload"), "reload", problem).value_or(out.reload);
    out.reload_timeout =
        seconds_option(field("reload_timeout_seconds"), "reload_timeout_seconds", problem)
            .value_or(out.reload_timeout);
    if (!problem.empty() || !parse_verify(field("verify"), out, problem)) {
        return std::nullopt;
    }
    return out;
}

} // namespace certfleet::deploy
