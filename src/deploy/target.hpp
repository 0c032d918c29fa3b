#pragma once
// Targets (DESIGN section 6): what an agent does with a verified bundle on its host. Each run
// returns a structured result that the agent reports to the server; a failed run restores what
// was there before (as far as the target can) and says so.
//
// Targets: "files" (files_target.hpp), "exec" (exec_target.hpp), "rras" (rras_target.hpp).

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "deploy/bundle.hpp"
#include "deploy/crypto_port.hpp"
#include "deploy/probe.hpp"
#include "deploy/process.hpp"

namespace certfleet::deploy {

struct target_result
{
    bool ok = false;
    std::string stage;   // where it ended: "options", "write", "reload", "verify", "exec", "done"
    std::string message; // for humans: what happened and what to do
    bool rolled_back = false;                          // the previous state was restored
    nlohmann::json details = nlohmann::json::object(); // paths, exit codes, probe result
};

[[nodiscard]] nlohmann::json to_json(const target_result& result);

struct target_context
{
    const process_runner& processes;
    std::function<probe_result(const probe_request&)> probe; // run_probe, or a test's own
    std::filesystem::path work_dir;      // the agent's private directory for this assignment
    const crypto_port* crypto = nullptr; // hashes (rras); the agent's own port
};

// Options that the server acts on when it builds the bundle, valid beside any target's own:
// "pfx_protection": "legacy" (TripleDES-SHA1, SHA-1 MAC: what Windows Server 2016 and older
// import; the default) or "aes" (PBES2/PBKDF2/AES-256-CBC, SHA-256 MAC).
[[nodiscard]] bool is_server_option(std::string_view name) noexcept;

// Checks a target's options without running it (the server does this when an assignment is
// made). Returns the problem in words, or empty.
[[nodiscard]] std::string
check_target_options(std::string_view target, const nlohmann::json& options);

// Applies `contents` with the target it names.
[[nodiscard]] target_result apply_target(const bundle& contents, const target_context& context);

} // namespace certfleet::deploy
