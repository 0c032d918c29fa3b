#pragma once
// Running the operator's programs (reload commands, exec targets): a platform port. POSIX
// implements it with fork/exec (posix_process.hpp); Windows with CreateProcess.
//
// Contract: argv[0] is looked up on PATH; nothing goes through a shell unless argv says so
// ("/bin/sh", "-c", ...). `environment` is added to the agent's own environment. `input` is
// written to the program's standard input, which is then closed: secrets travel there, never in
// arguments or environment. Standard output and error are captured together, up to
// `max_output_bytes` (the rest is read and dropped). A program still running at `timeout` is
// killed (its whole process group on POSIX) and reported as process_timeout.

#include <boost/system/result.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certfleet::deploy {

struct process_request
{
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> environment;
    std::string input; // wiped by the runner after writing
    std::chrono::milliseconds timeout{std::chrono::minutes{2}};
    std::filesystem::path working_directory; // empty: the agent's own
    std::size_t max_output_bytes = 64 * 1024;
};

struct process_outcome
{
    int exit_code = -1; // the exit status, or 128 + the signal that ended it
    std::string output; // standard output and error, interleaved, truncated
};

class process_runner
{
public:
    virtual ~process_runner() = default;
    // Errors: process_failed (could not start: the message names the program), process_timeout.
    [[nodiscard]] virtual boost::system::result<process_outcome> run(process_request request
    ) const = 0;
};

// A run() error in words for a target's message, naming the program: `could not run "nginx"
// (not found on the PATH, not executable, or its working directory is missing)`, `"nginx" ran
// past its 30 s limit and was killed`.
[[nodiscard]] std::string describe_process_error(
    std::string_view program, std::chrono::milliseconds timeout, boost::system::error_code error
);

} // namespace certfleet::deploy
