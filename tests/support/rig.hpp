#pragma once
// The integration-test rig, part one: temporary directories, programs found on the PATH, child
// processes started with posix_spawn and stopped by their PID, and commands run to completion
// with a timeout. Built on it: rig_net.hpp (free ports, raw DNS sockets, readiness probes),
// rig_dns_servers.hpp (NSD, unbound), rig_certfleet.hpp (the certfleet binary),
// rig_authority.hpp (an authority in the test's own process), rig_dig.hpp (dig and kdig output).
//
// Set-up failures throw rig_error with what is wrong and what to do, so that a missing program or
// a server that does not start fails the test: integration tests never skip.
//
// Thread safety: none of these objects may be shared between threads without a lock.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::test {

class rig_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// A fresh directory under the system's temporary directory, removed with everything in it when
// the object goes away, unless CERTFLEET_KEEP_TEST_DIRS is set in the environment (to read the
// servers' logs and configuration after a failure).
class temp_dir
{
public:
    explicit temp_dir(std::string_view prefix = "certfleet-test");
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    // Writes `contents` to path()/file (an absolute `file` is taken as it is), creating
    // directories on the way; returns the full path.
    std::filesystem::path write(const std::filesystem::path& file, std::string_view contents) const;
    // path()/name, created when missing.
    [[nodiscard]] std::filesystem::path subdir(const std::filesystem::path& name) const;

private:
    std::filesystem::path path_;
};

// The whole content of a file; empty when it cannot be read.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& file);
// The last `max_lines` lines of `text`, for error messages.
[[nodiscard]] std::string tail_lines(std::string_view text, std::size_t max_lines = 20);

// Finds an executable by name in PATH, then /usr/sbin and /sbin (where nsd and unbound live).
// A name holding a '/' is returned as it is when executable. Throws rig_error when not found.
[[nodiscard]] std::filesystem::path find_program(std::string_view name);

struct child_options
{
    // argv[0] is a path or a name looked up with find_program().
    std::vector<std::string> argv;
    // "NAME=value" entries added to this process's environment (overriding the same names).
    std::vector<std::string> env;
    // Receives stdout and stderr (appended). Required.
    std::filesystem::path log_file;
    // How long stop() waits after SIGTERM before it sends SIGKILL.
    std::chrono::milliseconds stop_timeout{5000};
};

// A program running in the background. Only ever signals its own PID; the destructor stops it.
class child_process
{
public:
    // Starts the program; throws rig_error when it cannot be started.
    explicit child_process(child_options options);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // True while it runs; reaps it (and records its exit status) once it has exited.
    [[nodiscard]] bool running();
    // The exit code once reaped, or 128 + the signal that ended it.
    [[nodiscard]] std::optional<int> exit_status() const noexcept { return status_; }
    // Waits up to `timeout` for it to exit on its own; returns its exit status if it did.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    // Sends `sig` to its PID while it runs.
    void signal(int sig);
    // SIGTERM, up to stop_timeout for it to exit, then SIGKILL. Returns its exit status. Calling
    // it again returns the same status.
    int stop();

    [[nodiscard]] const std::filesystem::path& log_file() const noexcept
    {
        return options_.log_file;
    }
    [[nodiscard]] std::string log() const { return read_text_file(options_.log_file); }
    // "name (pid N)", for messages.
    [[nodiscard]] std::string describe() const;

private:
    child_options options_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

struct run_result
{
    int exit_code = -1; // 128 + signal when killed by one
    std::string out;
    std::string err;
    bool timed_out = false;
};

struct run_options
{
    std::chrono::milliseconds timeout{10'000};
    std::vector<std::string> env; // as child_options::env
};

// Runs a program to completion and captures its output. On timeout the program is killed
// (SIGKILL to its PID) and timed_out is set. Throws rig_error when it cannot be started.
[[nodiscard]] run_result run(const std::vector<std::string>& argv, const run_options& options = {});

// "argv[0] arg1 ...", for messages.
[[nodiscard]] std::string join_command(const std::vector<std::string>& argv);

} // namespace certfleet::test
