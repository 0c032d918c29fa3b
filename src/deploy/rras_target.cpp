#include "deploy/rras_target.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "core/atomic_file.hpp"
#include "core/crypto/encoding.hpp"
#include "deploy/bundle_fields.hpp"
#include "deploy/errc.hpp"
#include "deploy/rras_script.hpp"
#include "deploy/target_support.hpp"

namespace certfleet::deploy {
namespace {

constexpr std::array<const char*, 7> known_options{
    "endpoint",
    "friendly_name",
    "service_timeout_seconds",
    "listen_timeout_seconds",
    "timeout_seconds",
    "remove_old_certificate",
    "powershell"};

target_result failed(std::string_view stage, std::string message)
{
    return {.ok = false, .stage = std::string(stage), .message = std::move(message)};
}

// A DNS name (or an IPv4 literal): letters, digits, '-', '.', no empty label. It goes into an
// HTTP Host header and a netsh argument, so nothing else is let through.
bool is_endpoint(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.front() == '-' ||
        name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::ranges::all_of(name, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
    });
}

// Absolute on Windows (C:\..., \\server\...) or POSIX: the server checks options for agents on
// either.
bool is_absolute_program(std::string_view path) noexcept
{
    const bool drive = path.size() >= 3 &&
                       ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
                       path[1] == ':' && (path[2] == '\\' || path[2] == '/');
    return drive || path.starts_with("\\\\") || path.starts_with("/");
}

std::optional<std::chrono::seconds> bounded_seconds(
    const nlohmann::json& value, std::string_view name, std::int64_t max, std::string& problem
)
{
    auto s = seconds_option(value, name, problem);
    if (s && s->count() > max) {
        problem = "\"" + std::string(name) + "\" must be a whole number of seconds from 1 to " +
                  std::to_string(max);
        return std::nullopt;
    }
    return s;
}

// The leaf's hashes from its DER, which must be the bundle's (open_bundle checked them with the
// same port: this keeps the script's literals tied to the bytes, whoever built the bundle).
std::string check_hashes(const bundle& contents, const crypto_port* crypto)
{
    if (crypto == nullptr) {
        return "no crypto port to hash the certificate with";
    }
    const auto ders = detail::pem_certificates(contents.chain_pem);
    if (!ders || ders->empty()) {
        return "the bundle's chain has no certificate";
    }
    const auto sha1 = core::to_hex(crypto->sha1(ders->front()));
    const auto sha256 = core::to_hex(crypto->sha256(ders->front()));
    if (sha1 != contents.sha1_hex || sha256 != contents.sha256_hex) {
        return "the bundle's hashes (" + contents.sha1_hex + ", " + contents.sha256_hex +
               ") are not those of its certificate (" + sha1 + ", " + sha256 + ")";
    }
    return {};
}

// The password line: PowerShell reads it in the console's code page, so only printable ASCII
// arrives unchanged (the server's passwords are).
bool is_password_line(std::string_view password) noexcept
{
    return std::ranges::all_of(password, [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string secret_input(const bundle& contents)
{
    std::string input;
    input.reserve(contents.pfx_password.size() + 1);
    input.append(contents.pfx_password.view());
    input += '\n';
    return input;
}

// The script's answer checked against the process's exit code and our hashes.
target_result
interpret(const process_outcome& outcome, const bundle& contents, const std::string& program)
{
    auto result = parse_rras_result(outcome.output);
    const auto output = trimmed_output(outcome.output);
    if (result.stage == "output") {
        result.message = "\"" + program + "\" exited with " + std::to_string(outcome.exit_code) +
                         " without a result line" + (output.empty() ? "" : ": " + output);
        result.details["output"] = output;
    } else if (result.ok && outcome.exit_code != 0) {
        result = failed(
            "output", "the script said it succeeded but \"" + program + "\" exited with " +
                          std::to_string(outcome.exit_code) + ": " + output
        );
        result.details["output"] = output;
    } else if (result.ok && (result.details.value("thumbprint", "") != contents.sha1_hex ||
                             result.details.value("sha256", "") != contents.sha256_hex)) {
        result.ok = false;
        result.message = "the script reports another certificate than " + contents.sha1_hex + ": " +
                         result.details.dump();
        result.stage = "output";
    }
    result.details["exit_code"] = outcome.exit_code;
    return result;
}

} // namespace

std::string default_powershell()
{
#ifdef _WIN32
    // The 64-bit one: a 32-bit process would get SysWOW64's through file system redirection.
    const char* root = std::getenv("SystemRoot");
    return std::string(root != nullptr && *root != '\0' ? root : "C:\\Windows") +
           "\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
#else
    return "powershell.exe";
#endif
}

std::chrono::seconds script_timeout(const rras_options& options) noexcept
{
    if (options.timeout.count() > 0) {
        return options.timeout;
    }
    return 12 * options.service_timeout + options.listen_timeout + std::chrono::seconds{120};
}

std::optional<rras_options> parse_rras_options(const nlohmann::json& options, std::string& problem)
{
    problem.clear();
    if (!options.is_object()) {
        problem = "the options must be a JSON object";
        return std::nullopt;
    }
    for (const auto& [name, value] : options.items()) {
        if (std::ranges::find(known_options, name) == known_options.end() &&
            !is_server_option(name)) {
            problem = "unknown option \"" + name +
                      "\" (endpoint, friendly_name, service_timeout_seconds, "
                      "listen_timeout_seconds, timeout_seconds, remove_old_certificate, "
                      "powershell)";
            return std::nullopt;
        }
    }
    const auto field = [&](const char* name) { return options.value(name, nlohmann::json()); };
    rras_options out;
    const auto endpoint = field("endpoint");
    if (!endpoint.is_string() || !is_endpoint(endpoint.get<std::string>())) {
        problem = "\"endpoint\" must be the DNS name VPN clients connect to (vpn.example.com)";
        return std::nullopt;
    }
    out.endpoint = endpoint.get<std::string>();
    const auto friendly = field("friendly_name");
    if (!friendly.is_null() &&
        !(friendly.is_string() && friendly.get<std::string>().size() <= 256)) {
        problem = "\"friendly_name\" must be a string of at most 256 bytes";
        return std::nullopt;
    }
    out.friendly_name = friendly.is_string() ? friendly.get<std::string>() : std::string{};
    out.service_timeout =
        bounded_seconds(field("service_timeout_seconds"), "service_timeout_seconds", 3600, problem)
            .value_or(out.service_timeout);
    out.listen_timeout =
        bounded_seconds(field("listen_timeout_seconds"), "listen_timeout_seconds", 3600, problem)
            .value_or(out.listen_timeout);
    out.timeout =
        seconds_option(field("timeout_seconds"), "timeout_seconds", problem).value_or(out.timeout);
    const auto remove = field("remove_old_certificate");
    if (!remove.is_null() && !remove.is_boolean()) {
        problem = "\"remove_old_certificate\" must be true or false";
    }
    out.remove_old_certificate = !remove.is_boolean() || remove.get<bool>();
    const auto powershell = string_option(field("powershell"), "powershell", problem);
    if (powershell && !is_absolute_program(*powershell)) {
        problem = "\"powershell\" must be an absolute path to powershell.exe";
    }
    if (!problem.empty()) {
        return std::nullopt;
    }
    out.powershell = powershell.value_or(std::string{});
    return out;
}

target_result apply_rras_target(const bundle& contents, const target_context& context)
{
    std::string problem;
    const auto options = parse_rras_options(contents.target_options, problem);
    if (!options) {
        return failed("options", problem);
    }
    if (contents.pfx.empty() || !is_password_line(contents.pfx_password.view())) {
        return failed(
            "options", "the bundle needs a PFX whose password is printable ASCII on one line"
        );
    }
    if (auto wrong = check_hashes(contents, context.crypto); !wrong.empty()) {
        return failed("options", wrong);
    }
    const auto dir = std::filesystem::absolute(context.work_dir);
    const auto pfx_path = dir / "cert.pfx";
    const auto script_path = dir / "rras-deploy.ps1";
    auto script = render_rras_script(
        {.sha1_hex = contents.sha1_hex,
         .sha256_hex = contents.sha256_hex,
         .pfx_path = pfx_path.string(),
         .friendly_name = options->friendly_name,
         .probe_host = options->endpoint,
         .service_timeout = options->service_timeout,
         .listen_timeout = options->listen_timeout,
         .remove_old_certificate = options->remove_old_certificate}
    );
    if (!script) {
        return failed("options", "the script could not be rendered: " + script.error().message());
    }
    const core::atomic_write_options private_file{
        .mode = 0600, .keep_existing_owner_and_mode = false};
    if (auto ec = core::write_files_atomically(
            {{pfx_path, contents.pfx, private_file}, {script_path, *script, private_file}}
        )) {
        return failed(
            "write",
            "writing the PFX and the script in " + dir.string() + " failed: " + ec.message()
        );
    }
    const auto program = options->powershell.empty() ? default_powershell() : options->powershell;
    const auto timeout = script_timeout(*options);
    auto outcome = context.processes.run(
        {.argv =
             {program, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File",
              script_path.string()},
         .environment = {},
         .input = secret_input(contents),
         .timeout = timeout,
         .working_directory = dir}
    );
    std::error_code ignored;
    std::filesystem::remove(pfx_path, ignored);
    std::filesystem::remove(script_path, ignored);
    target_result result;
    if (!outcome) {
        result = failed("run", describe_process_error(program, timeout, outcome.error()));
        if (outcome.error() == errc::process_timeout) {
            result.message += "; the script restores the previous state only when it finishes: "
                              "check the SstpSvc Parameters values and `netsh http show sslcert` "
                              "on the server";
        }
    } else {
        result = interpret(*outcome, contents, program);
    }
    result.details["powershell"] = program;
    result.details["timeout_seconds"] = timeout.count();
    return result;
}

} // namespace certfleet::deploy
