#pragma once
// Atomic file replacement: a temporary file in the same directory, written, fsynced, renamed
// over the target, then the directory fsynced. A reader sees the old content or the new, never
// a mix; a crash or a full disk leaves the old file in place.

#include <sys/types.h>

#include <boost/system/error_code.hpp>
#include <filesystem>
#include <string_view>

namespace certfleet::core {

struct atomic_write_options
{
    mode_t mode = 0644; // 0600 for keys
};

[[nodiscard]] boost::system::error_code write_file_atomically(
    const std::filesystem::path& target,
    std::string_view content,
    const atomic_write_options& options = {}
);

} // namespace certfleet::core
