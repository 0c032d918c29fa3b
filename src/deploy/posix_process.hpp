#pragma once
// The POSIX process port (process.hpp) on fork/execve.
//
// The program is looked up on the PATH before forking (the PATH of the environment it will get),
// so "not found" is known without starting anything. The child gets its own process group, the
// default disposition of every signal and an empty signal mask, standard input on one end of a
// socket pair (so that writing to a program that never reads cannot raise SIGPIPE in the agent),
// standard output and error on one pipe, and no other descriptor. After execve fails in the child
// its errno travels back on a close-on-exec pipe and run() returns process_failed.
//
// The run ends when the program exits: output still held by its background children is not waited
// for (a reload command may start a daemon that keeps the pipe open). At the deadline the whole
// process group gets SIGKILL.
//
// Thread safety: run() may be called from several threads at once; nothing between fork and execve
// allocates or takes a lock.

#include "deploy/process.hpp"

namespace certfleet::deploy {

class posix_process_runner final : public process_runner
{
public:
    [[nodiscard]] boost::system::result<process_outcome> run(process_request request
    ) const override;
};

// The executable `name` resolves to on `path_variable` (a PATH value), as execvp would find it
// when run in `directory` (which relative paths start from); a name holding a '/' is taken as it
// is. Empty when there is none.
[[nodiscard]] std::filesystem::path find_executable(
    std::string_view name, std::string_view path_variable, const std::filesystem::path& directory
);

} // namespace certfleet::deploy
