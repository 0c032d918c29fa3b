#pragma once
// The process port (process.hpp) on Windows: CreateProcessW in a job object.
//
// The command line is built from argv with the quoting rules CommandLineToArgvW and the C runtime
// undo, so every argument arrives as it was given; argv[0] is looked up as CreateProcess does
// (the program's directory, the system directories, then the PATH; ".exe" appended). Standard
// input is a pipe fed from a separate thread and then closed (secrets travel there, never in the
// command line); standard output and error share one pipe, read until the program exits. At the
// deadline the whole job (the program and everything it started) is terminated.
//
// Thread safety: run() may be called from several threads at once: the child inherits only its
// own pipe ends (PROC_THREAD_ATTRIBUTE_HANDLE_LIST).

#include "deploy/process.hpp"

namespace certfleet::deploy {

class win_process_runner final : public process_runner
{
public:
    [[nodiscard]] boost::system::result<process_outcome> run(process_request request
    ) const override;
};

// One argument quoted for a Windows command line (a pure function, exposed for tests).
[[nodiscard]] std::wstring quote_argument(std::wstring_view argument);

} // namespace certfleet::deploy
