#include "deploy/posix_process.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

using namespace std::chrono_literals;

struct scratch_dir
{
    scratch_dir()
    {
        std::random_device random;
        path = std::filesystem::temp_directory_path() /
               ("certfleet-process-" + std::to_string(random()));
        std::filesystem::create_directories(path);
    }
    ~scratch_dir() { std::filesystem::remove_all(path); }
    std::filesystem::path path;
};

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

process_outcome run_ok(process_request request)
{
    const posix_process_runner runner;
    auto outcome = runner.run(std::move(request));
    REQUIRE(outcome.has_value());
    return std::move(*outcome);
}

process_request shell(std::string script)
{
    return process_request{.argv = {"/bin/sh", "-c", std::move(script)}};
}

// True once `pid` is gone or a zombie (killed, waiting for whoever adopted it to reap it).
bool ended(pid_t pid)
{
    for (int i = 0; i < 200; ++i) {
        const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        const auto close = stat.rfind(')');
        if (stat.empty() || (close != std::string::npos && stat.substr(close + 2, 1) == "Z")) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// Restores a signal's disposition when the test ends.
struct signal_disposition
{
    signal_disposition(int sig, sighandler_t handler) : sig_(sig), old_(::signal(sig, handler)) {}
    ~signal_disposition() { ::signal(sig_, old_); }
    signal_disposition(const signal_disposition&) = delete;
    signal_disposition& operator=(const signal_disposition&) = delete;

private:
    int sig_;
    sighandler_t old_;
};

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("process: the exit status, or 128 plus the signal that ended the program")
    {
        CHECK(run_ok({.argv = {"true"}}).exit_code == 0);
        CHECK(run_ok({.argv = {"false"}}).exit_code == 1);
        CHECK(run_ok(shell("exit 3")).exit_code == 3);
        CHECK(run_ok(shell("kill -TERM $$")).exit_code == 128 + SIGTERM);
    }

    TEST_CASE("process: standard output and error are captured together")
    {
        const auto outcome = run_ok(shell("echo out; echo err >&2; echo more"));
        CHECK(outcome.output == "out\nerr\nmore\n");
    }

    TEST_CASE("process: output past the limit is read and dropped, and the program finishes")
    {
        auto request = shell("head -c 1000000 /dev/zero; echo done >&2");
        request.max_output_bytes = 1000;
        const auto outcome = run_ok(std::move(request));
        CHECK(outcome.exit_code == 0); // not killed by SIGPIPE, not stuck on a full pipe
        CHECK(outcome.output == std::string(1000, '\0'));
    }

    TEST_CASE("process: the input reaches the program's standard input, which is then closed")
    {
        CHECK(
            run_ok({.argv = {"cat"}, .input = "line one\nline two"}).output == "line one\nline two"
        );
        // More than any pipe or socket buffer both ways: writing and reading interleave.
        std::string big(2 * 1024 * 1024, 'x');
        for (std::size_t i = 0; i < big.size(); i += 97) {
            big[i] = static_cast<char>('a' + i % 26);
        }
        const auto outcome =
            run_ok({.argv = {"cat"}, .input = big, .max_output_bytes = big.size() + 1});
        CHECK(outcome.exit_code == 0);
        CHECK(outcome.output == big);
        // Nothing to write: the program sees end of file at once.
        CHECK(run_ok({.argv = {"wc", "-c"}}).output == "0\n");
    }

    TEST_CASE("process: a program that does not read its input neither blocks nor kills the agent")
    {
        const signal_disposition pipe_default(SIGPIPE, SIG_DFL); // a SIGPIPE would end this test
        const auto outcome = run_ok({.argv = {"true"}, .input = std::string(4 << 20, 'k')});
        CHECK(outcome.exit_code == 0);
        const auto closed_early =
            run_ok({.argv = {"head", "-c", "3"}, .input = std::string(4 << 20, 'k')});
        CHECK(closed_early.exit_code == 0);
        CHECK(closed_early.output == "kkk");
    }

    TEST_CASE("process: the program gets the default SIGPIPE even when the agent ignores it")
    {
        const signal_disposition pipe_ignored(SIGPIPE, SIG_IGN);
        // With SIGPIPE ignored, yes would complain of a broken pipe and exit 1.
        const auto outcome = run_ok(shell("yes | head -n 1"));
        CHECK(outcome.exit_code == 0);
        CHECK(outcome.output == "y\n");
    }

    TEST_CASE("process: with SIGCHLD ignored the run still ends when the program does")
    {
        const signal_disposition children_ignored(SIGCHLD, SIG_IGN);
        const auto start = std::chrono::steady_clock::now();
        const auto outcome = run_ok({.argv = {"sh", "-c", "echo bye"}, .timeout = 20s});
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(outcome.exit_code == -1); // the kernel reaped it: the status is lost
        CHECK(outcome.output == "bye\n");
        const posix_process_runner runner;
        CHECK(
            runner.run({.argv = {"sleep", "30"}, .timeout = 200ms}).error() == errc::process_timeout
        );
    }

    TEST_CASE("process: the environment is added to the agent's, replacing the same names")
    {
        REQUIRE(::setenv("CERTFLEET_TEST_KEPT", "kept", 1) == 0);
        REQUIRE(::setenv("CERTFLEET_TEST_REPLACED", "old", 1) == 0);
        auto request =
            shell("echo \"$CERTFLEET_TEST_KEPT $CERTFLEET_TEST_REPLACED $CERTFLEET_TEST_ADDED\"; "
                  "env | grep -c '^CERTFLEET_TEST_REPLACED='");
        request.environment = {{"CERTFLEET_TEST_REPLACED", "new"}, {"CERTFLEET_TEST_ADDED", "a b"}};
        CHECK(run_ok(std::move(request)).output == "kept new a b\n1\n");
        ::unsetenv("CERTFLEET_TEST_KEPT");
        ::unsetenv("CERTFLEET_TEST_REPLACED");
    }

    TEST_CASE("process: the program runs in the working directory and is found on the PATH")
    {
        scratch_dir d;
        const auto real = std::filesystem::canonical(d.path);
        CHECK(
            run_ok({.argv = {"pwd"}, .working_directory = d.path}).output == real.string() + "\n"
        );
        // A relative program path is taken from the working directory, as execvp would.
        std::ofstream(d.path / "hook.sh") << "#!/bin/sh\necho hook \"$1\"\n";
        std::filesystem::permissions(d.path / "hook.sh", std::filesystem::perms::owner_all);
        CHECK(
            run_ok({.argv = {"./hook.sh", "arg"}, .working_directory = d.path}).output ==
            "hook arg\n"
        );
        // The PATH the program gets is the PATH it is looked up on.
        CHECK(
            run_ok({.argv = {"hook.sh", "x"}, .environment = {{"PATH", d.path.string()}}}).output ==
            "hook x\n"
        );
        CHECK(find_executable("sh", "/nonexistent:/bin", "/") == "/bin/sh");
        CHECK(find_executable("sh", "/nonexistent", "/").empty());
    }

    TEST_CASE("process: a program that cannot be started is process_failed, named in the message")
    {
        const posix_process_runner runner;
        auto missing = runner.run({.argv = {"certfleet-no-such-program", "x"}});
        REQUIRE_FALSE(missing.has_value());
        CHECK(missing.error() == errc::process_failed);
        const auto text = describe_process_error("certfleet-no-such-program", 1s, missing.error());
        CHECK(text.find("\"certfleet-no-such-program\"") != std::string::npos);

        scratch_dir d;
        std::ofstream(d.path / "not-executable") << "#!/bin/sh\n";
        auto refused = runner.run({.argv = {(d.path / "not-executable").string()}});
        CHECK(refused.error() == errc::process_failed);
        // Executable, but execve refuses it (a missing interpreter): reported from the child.
        std::ofstream(d.path / "bad-interpreter") << "#!/nonexistent/interpreter\n";
        std::filesystem::permissions(d.path / "bad-interpreter", std::filesystem::perms::owner_all);
        auto bad = runner.run({.argv = {(d.path / "bad-interpreter").string()}});
        CHECK(bad.error() == errc::process_failed);
        auto no_dir = runner.run({.argv = {"true"}, .working_directory = d.path / "missing"});
        CHECK(no_dir.error() == errc::process_failed);
        CHECK(runner.run({}).error() == errc::process_failed);
    }

    TEST_CASE("process: at the deadline the program and its children are killed")
    {
        const posix_process_runner runner;
        auto start = std::chrono::steady_clock::now();
        auto slept = runner.run({.argv = {"sleep", "30"}, .timeout = 300ms});
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        REQUIRE_FALSE(slept.has_value());
        CHECK(slept.error() == errc::process_timeout);
        CHECK(
            describe_process_error("sleep", 300ms, slept.error()).find("\"sleep\"") !=
            std::string::npos
        );

        scratch_dir d;
        const auto pid_file = d.path / "child.pid";
        start = std::chrono::steady_clock::now();
        auto request = shell("sleep 30 & echo $! > " + pid_file.string() + "; wait");
        request.timeout = 300ms;
        auto waited = runner.run(std::move(request));
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(waited.error() == errc::process_timeout);
        const auto child = std::stoi(read_file(pid_file));
        CHECK(ended(child));
    }

    TEST_CASE("process: a background child holding the output does not hold up the run")
    {
        scratch_dir d;
        const auto pid_file = d.path / "daemon.pid";
        const auto start = std::chrono::steady_clock::now();
        const auto outcome =
            run_ok(shell("echo started; sleep 30 & echo $! > " + pid_file.string()));
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(outcome.exit_code == 0);
        CHECK(outcome.output == "started\n");
        const auto daemon = std::stoi(read_file(pid_file));
        ::kill(daemon, SIGKILL); // the PID this test's script started
        CHECK(ended(daemon));
    }
}

} // namespace certfleet::deploy
