#pragma once
// The real certfleet binary in integration tests: `certfleet serve` as a background server, and
// the command line run to completion.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/rig.hpp"

namespace certfleet::test {

// The certfleet executable this build made (CERTFLEET_BINARY at compile time).
[[nodiscard]] std::filesystem::path certfleet_binary();

// Runs `certfleet args...` to completion.
[[nodiscard]] run_result
run_certfleet(const std::vector<std::string>& args, const run_options& options = {});

struct certfleet_options
{
    // The TOML configuration, written to <dir>/certfleet-<port>.toml. "{port}" in it is
    // replaced by the port chosen for the server.
    std::string config;
    // A name in a served zone: the server is ready when it answers its SOA with AA.
    std::string ready_name;
    std::vector<std::string> extra_args; // after `serve --config FILE`
    std::chrono::milliseconds start_timeout{10'000};
};

class certfleet_process
{
public:
    // Picks a free port, writes the configuration, starts `certfleet serve --config FILE` and
    // waits until it answers; throws rig_error with the end of its log when it does not.
    certfleet_process(const temp_dir& dir, certfleet_options options);

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string address() const; // "127.0.0.1:PORT"
    [[nodiscard]] const std::filesystem::path& config_file() const noexcept { return config_file_; }
    [[nodiscard]] child_process& process() noexcept { return *process_; }
    int stop() { return process_->stop(); }

private:
    std::uint16_t port_ = 0;
    std::filesystem::path config_file_;
    std::unique_ptr<child_process> process_;
};

// `text` with every "{port}" replaced by `port`.
[[nodiscard]] std::string with_port(std::string text, std::uint16_t port);

} // namespace certfleet::test
