#include "deploy/process.hpp"

#include "deploy/errc.hpp"

namespace certfleet::deploy {

std::string describe_process_error(
    std::string_view program, std::chrono::milliseconds timeout, boost::system::error_code error
)
{
    const std::string name = "\"" + std::string(program) + "\"";
    if (error == errc::process_timeout) {
        const auto seconds = std::chrono::ceil<std::chrono::seconds>(timeout).count();
        return name + " ran past its " + std::to_string(seconds) + " s limit and was killed";
    }
    if (error == errc::process_failed) {
        return "could not run " + name +
               " (not found on the PATH, not executable, or its working directory is missing)";
    }
    return "could not run " + name + ": " + error.message();
}

} // namespace certfleet::deploy
