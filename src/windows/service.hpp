#pragma once
// certfleet-agent as a Windows service: "certfleet-agent", automatic start, LocalSystem, restarted
// by the service control manager after a failure (after 10 s, 60 s, then every 5 minutes; the
// count resets after a day without failure). Its command line is
// `"<this program>" service --state-dir "<dir>"`; its log goes to <dir>\agent.log.

#include <atomic>
#include <functional>
#include <string>

namespace certfleet::windows {

inline constexpr const wchar_t* service_name = L"certfleet-agent";

// Registers (or updates) the service for `state_dir` and starts it. Returns "" or what failed,
// with what to do.
[[nodiscard]] std::string install_service(const std::string& state_dir);
// Stops the service (waiting up to 60 s) and removes it; the state directory stays.
[[nodiscard]] std::string uninstall_service();
// "running", "stopped", "start pending", ..., or "not installed".
[[nodiscard]] std::string service_state();

// Runs as the service (called by `certfleet-agent service`): connects to the service control
// manager and calls `run` on the service's thread; a stop or shutdown request sets `stop`, and
// the service reports stopped once `run` has returned its exit code. Returns false when the
// program was not started by the service control manager.
bool run_as_service(std::function<int()> run, std::atomic<bool>& stop);

} // namespace certfleet::windows
