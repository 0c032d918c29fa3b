#pragma once
// The real certfleet-agent binary in integration tests: enroll and status run to completion,
// `certfleet-agent run` as a background process stopped by its PID.

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/rig.hpp"

namespace certfleet::test {

// The certfleet-agent executable this build made (CERTFLEET_AGENT_BINARY at compile time).
[[nodiscard]] std::filesystem::path agent_binary();

// Runs `certfleet-agent args...` to completion.
[[nodiscard]] run_result run_agent(
    const std::vector<std::string>& args,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000)
);

// One agent's state directory, and its `run` process while started.
class agent_host
{
public:
    // <parent>/<name>: the state directory (not created: enroll makes it).
    agent_host(const temp_dir& parent, std::string name);
    ~agent_host();
    agent_host(const agent_host&) = delete;
    agent_host& operator=(const agent_host&) = delete;

    // `certfleet-agent enroll --token T --state-dir D`.
    [[nodiscard]] run_result enroll(const std::string& token) const;
    // `certfleet-agent status --state-dir D --json`, parsed (throws rig_error when it fails).
    [[nodiscard]] nlohmann::json status() const;

    // Starts `certfleet-agent run --state-dir D --poll-seconds N`; stops a running one
    // first.
    void start(int poll_seconds = 20);
    // SIGTERM by PID; returns its exit status (0 when it was not running).
    int stop();
    [[nodiscard]] bool running();
    [[nodiscard]] std::string log() const;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::filesystem::path& state_dir() const noexcept { return state_dir_; }

private:
    std::string name_;
    std::filesystem::path state_dir_;
    std::filesystem::path log_file_;
    std::unique_ptr<child_process> process_;
};

} // namespace certfleet::test
