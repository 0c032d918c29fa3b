#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

boost::system::error_code write_file_atomically(
    const std::filesystem::path& target,
    std::string_view content,
    const atomic_write_options& options
)
{
    const auto directory = target.has_parent_path() ? target.parent_path() : ".";
    std::string temp = (directory / ("." + target.filename().string() + ".XXXXXX")).string();
    fd_guard file{::mkstemp(temp.data())};
    if (file.get() < 0) {
        return last_error();
    }
    auto fail = [&](boost::system::error_code ec) {
        ::unlink(temp.c_str());
        return ec;
    };
    if (::fchmod(file.get(), options.mode) != 0) {
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
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        return fail(last_error());
    }
    fd_guard dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY)};
    if (dir.get() >= 0) {
        ::fsync(dir.get());
    }
    return {};
}

} // namespace certfleet::core
