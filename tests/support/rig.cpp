#include "support/rig.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>

extern char** environ;

namespace certfleet::test {
namespace {

using clock = std::chrono::steady_clock;

std::string errno_text(int error)
{
    return std::generic_category().message(error);
}

// Exit code, or 128 + signal, from a waitpid() status.
int decode_status(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

// Our environment with `extra` ("NAME=value") added, replacing entries of the same name.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra)
{
    auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
    std::vector<std::string> out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
            return name_of(x) == name_of(entry);
        });
        if (!replaced) {
            out.emplace_back(entry);
        }
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings)
{
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

// posix_spawn file actions and attributes, released on every path.
class spawn_setup
{
public:
    spawn_setup()
    {
        posix_spawn_file_actions_init(&actions_);
        posix_spawnattr_init(&attributes_);
        // The child starts with no blocked signals and default dispositions, whatever the test
        // process (or its test framework) did with them.
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attributes_, &none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (const int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
            sigaddset(&defaults, s);
        }
        posix_spawnattr_setsigdefault(&attributes_, &defaults);
        posix_spawnattr_setflags(&attributes_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    ~spawn_setup()
    {
        posix_spawn_file_actions_destroy(&actions_);
        posix_spawnattr_destroy(&attributes_);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;

    posix_spawn_file_actions_t* actions() noexcept { return &actions_; }

    // Starts argv (argv[0] resolved with find_program) with our environment plus `env`.
    pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env)
    {
        if (argv.empty()) {
            throw rig_error("cannot start a program from an empty command line");
        }
        // Descriptors of the test process (sockets, log files) stay out of the child.
        posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
        std::vector<std::string> args = argv;
        args[0] = find_program(argv[0]).string();
        std::vector<std::string> environment = merged_environment(env);
        auto arg_pointers = pointers(args);
        auto env_pointers = pointers(environment);
        pid_t pid = -1;
        const int error = ::posix_spawn(
            &pid, args[0].c_str(), &actions_, &attributes_, arg_pointers.data(), env_pointers.data()
        );
        if (error != 0) {
            throw rig_error("cannot start `" + join_command(argv) + "`: " + errno_text(error));
        }
        return pid;
    }

private:
    posix_spawn_file_actions_t actions_{};
    posix_spawnattr_t attributes_{};
};

class file_descriptor
{
public:
    explicit file_descriptor(int fd = -1) noexcept : fd_(fd) {}
    ~file_descriptor() { reset(); }
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }
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

struct pipe_pair
{
    file_descriptor read_end;
    file_descriptor write_end;
};

std::unique_ptr<pipe_pair> make_pipe()
{
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw rig_error("pipe2: " + errno_text(errno));
    }
    auto p = std::make_unique<pipe_pair>();
    p->read_end.reset(fds[0]);
    p->write_end.reset(fds[1]);
    return p;
}

} // namespace

temp_dir::temp_dir(std::string_view prefix)
{
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw rig_error("mkdtemp " + pattern + ": " + errno_text(errno));
    }
    path_ = pattern;
}

temp_dir::~temp_dir()
{
    if (std::getenv("CERTFLEET_KEEP_TEST_DIRS") != nullptr) {
        return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path
temp_dir::write(const std::filesystem::path& file, std::string_view contents) const
{
    const auto full = path_ / file;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) {
        throw rig_error("cannot write " + full.string());
    }
    return full;
}

std::filesystem::path temp_dir::subdir(const std::filesystem::path& name) const
{
    const auto full = path_ / name;
    std::filesystem::create_directories(full);
    return full;
}

std::string read_text_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string tail_lines(std::string_view text, std::size_t max_lines)
{
    std::size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') {
        --pos;
    }
    for (std::size_t lines = 0; pos > 0; --pos) {
        if (text[pos - 1] == '\n' && ++lines == max_lines) {
            break;
        }
    }
    return std::string(text.substr(pos));
}

std::filesystem::path find_program(std::string_view name)
{
    auto executable = [](const std::filesystem::path& p) {
        std::error_code ec;
        return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string_view::npos) {
        if (executable(name)) {
            return name;
        }
        throw rig_error("program '" + std::string(name) + "' does not exist or is not executable");
    }
    std::vector<std::string> dirs;
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        dirs.emplace_back(rest.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    dirs.emplace_back("/usr/sbin");
    dirs.emplace_back("/sbin");
    for (const auto& dir : dirs) {
        if (dir.empty()) {
            continue;
        }
        const auto candidate = std::filesystem::path(dir) / name;
        if (executable(candidate)) {
            return candidate;
        }
    }
    throw rig_error(
        "program '" + std::string(name) +
        "' not found in PATH, /usr/sbin or /sbin: the integration tests need it installed"
    );
}

std::string join_command(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        out += a;
    }
    return out;
}

child_process::child_process(child_options options) : options_(std::move(options))
{
    if (options_.log_file.empty()) {
        throw rig_error("child_process: a log file is required");
    }
    spawn_setup setup;
    posix_spawn_file_actions_addopen(setup.actions(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(
        setup.actions(), 1, options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644
    );
    posix_spawn_file_actions_adddup2(setup.actions(), 1, 2);
    pid_ = setup.spawn(options_.argv, options_.env);
}

child_process::~child_process()
{
    try {
        stop();
    } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
}

bool child_process::running()
{
    if (status_) {
        return false;
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = decode_status(status);
        return false;
    }
    if (r < 0 && errno != EINTR) {
        status_ = -1; // not our child any more: nothing left to stop
        return false;
    }
    return true;
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout)
{
    const auto deadline = clock::now() + timeout;
    while (running()) {
        if (clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return status_;
}

void child_process::signal(int sig)
{
    if (running()) {
        ::kill(pid_, sig);
    }
}

int child_process::stop()
{
    if (!running()) {
        return *status_;
    }
    ::kill(pid_, SIGTERM);
    if (auto status = wait(options_.stop_timeout)) {
        return *status;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = decode_status(status);
    return *status_;
}

std::string child_process::describe() const
{
    const std::string name =
        options_.argv.empty() ? "?" : std::filesystem::path(options_.argv[0]).filename().string();
    return name + " (pid " + std::to_string(pid_) + ")";
}

run_result run(const std::vector<std::string>& argv, const run_options& options)
{
    auto out_pipe = make_pipe();
    auto err_pipe = make_pipe();
    spawn_setup setup;
    posix_spawn_file_actions_addopen(setup.actions(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(setup.actions(), out_pipe->write_end.get(), 1);
    posix_spawn_file_actions_adddup2(setup.actions(), err_pipe->write_end.get(), 2);
    const pid_t pid = setup.spawn(argv, options.env);
    out_pipe->write_end.reset();
    err_pipe->write_end.reset();

    run_result result;
    const auto deadline = clock::now() + options.timeout;
    std::array<pollfd, 2> fds{
        pollfd{out_pipe->read_end.get(), POLLIN, 0}, pollfd{err_pipe->read_end.get(), POLLIN, 0}};
    std::array<std::string*, 2> sinks{&result.out, &result.err};
    int open_pipes = 2;
    while (open_pipes > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            break;
        }
        const int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) {
            break;
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            std::array<char, 4096> buffer{};
            const ssize_t got = ::read(fds[i].fd, buffer.data(), buffer.size());
            if (got > 0) {
                sinks[i]->append(buffer.data(), static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                fds[i].fd = -1; // poll ignores negative descriptors
                --open_pipes;
            }
        }
    }
    int status = 0;
    while (!result.timed_out) {
        // Both pipes are closed: the program has exited or is about to; give it the time left.
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            result.exit_code = decode_status(status);
            return result;
        }
        if (r < 0 && errno != EINTR) {
            return result; // not our child any more; exit_code stays -1
        }
        if (clock::now() >= deadline) {
            result.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = decode_status(status);
    return result;
}

} // namespace certfleet::test
