#pragma once
// A small tmpfs that a test can fill to the last byte: a real full disk under certfleet's
// database or output files. It is mounted in a private mount namespace of the test process
// (as root: unshare(CLONE_NEWNS); otherwise in a user namespace mapping this user to root), so
// that nothing outside the test and the programs it starts sees it, and it goes with them.
// Neither possible: rig_error saying so (the test fails, it is not skipped).

#include <cstdint>
#include <filesystem>

namespace certfleet::test {

class small_tmpfs
{
public:
    // Enters the private mount namespace (first use in this process) and mounts a tmpfs of
    // `bytes` at `mount_point` (created when missing). Call before the test starts threads.
    small_tmpfs(std::filesystem::path mount_point, std::uint64_t bytes);
    ~small_tmpfs();
    small_tmpfs(const small_tmpfs&) = delete;
    small_tmpfs& operator=(const small_tmpfs&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    // Writes a filler file until the tmpfs refuses with ENOSPC; returns how many bytes it took.
    std::uint64_t fill();
    // Deletes the filler.
    void unfill();
    // Bytes still free.
    [[nodiscard]] std::uint64_t available() const;

private:
    std::filesystem::path path_;
};

} // namespace certfleet::test
