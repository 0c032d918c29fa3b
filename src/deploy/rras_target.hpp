#pragma once
// The "rras" target (DESIGN section 6, RRAS.md): puts a certificate in service for SSTP on a
// Windows RRAS server (Windows Server 2012 R2 and later, Windows PowerShell 5.1) by rendering the
// deployment script (rras_script.hpp) and running it with the 64-bit powershell.exe.
//
// Options (JSON object):
//   "endpoint": required, the DNS name VPN clients connect to (vpn.example.com): the TLS SNI and
//       Host of the on-box SSTP check, and the SNI binding the script looks for. Letters, digits,
//       '-' and '.', at most 253 characters.
//   "friendly_name": the certificate's friendly name in LocalMachine\My (default: none).
//   "service_timeout_seconds": each wait for a service to stop or start, 1..3600 (default 300).
//   "listen_timeout_seconds": how long the port may take to listen after the restart, 1..3600
//       (default 60).
//   "timeout_seconds": the whole script, 1..86400 (default 12 service waits + the listen wait +
//       120 s: a restart and a rollback restart at worst). Past it powershell.exe is killed, and
//       the server may be left half-changed: keep it above the worst case.
//   "remove_old_certificate": true (default) or false: after a verified switch, the certificate
//       the registry pinned before leaves LocalMachine\My unless an HTTP.SYS binding still uses it.
//   "powershell": absolute path of powershell.exe (default: the 64-bit
//       %SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe; "powershell.exe" on the PATH
//       on other systems, where only a stand-in exists).
//
// A run: the leaf's SHA-1 and SHA-256 are computed from its DER (context.crypto) and must equal
// the bundle's; the PFX (protected by its password) and the rendered script are written 0600 to
// context.work_dir (the agent's private directory); then
//   powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File
//   <work_dir>\rras-deploy.ps1
// runs with the PFX password as the one line of its standard input (never in arguments, the
// environment or a file); both files are removed when it ends. -File rather than "-Command -":
// the script then reads standard input for itself, and its exit code is the process's.
//
// The result is the script's JSON line (parse_rras_result). A failure answer, no such line, a
// line that says ok with a non-zero exit code or with other hashes than ours, a program that does
// not start or runs past timeout_seconds: the run fails, and says at which stage and why.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "deploy/target.hpp"

namespace certfleet::deploy {

struct rras_options
{
    std::string endpoint;
    std::string friendly_name;
    std::chrono::seconds service_timeout{300};
    std::chrono::seconds listen_timeout{60};
    std::chrono::seconds timeout{0}; // 0: derived from the two above
    bool remove_old_certificate = true;
    std::string powershell; // empty: default_powershell()
};

// Reads the options; nothing, with `problem` in words, when they are wrong.
[[nodiscard]] std::optional<rras_options>
parse_rras_options(const nlohmann::json& options, std::string& problem);

// The powershell.exe this platform runs when the options name none.
[[nodiscard]] std::string default_powershell();

// The whole script's limit: the option, or 12 service waits + the listen wait + 120 s.
[[nodiscard]] std::chrono::seconds script_timeout(const rras_options& options) noexcept;

[[nodiscard]] target_result
apply_rras_target(const bundle& contents, const target_context& context);

} // namespace certfleet::deploy
