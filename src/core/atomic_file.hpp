#pragma once
// Atomic file replacement: a temporary file in the same directory, written, fsynced, renamed
// over the target, then the directory fsynced. A reader sees the old content or the new, never
// a mix; a crash or a full disk leaves the old file in place.

#include <sys/types.h>

#include <boost/system/error_code.hpp>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace certfleet::core {

#ifdef _WIN32
// Windows has no POSIX owners: the fields exist for portable code, and Windows ignores them
// (src/windows/atomic_file.cpp).
using uid_t = unsigned;
using gid_t = unsigned;
#endif

struct atomic_write_options
{
    mode_t mode = 0644; // 0600 for keys
    // When the target exists, the new file keeps its owner, group and mode (a web server that
    // reads a key through its group keeps reading it); `mode` applies to new files only.
    bool keep_existing_owner_and_mode = true;
    // Set explicitly (as root, or to a group the writer is in): applied to the new file in any
    // case, before it is renamed into place, so the file never appears with another owner.
    std::optional<uid_t> owner;
    std::optional<gid_t> group;
};

[[nodiscard]] boost::system::error_code write_file_atomically(
    const std::filesystem::path& target,
    std::string_view content,
    const atomic_write_options& options = {}
);

struct file_content
{
    std::filesystem::path target;
    std::string_view content;
    atomic_write_options options;
};

// Installs several files as a set (fullchain.pem with its key.pem): every temporary file is
// written and fsynced before the first rename, so a write failure (a full disk) leaves all the
// old files in place. Files in one directory: a rename there cannot fail for lack of space.
[[nodiscard]] boost::system::error_code
write_files_atomically(const std::vector<file_content>& files);

// Creates `target` with `content`, failing with file_exists when anything is at that path (a
// dangling symlink included): a key that exists is never replaced. The file appears whole or not
// at all (written to a temporary, then hard-linked into place).
[[nodiscard]] boost::system::error_code create_file_exclusively(
    const std::filesystem::path& target, std::string_view content, mode_t mode = 0600
);

// A directory for output files, created with `mode` (and its parents) when missing.
// On Windows, a directory it creates with a mode that has no group or other bits gets a protected
// ACL for SYSTEM and Administrators only (restrict_to_administrators).
[[nodiscard]] boost::system::error_code
ensure_directory(const std::filesystem::path& dir, mode_t mode = 0700);

#ifdef _WIN32
// Replaces the directory's ACL with one that admits SYSTEM and Administrators only (full
// control, inherited by what it holds) and no inherited entries.
[[nodiscard]] boost::system::error_code restrict_to_administrators(const std::filesystem::path& dir
);
#endif

} // namespace certfleet::core
