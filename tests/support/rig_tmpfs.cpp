#include "support/rig_tmpfs.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "support/rig.hpp"

namespace certfleet::test {
namespace {

std::string errno_text(int e)
{
    return std::error_code(e, std::generic_category()).message();
}

void write_proc(const std::string& file, const std::string& text)
{
    std::ofstream out(file);
    out << text;
    out.close();
    if (!out) {
        throw rig_error("cannot write " + file + " for the user namespace");
    }
}

// As root, a mount namespace of our own; otherwise a user namespace in which we are root, with
// one. Mounts made afterwards are seen by this process and its children only.
void enter_private_mount_namespace()
{
    static bool entered = false;
    if (entered) {
        return;
    }
    if (::geteuid() == 0) {
        if (::unshare(CLONE_NEWNS) != 0) {
            throw rig_error(
                "unshare(CLONE_NEWNS) failed as root: " + errno_text(errno) +
                ". The full-disk tests need a private mount namespace (a container without "
                "CAP_SYS_ADMIN cannot make one): run them with that capability."
            );
        }
    } else {
        const auto uid = ::geteuid();
        const auto gid = ::getegid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            throw rig_error(
                "not root, and unshare(CLONE_NEWUSER | CLONE_NEWNS) failed: " + errno_text(errno) +
                ". The full-disk tests mount a small tmpfs in a private mount namespace: run "
                "them as root (CI does), or allow unprivileged user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1)."
            );
        }
        write_proc("/proc/self/setgroups", "deny");
        write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
        write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    }
    // Nothing we mount propagates back to the machine's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        throw rig_error("cannot make / private in the new mount namespace: " + errno_text(errno));
    }
    entered = true;
}

} // namespace

small_tmpfs::small_tmpfs(std::filesystem::path mount_point, std::uint64_t bytes)
    : path_(std::move(mount_point))
{
    enter_private_mount_namespace();
    std::filesystem::create_directories(path_);
    const auto options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        throw rig_error(
            "cannot mount a tmpfs at " + path_.string() + ": " + errno_text(errno) +
            " (the full-disk tests need to mount one in a private namespace)"
        );
    }
}

small_tmpfs::~small_tmpfs()
{
    // Lazily: a program of the test may still hold a file there.
    ::umount2(path_.c_str(), MNT_DETACH);
}

std::uint64_t small_tmpfs::fill()
{
    const auto file = path_ / "filler";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw rig_error("cannot create " + file.string() + ": " + errno_text(errno));
    }
    std::array<char, 65536> block{};
    std::uint64_t written = 0;
    // Big blocks first, then single pages: tmpfs allocates by page, so the last page goes too.
    for (const std::size_t size : {block.size(), std::size_t{4096}, std::size_t{1}}) {
        for (;;) {
            const auto n = ::write(fd, block.data(), size);
            if (n > 0) {
                written += static_cast<std::uint64_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno != ENOSPC) {
                const auto e = errno;
                ::close(fd);
                throw rig_error("writing the filler: " + errno_text(e));
            }
            break;
        }
    }
    ::close(fd);
    return written;
}

void small_tmpfs::unfill()
{
    std::filesystem::remove(path_ / "filler");
}

std::uint64_t small_tmpfs::available() const
{
    struct statvfs s
    {};
    if (::statvfs(path_.c_str(), &s) != 0) {
        return 0;
    }
    return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

} // namespace certfleet::test
