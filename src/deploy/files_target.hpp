#pragma once
// The "files" target (DESIGN section 6): writes the certificate files a server reads, reloads the
// server, checks with a TLS handshake that it serves the new certificate, and puts everything
// back when the reload or the check fails.
//
// Options (JSON object):
//   "cert", "chain", "fullchain", "key", "pfx", "pfx_password": absolute paths of the files to
//       write (the leaf; the intermediates; both; the private key; the PKCS#12 file; its password
//       on one line). At least one. "dir": an absolute directory that gives the files not named
//       otherwise their usual names there: cert.pem, chain.pem, fullchain.pem, key.pem, cert.pfx
//       (the PFX only when the bundle has one; the password file only when named).
//       Parent directories must exist. A symlink at a path is followed: its target is replaced.
//   "owner", "group": a user or group name (looked up on the agent) or a number. When absent, a
//       file that exists keeps its owner and group; a new one gets the agent's.
//   "mode" (public files) and "key_mode" (key, PFX, password file): octal strings. When absent, a
//       file that exists keeps its mode; new ones get "0644" and "0600". A secret file never
//       keeps bits for others, whatever "key_mode" or the old file says.
//   "reload": the command that makes the server read the files (argv array, or a string for
//       "/bin/sh -c"); "reload_timeout_seconds" (default 60).
//   "verify": {"host", "port" (443), "sni", "sstp" (false), "wait_seconds" (10)}: after the
//       reload, probe the endpoint until it serves the new certificate, for up to wait_seconds
//       (a reloading server finishes its old connections first).
//
// A run: back up the files that exist into context.work_dir/backup (0700, with their modes and
// owners noted), write every file (each to a temporary in its own directory with its owner and
// mode, fsynced, then renamed over the old one), reload, verify. When writing, the reload or the
// check fails, every file is put back as it was (or removed when it did not exist), the reload is
// run again, and the result says so (rolled_back) with the reload's output and the probe's
// summary. The backups are removed once the run is over, unless putting them back failed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "deploy/target.hpp"

namespace certfleet::deploy {

enum class file_kind
{
    cert,
    chain,
    fullchain,
    key,
    pfx,
    pfx_password,
};

struct file_entry
{
    file_kind kind;
    std::filesystem::path path;
    bool from_dir = false; // named by "dir", not on its own: skipped when the bundle lacks it
};

struct files_options
{
    std::vector<file_entry> files;
    std::string owner; // as given; empty: keep
    std::string group;
    std::optional<mode_t> mode;
    std::optional<mode_t> key_mode;
    std::vector<std::string> reload; // empty: none
    std::chrono::seconds reload_timeout{60};
    std::optional<probe_request> verify; // expect_sha256 is set from the bundle when run
    std::chrono::seconds verify_wait{10};
};

// Reads the options; nothing, with `problem` in words, when they are wrong.
[[nodiscard]] std::optional<files_options>
parse_files_options(const nlohmann::json& options, std::string& problem);

[[nodiscard]] target_result
apply_files_target(const bundle& contents, const target_context& context);

} // namespace certfleet::deploy
