#include "deploy/exec_target.hpp"

#include "core/atomic_file.hpp"
#include "deploy/target.hpp"
#include "deploy/target_support.hpp"

namespace certfleet::deploy {
namespace {

target_result failed(std::string_view stage, std::string message)
{
    return {.ok = false, .stage = std::string(stage), .message = std::move(message)};
}

std::string joined(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : " ") + n;
    }
    return out;
}

struct written_files
{
    std::filesystem::path cert;
    std::filesystem::path chain;
    std::filesystem::path fullchain;
    std::filesystem::path pfx; // empty: no PFX
};

boost::system::error_code
write_files(const bundle& contents, const std::filesystem::path& dir, written_files& out)
{
    const auto chain = split_chain_pem(contents.chain_pem);
    out = {dir / "cert.pem", dir / "chain.pem", dir / "fullchain.pem", {}};
    const core::atomic_write_options public_file{
        .mode = 0644, .keep_existing_owner_and_mode = false};
    std::vector<core::file_content> files{
        {out.cert, chain.cert, public_file},
        {out.chain, chain.chain, public_file},
        {out.fullchain, chain.fullchain, public_file},
    };
    if (!contents.pfx.empty()) {
        out.pfx = dir / "cert.pfx";
        files.push_back(
            {out.pfx, contents.pfx, {.mode = 0600, .keep_existing_owner_and_mode = false}}
        );
    }
    return core::write_files_atomically(files);
}

std::vector<std::pair<std::string, std::string>>
environment_of(const bundle& contents, const written_files& files)
{
    std::vector<std::pair<std::string, std::string>> env{
        {"CERTFLEET_CERT_FILE", files.cert.string()},
        {"CERTFLEET_CHAIN_FILE", files.chain.string()},
        {"CERTFLEET_FULLCHAIN_FILE", files.fullchain.string()},
        {"CERTFLEET_SHA256", contents.sha256_hex},
        {"CERTFLEET_SHA1", contents.sha1_hex},
        {"CERTFLEET_SERIAL", contents.serial_hex},
        {"CERTFLEET_NAMES", joined(contents.names)},
        {"CERTFLEET_NOT_BEFORE", utc_text(contents.not_before)},
        {"CERTFLEET_NOT_AFTER", utc_text(contents.not_after)},
        {"CERTFLEET_VERSION", std::to_string(contents.version)},
        {"CERTFLEET_CERTIFICATE", std::to_string(contents.certificate)},
        {"CERTFLEET_ASSIGNMENT", std::to_string(contents.assignment)},
    };
    if (!files.pfx.empty()) {
        env.emplace_back("CERTFLEET_PFX_FILE", files.pfx.string());
    }
    return env;
}

// The password line, then the key: built in place (reserved, so no reallocation leaves a copy
// behind); the runner wipes it.
std::string secret_input(const bundle& contents)
{
    std::string input;
    input.reserve(contents.pfx_password.size() + 1 + contents.key_pem.size());
    input.append(contents.pfx_password.view());
    input += '\n';
    input.append(contents.key_pem.view());
    return input;
}

} // namespace

std::optional<exec_options> parse_exec_options(const nlohmann::json& options, std::string& problem)
{
    problem.clear();
    if (!options.is_object()) {
        problem = "the options must be a JSON object";
        return std::nullopt;
    }
    for (const auto& [name, value] : options.items()) {
        if (name != "command" && name != "timeout_seconds" && name != "dir" &&
            !is_server_option(name)) {
            problem = "unknown option \"" + name + "\"";
            return std::nullopt;
        }
    }
    const auto field = [&](const char* name) { return options.value(name, nlohmann::json()); };
    exec_options out;
    const auto command = field("command");
    if (!command.is_array()) {
        problem = "\"command\" must be an array of strings (the program first)";
        return std::nullopt;
    }
    out.command = command_option(command, "command", problem).value_or(out.command);
    out.timeout =
        seconds_option(field("timeout_seconds"), "timeout_seconds", problem).value_or(out.timeout);
    const auto dir = string_option(field("dir"), "dir", problem);
    if (dir && !std::filesystem::path(*dir).is_absolute()) {
        problem = "\"dir\" must be an absolute path";
    }
    if (!problem.empty()) {
        return std::nullopt;
    }
    out.dir = dir ? std::filesystem::path(*dir) : std::filesystem::path{};
    return out;
}

target_result apply_exec_target(const bundle& contents, const target_context& context)
{
    std::string problem;
    const auto options = parse_exec_options(contents.target_options, problem);
    if (!options) {
        return failed("options", problem);
    }
    if (contents.pfx_password.view().find_first_of("\r\n") != std::string_view::npos) {
        return failed("options", "the PFX password holds a line break");
    }
    const auto dir = options->dir.empty() ? context.work_dir : options->dir;
    written_files files;
    if (auto ec = core::ensure_directory(dir, 0700)) {
        return failed(
            "write", "could not make the directory " + dir.string() + ": " + ec.message()
        );
    }
    if (auto ec = write_files(contents, dir, files)) {
        return failed("write", "writing the files in " + dir.string() + " failed: " + ec.message());
    }
    auto run = run_command(
        context.processes, {.argv = options->command,
                            .environment = environment_of(contents, files),
                            .input = secret_input(contents),
                            .timeout = options->timeout,
                            .working_directory = dir}
    );
    if (!files.pfx.empty()) {
        std::error_code ec;
        std::filesystem::remove(files.pfx, ec);
    }
    target_result result{.ok = run.ok, .stage = run.ok ? "done" : "exec", .message = run.message};
    result.details = run.details;
    result.details["dir"] = dir.string();
    return result;
}

} // namespace certfleet::deploy
