#pragma once
// The "exec" target (DESIGN section 6): runs the operator's program to install the certificate
// wherever certfleet has no target of its own.
//
// Options (JSON object):
//   "command": argv array, required (argv[0] looked up on the PATH; no shell unless it names one).
//   "timeout_seconds": default 120; past it the program and its process group are killed.
//   "dir": absolute directory for the files below (created 0700 when missing); default: the
//       agent's work directory for the assignment. The program runs there.
//
// Before the program starts, the public files are written in "dir": cert.pem (the leaf),
// chain.pem (the intermediates), fullchain.pem (both), and, when the bundle has one, cert.pfx
// (0600; removed again when the program has finished: copy it if you need it later).
//
// Environment (added to the agent's):
//   CERTFLEET_CERT_FILE, CERTFLEET_CHAIN_FILE, CERTFLEET_FULLCHAIN_FILE, CERTFLEET_PFX_FILE (only
//   with a PFX): absolute paths. CERTFLEET_SHA256, CERTFLEET_SHA1 (the Windows thumbprint): lower-
//   case hex of the leaf's DER. CERTFLEET_SERIAL (hex), CERTFLEET_NAMES (the DNS names, space
//   separated), CERTFLEET_NOT_BEFORE, CERTFLEET_NOT_AFTER (RFC 3339, UTC), CERTFLEET_VERSION,
//   CERTFLEET_CERTIFICATE, CERTFLEET_ASSIGNMENT (the server's ids).
//
// Secrets travel on standard input only, never in arguments, environment or files:
//   line 1: the PFX password (an empty line when there is no PFX), then a newline;
//   the rest, to end of file: the private key, PKCS#8 PEM.
// From a shell script:
//   IFS= read -r pfx_password    # the first line
//   key_pem=$(cat)               # everything after it
//   (or, for the key alone: tail -n +2 > key.pem)
//
// The program's exit status 0 is success; anything else (or a timeout) is a failure whose message
// carries the program's output (standard output and error, the end of it). An exec target cannot
// roll anything back: that is the program's business.

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "deploy/target.hpp"

namespace certfleet::deploy {

struct exec_options
{
    std::vector<std::string> command;
    std::chrono::seconds timeout{120};
    std::filesystem::path dir; // empty: the context's work_dir
};

// Reads the options; nothing, with `problem` in words, when they are wrong.
[[nodiscard]] std::optional<exec_options>
parse_exec_options(const nlohmann::json& options, std::string& problem);

[[nodiscard]] target_result
apply_exec_target(const bundle& contents, const target_context& context);

} // namespace certfleet::deploy
