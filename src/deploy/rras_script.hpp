#pragma once
// The "rras" target's script (DESIGN section 6, RRAS.md section 9): the one PowerShell 5.1 script
// the Windows agent runs per deployment, rendered here from typed inputs, and the parser of the
// JSON line it prints.
//
// The script (run elevated, password on standard input as its first line, never in argv):
//   preflight - elevated? then a machine-wide mutex (one deployment at a time);
//   import  - the PFX's leaf into LocalMachine\My as a persisted machine key (its SHA-1 and
//             SHA-256 over the DER must equal the injected ones), intermediates into
//             LocalMachine\CA;
//   backup  - SHA256CertificateHash, SHA1CertificateHash, isHashConfiguredByAdmin under
//             HKLM\SYSTEM\CurrentControlSet\Services\SstpSvc\Parameters, and the HTTP.SYS bindings
//             0.0.0.0:<port> and [::]:<port> (port: ListenerPort, default 443); an SNI binding
//             for <probe host>:<port> with another certificate stops the run here (it would
//             shadow SSTP's binding);
//   registry- both hashes (REG_BINARY) and isHashConfiguredByAdmin = 1 (REG_DWORD);
//   bind    - both bindings to the new thumbprint (the SSTP appid, or the owner's when shared);
//   restart - SstpSvc and its dependents (RasMan, RemoteAccess), each wait bounded;
//   verify  - values read back, both bindings, services running, TLS on the port (v4 and v6,
//             SNI = probe host) presents the new certificate and SSTP answers
//             SSTP_DUPLEX_POST /sra_{BA195980-...}/ with HTTP/1.1 200 (MS-SSTP 4.1);
//   on failure after the first change: the backed-up values and bindings are restored and the
//   services restarted (rolled_back says whether that worked);
//   cleanup - only after success: the old certificate leaves LocalMachine\My unless something
//             still references it.
// Output (ASCII: other characters as \u escapes, whatever the console's code page): exactly one
// JSON line {"ok":..,"stage":..,"message":..,"rolled_back":..,...}; exit
// code 0 (ok), 1 (failed, rolled back), 2 (failed, not rolled back).
//
// Injection: hashes become byte-array literals (validated hex first); every text value is
// base64 (UTF-8) inside a single-quoted literal, decoded at run time, so no input can change the
// script's structure.

#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "deploy/target.hpp"

namespace certfleet::deploy {

struct rras_script_input
{
    std::string sha1_hex;      // 40 lower-case hex: SHA-1 of the leaf's DER (the thumbprint)
    std::string sha256_hex;    // 64 lower-case hex: SHA-256 of the leaf's DER
    std::string pfx_path;      // where the agent wrote the PFX
    std::string friendly_name; // for the certificate store; empty: none
    std::string probe_host;    // SNI for the TLS check (the SSTP server's FQDN)
    std::chrono::seconds service_timeout{300}; // each stop/start wait
    std::chrono::seconds listen_timeout{60};   // until the port listens after the restart
    bool remove_old_certificate = true;        // after success only
};

// The script text. Errors: invalid_target_options (a hash that is not exactly 40/64 lower-case
// hex, a timeout outside 1..3600 s, an empty PFX path or probe host).
[[nodiscard]] boost::system::result<std::string> render_rras_script(const rras_script_input& in);

// The script's result: the last line of `text` that is a JSON object with a boolean "ok".
// Nothing like it: a failure at stage "output" whose message says so. Other fields of that object
// go to details.
[[nodiscard]] target_result parse_rras_result(std::string_view text) noexcept;

} // namespace certfleet::deploy
