#include "deploy/posix_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/crypto/secret.hpp"
#include "deploy/errc.hpp"

extern char** environ;

namespace certfleet::deploy {
namespace {

using steady = std::chrono::steady_clock;

class unique_fd
{
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept
    {
        reset(std::exchange(other.fd_, -1));
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_;
};

// Moves a descriptor to 3 or above (close-on-exec), so that the child's dup2 onto 0, 1 and 2
// never clobbers one it still needs when the agent runs with a standard descriptor closed.
unique_fd above_standard(int fd) noexcept
{
    unique_fd original(fd);
    if (fd > 2) {
        return original;
    }
    return unique_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
}

std::string_view name_of(std::string_view entry)
{
    return entry.substr(0, entry.find('='));
}

// Everything execve needs, built before fork: the child must not allocate.
struct prepared_exec
{
    std::filesystem::path program;
    std::vector<std::string> argv_storage;
    std::vector<std::string> env_storage;
    std::vector<char*> argv;
    std::vector<char*> envp;
};

prepared_exec prepare(process_request& request)
{
    prepared_exec p;
    p.argv_storage = std::move(request.argv);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const bool replaced = std::any_of(
            request.environment.begin(), request.environment.end(),
            [&](const auto& added) { return added.first == name_of(entry); }
        );
        if (!replaced) {
            p.env_storage.emplace_back(entry);
        }
    }
    std::string path_variable = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& [name, value] : request.environment) {
        p.env_storage.push_back(name + "=" + value);
    }
    for (const auto& entry : p.env_storage) {
        if (name_of(entry) == "PATH") {
            path_variable = entry.substr(5);
        }
    }
    // Relative names are found from where the child will run, as execvp there would.
    std::error_code ec;
    const auto base = std::filesystem::absolute(
        request.working_directory.empty() ? std::filesystem::path(".") : request.working_directory,
        ec
    );
    p.program = find_executable(p.argv_storage.front(), path_variable, base);
    for (auto& a : p.argv_storage) {
        p.argv.push_back(a.data());
    }
    p.argv.push_back(nullptr);
    for (auto& e : p.env_storage) {
        p.envp.push_back(e.data());
    }
    p.envp.push_back(nullptr);
    return p;
}

// In the child, between fork and execve: async-signal-safe calls only.
[[noreturn]] void exec_child(
    const prepared_exec& p, const char* working_directory, int input, int output, int report
) noexcept
{
    ::setpgid(0, 0);
    struct sigaction defaults
    {};
    defaults.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) {
        ::sigaction(s, &defaults, nullptr); // an ignored SIGPIPE would survive execve
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int error = 0;
    if (::dup2(input, 0) < 0 || ::dup2(output, 1) < 0 || ::dup2(output, 2) < 0) {
        error = errno;
    } else if (working_directory != nullptr && ::chdir(working_directory) != 0) {
        error = errno;
    } else {
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); // `report` is already close-on-exec
        ::execve(p.program.c_str(), p.argv.data(), p.envp.data());
        error = errno;
    }
    [[maybe_unused]] const auto n = ::write(report, &error, sizeof error);
    ::_exit(127);
}

int decode_status(int status) noexcept
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

void reap(pid_t pid) noexcept
{
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

struct child_pipes
{
    unique_fd input;  // our end of the child's standard input (a socket)
    unique_fd output; // our end of its standard output and error
};

// Starts the child; on success the caller owns its PID and the pipes.
boost::system::result<pid_t>
start(const prepared_exec& p, const std::filesystem::path& working_directory, child_pipes& pipes)
{
    std::array<int, 2> in{-1, -1};
    std::array<int, 2> out{-1, -1};
    std::array<int, 2> report{-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in.data()) != 0) {
        return errc::process_failed;
    }
    unique_fd in_ours = above_standard(in[0]), in_theirs = above_standard(in[1]);
    if (::pipe2(out.data(), O_CLOEXEC) != 0) {
        return errc::process_failed;
    }
    unique_fd out_ours = above_standard(out[0]), out_theirs = above_standard(out[1]);
    if (::pipe2(report.data(), O_CLOEXEC) != 0) {
        return errc::process_failed;
    }
    unique_fd report_ours(report[0]), report_theirs(report[1]);
    if (!in_ours.valid() || !in_theirs.valid() || !out_ours.valid() || !out_theirs.valid()) {
        return errc::process_failed;
    }
    const char* cwd = working_directory.empty() ? nullptr : working_directory.c_str();
    const pid_t pid = ::fork();
    if (pid < 0) {
        return errc::process_failed;
    }
    if (pid == 0) {
        exec_child(p, cwd, in_theirs.get(), out_theirs.get(), report_theirs.get());
    }
    ::setpgid(pid, pid); // as the child does: whichever runs first, the group exists
    report_theirs.reset();
    in_theirs.reset();
    out_theirs.reset();
    int error = 0;
    ssize_t n = 0;
    while ((n = ::read(report_ours.get(), &error, sizeof error)) < 0 && errno == EINTR) {
    }
    if (n != 0) { // execve failed (or the report pipe did): the child has exited with 127
        reap(pid);
        return errc::process_failed;
    }
    ::fcntl(out_ours.get(), F_SETFL, O_NONBLOCK);
    pipes.input = std::move(in_ours);
    pipes.output = std::move(out_ours);
    return pid;
}

struct exchange_state
{
    std::string_view input;
    std::size_t max_output = 0;
    process_outcome outcome;
};

// Reads what the pipe holds now; false at end of file or on an error.
bool read_available(int fd, exchange_state& state)
{
    std::array<char, 16384> buffer{};
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        const auto room =
            state.max_output - std::min(state.max_output, state.outcome.output.size());
        state.outcome.output.append(buffer.data(), std::min(room, static_cast<std::size_t>(n)));
    }
}

// Sends more input; false when it is all sent or the program will not take it.
bool write_some(int fd, exchange_state& state)
{
    while (!state.input.empty()) {
        const ssize_t n =
            ::send(fd, state.input.data(), state.input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return true;
        }
        if (n < 0) {
            return false; // EPIPE, ECONNRESET: the program closed its standard input
        }
        state.input.remove_prefix(static_cast<std::size_t>(n));
    }
    return false;
}

// Feeds input and collects output until the program exits or the deadline passes.
boost::system::result<process_outcome>
exchange(pid_t pid, child_pipes& pipes, exchange_state& state, steady::time_point deadline)
{
    // Readable once the program exits (Linux 5.3); without it, poll in short ticks. Called
    // through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
    const unique_fd exited(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (state.input.empty()) {
        pipes.input.reset();
    }
    for (;;) {
        int status = 0;
        const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
        // ECHILD: SIGCHLD is ignored, so the kernel reaped it and its status is lost (-1).
        if (reaped == pid || (reaped < 0 && errno == ECHILD)) {
            if (pipes.output.valid()) {
                read_available(pipes.output.get(), state);
            }
            state.outcome.exit_code = reaped == pid ? decode_status(status) : -1;
            return std::move(state.outcome);
        }
        const auto now = steady::now();
        if (now >= deadline) {
            ::kill(-pid, SIGKILL);
            reap(pid);
            return errc::process_timeout;
        }
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        if (!exited.valid()) {
            wait = std::min(wait, std::chrono::milliseconds{20});
        }
        std::array<pollfd, 3> fds{
            pollfd{pipes.output.get(), POLLIN, 0},
            pollfd{pipes.input.get(), POLLOUT, 0},
            pollfd{exited.get(), POLLIN, 0},
        };
        if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) < 0 && errno != EINTR) {
            return errc::process_failed;
        }
        if (fds[0].revents != 0 && !read_available(pipes.output.get(), state)) {
            pipes.output.reset();
        }
        if (fds[1].revents != 0 && !write_some(pipes.input.get(), state)) {
            pipes.input.reset(); // all sent: the program sees the end of its input
        }
    }
}

} // namespace

std::filesystem::path find_executable(
    std::string_view name, std::string_view path_variable, const std::filesystem::path& directory
)
{
    auto executable = [](const std::filesystem::path& candidate) {
        struct stat st
        {};
        return ::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
               ::access(candidate.c_str(), X_OK) == 0;
    };
    if (name.empty()) {
        return {};
    }
    if (name.find('/') != std::string_view::npos) {
        const auto candidate = directory / name; // `directory` is dropped when `name` is absolute
        return executable(candidate) ? candidate : std::filesystem::path{};
    }
    while (true) {
        const auto colon = path_variable.find(':');
        const auto dir = path_variable.substr(0, colon);
        // An empty entry means the current directory, as for execvp.
        const auto candidate = directory / std::filesystem::path(dir.empty() ? "." : dir) / name;
        if (executable(candidate)) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return {};
        }
        path_variable.remove_prefix(colon + 1);
    }
}

boost::system::result<process_outcome> posix_process_runner::run(process_request request) const
{
    // Held as a secret from here on: wiped on every path out of this function.
    const auto input = core::secret::adopt(std::move(request.input));
    if (request.argv.empty() || request.argv.front().empty()) {
        return errc::process_failed;
    }
    const auto p = prepare(request);
    if (p.program.empty()) {
        return errc::process_failed;
    }
    const auto deadline = steady::now() + request.timeout;
    child_pipes pipes;
    auto pid = start(p, request.working_directory, pipes);
    if (!pid) {
        return pid.error();
    }
    exchange_state state{.input = input.view(), .max_output = request.max_output_bytes};
    return exchange(*pid, pipes, state, deadline);
}

} // namespace certfleet::deploy
