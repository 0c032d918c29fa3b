#pragma once
// Logging to stderr, one line an event, with a UTC timestamp. Text that came from the network
// must go through escape() first.

#include <cstdio>
#include <string>
#include <string_view>

namespace certfleet::app {

enum class level
{
    debug,
    info,
    warn,
    error,
};

void set_log_level(level min) noexcept;
// Where the lines go: stderr unless set (the Windows service writes to a file).
void set_log_output(std::FILE* out) noexcept;
void log(level l, std::string_view message);

// Printable ASCII only: anything else becomes \xHH, so that a hostile peer cannot forge lines.
[[nodiscard]] std::string escape(std::string_view untrusted);

} // namespace certfleet::app
