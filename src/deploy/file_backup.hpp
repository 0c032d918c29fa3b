#pragma once
// Saving the files a deployment is about to replace, and putting them back (the files target's
// rollback). A backup is a copy of each file that exists (0600, in a 0700 directory, since one of
// them is usually a private key) with its mode, owner and group, plus a manifest.json beside the
// copies that lets a person restore by hand if the agent dies half-way. A file that did not exist
// is noted as such: putting it back means removing it.

#include <sys/types.h>

#include <boost/system/result.hpp>
#include <filesystem>
#include <vector>

namespace certfleet::deploy {

struct saved_file
{
    std::filesystem::path target;
    bool existed = false;
    std::filesystem::path copy; // in the backup directory, when it existed
    mode_t mode = 0;
    uid_t owner = 0;
    gid_t group = 0;
};

// Copies each of `targets` that exists into `directory` (created 0700; earlier copies there are
// removed first). Errors: the system error of the first copy or stat that failed (a target that
// is not a regular file is not_supported).
[[nodiscard]] boost::system::result<std::vector<saved_file>> back_up_files(
    const std::vector<std::filesystem::path>& targets, const std::filesystem::path& directory
);

// Writes every saved file back with its mode, owner and group (each atomically), unless it is
// already as it was, and removes those that did not exist. Returns the first error, after trying
// every file, so that as much as possible is back.
[[nodiscard]] boost::system::error_code restore_files(const std::vector<saved_file>& saved);

// Removes the copies and the manifest (the directory stays).
void discard_backup(const std::filesystem::path& directory);

} // namespace certfleet::deploy
