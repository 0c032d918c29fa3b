#pragma once
// The Windows agent (certfleet-agent.exe, cross-built into build/windows) under Wine in
// integration tests: one Wine prefix per test (a temporary directory; its wineserver is stopped
// and the directory removed at the end), and agent hosts like rig_agent.hpp's whose commands run
// through Wine.

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/rig.hpp"

namespace certfleet::test {

// A Linux path as the Windows program sees it (Wine maps "/" to drive Z:): "Z:\tmp\x".
[[nodiscard]] std::string windows_path(const std::filesystem::path& path);

class wine_prefix
{
public:
    wine_prefix();
    ~wine_prefix();
    wine_prefix(const wine_prefix&) = delete;
    wine_prefix& operator=(const wine_prefix&) = delete;

    // argv that runs `program args...` under Wine in this prefix (WINEDEBUG=-all).
    [[nodiscard]] std::vector<std::string>
    argv(const std::filesystem::path& program, const std::vector<std::string>& args) const;
    [[nodiscard]] run_result
    run(const std::filesystem::path& program,
        const std::vector<std::string>& args,
        std::chrono::milliseconds timeout = std::chrono::seconds{90}) const;

private:
    temp_dir dir_{"certfleet-wine"};
};

// One Windows agent: its state directory and its `run` process while started.
class wine_agent_host
{
public:
    wine_agent_host(
        const wine_prefix& wine,
        std::filesystem::path agent_exe,
        const temp_dir& parent,
        std::string name
    );
    ~wine_agent_host();
    wine_agent_host(const wine_agent_host&) = delete;
    wine_agent_host& operator=(const wine_agent_host&) = delete;

    [[nodiscard]] run_result enroll(const std::string& token) const;
    [[nodiscard]] run_result command(const std::vector<std::string>& args) const;
    // `status --json`, parsed (throws rig_error when it fails).
    [[nodiscard]] nlohmann::json status() const;
    void start(int poll_seconds);
    void stop();
    [[nodiscard]] std::string log() const;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::filesystem::path& state_dir() const noexcept { return state_dir_; }

private:
    const wine_prefix& wine_;
    std::filesystem::path exe_;
    std::string name_;
    std::filesystem::path state_dir_;
    std::filesystem::path log_file_;
    std::unique_ptr<child_process> process_;
};

} // namespace certfleet::test
