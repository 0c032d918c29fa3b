#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/system/result.hpp>
#include <cerrno>
#include <string>
#include <utility>

namespace certfleet::core {
namespace {

boost::system::error_code last_error()
{
    return {errno, boost::system::system_category()};
}

class fd_guard
{
public:
    explicit fd_guard(int fd) : fd_(fd) {}
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    ~fd_guard()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    [[nodiscard]] int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

boost::system::error_code write_all(int fd, std::string_view content)
{
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return last_error();
        }
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

} // namespace

namespace {

struct staged_file
{
    std::filesystem::path target;
    std::string temp;
};

void fsync_directory(const std::filesystem::path& directory)
{
    fd_guard dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY)};
    if (dir.get() >= 0) {
        ::fsync(dir.get());
    }
}

std::filesystem::path directory_of(const std::filesystem::path& target)
{
    return target.has_parent_path() ? target.parent_path() : ".";
}

// Writes `content` to a fresh temporary beside `target`, with the mode (and owner) it must have.
boost::system::result<staged_file> stage(
    const std::filesystem::path& target,
    std::string_view content,
    const atomic_write_options& options
)
{
    std::string temp =
        (directory_of(target) / ("." + target.filename().string() + ".XXXXXX")).string();
    fd_guard file{::mkstemp(temp.data())};
    if (file.get() < 0) {
        return last_error();
    }
    auto fail = [&](boost::system::error_code ec) {
        ::unlink(temp.c_str());
        return ec;
    };
    mode_t mode = options.mode;
    struct stat existing
    {};
    if (options.keep_existing_owner_and_mode && ::stat(target.c_str(), &existing) == 0) {
        mode = existing.st_mode & 07777;
        if (::fchown(file.get(), existing.st_uid, existing.st_gid) != 0 && errno != EPERM) {
            return fail(last_error());
        }
    }
    if (options.owner || options.group) {
        const uid_t uid = options.owner ? *options.owner : static_cast<uid_t>(-1);
        const gid_t gid = options.group ? *options.group : static_cast<gid_t>(-1);
        if (::fchown(file.get(), uid, gid) != 0) {
            return fail(last_error());
        }
    }
    // After fchown, which clears the set-id bits.
    if (::fchmod(file.get(), mode) != 0) {
        return fail(last_error());
    }
    if (auto ec = write_all(file.get(), content)) {
        return fail(ec);
    }
    if (::fsync(file.get()) != 0) {
        return fail(last_error());
    }
    if (::close(file.release()) != 0) {
        return fail(last_error());
    }
    return staged_file{target, std::move(temp)};
}

} // namespace

boost::system::error_code write_file_atomically(
    const std::filesystem::path& target,
    std::string_view content,
    const atomic_write_options& options
)
{
    return write_files_atomically({file_content{target, content, options}});
}

boost::system::error_code write_files_atomically(const std::vector<file_content>& files)
{
    std::vector<staged_file> staged;
    auto discard = [&](boost::system::error_code ec) {
        for (const auto& f : staged) {
            ::unlink(f.temp.c_str());
        }
        return ec;
    };
    for (const auto& f : files) {
        auto s = stage(f.target, f.content, f.options);
        if (!s) {
            return discard(s.error());
        }
        staged.push_back(std::move(*s));
    }
    for (std::size_t i = 0; i < staged.size(); ++i) {
        if (::rename(staged[i].temp.c_str(), staged[i].target.c_str()) != 0) {
            const auto ec = last_error();
            for (std::size_t j = i; j < staged.size(); ++j) {
                ::unlink(staged[j].temp.c_str());
            }
            return ec;
        }
    }
    for (const auto& f : staged) {
        fsync_directory(directory_of(f.target));
    }
    return {};
}

boost::system::error_code
create_file_exclusively(const std::filesystem::path& target, std::string_view content, mode_t mode)
{
    auto s = stage(
        target, content, atomic_write_options{.mode = mode, .keep_existing_owner_and_mode = false}
    );
    if (!s) {
        return s.error();
    }
    // link() fails with EEXIST for anything at the path, a dangling symlink included.
    const int linked = ::link(s->temp.c_str(), target.c_str());
    const auto ec = linked == 0 ? boost::system::error_code{} : last_error();
    ::unlink(s->temp.c_str());
    if (!ec) {
        fsync_directory(directory_of(target));
    }
    return ec;
}

boost::system::error_code ensure_directory(const std::filesystem::path& dir, mode_t mode)
{
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) {
        return {};
    }
    std::vector<std::filesystem::path> missing;
    for (auto p = dir; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) {
            break;
        }
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), mode) != 0 && errno != EEXIST) {
            return last_error();
        }
    }
    if (!std::filesystem::is_directory(dir, ec)) {
        return make_error_code(boost::system::errc::not_a_directory);
    }
    return {};
}

} // namespace certfleet::core
