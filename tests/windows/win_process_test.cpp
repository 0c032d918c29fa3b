#include "windows/win_process.hpp"

#include <doctest/doctest.h>
#include <windows.h>

#include "deploy/errc.hpp"

#include "windows/text.hpp"

using namespace certfleet::deploy;

namespace {

std::string this_program()
{
    wchar_t path[MAX_PATH] = {};
    GetModuleFileNameW(nullptr, path, MAX_PATH);
    return narrow(path);
}

} // namespace

TEST_SUITE("windows")
{
    TEST_CASE("CreateProcess passes arguments as given, input on stdin, and the environment")
    {
        const win_process_runner runner;
        const auto r = runner
                           .run({
                               .argv =
                                   {this_program(), "--child", "echo", "two words", "a\"quote",
                                    "trailing\\", ""},
                               .environment = {{"CERTFLEET_TEST_VARIABLE", "set"}},
                               .input = "pfx password",
                           })
                           .value();
        CHECK(r.exit_code == 3);
        CHECK(r.output == "in:pfx password;env:set;args:two words|a\"quote|trailing\\||;stderr");
    }

    TEST_CASE("CreateProcess output is cut at the limit")
    {
        const win_process_runner runner;
        const auto r = runner
                           .run({
                               .argv = {this_program(), "--child", "echo"},
                               .input = std::string(5000, 'i'),
                               .max_output_bytes = 100,
                           })
                           .value();
        CHECK(r.output.size() == 100);
        CHECK(r.exit_code == 3);
    }

    TEST_CASE("a program that is missing or runs too long is reported")
    {
        const win_process_runner runner;
        CHECK(runner.run({.argv = {"certfleet-no-such-program"}}).error() == errc::process_failed);
        const auto started = std::chrono::steady_clock::now();
        CHECK(
            runner
                .run({
                    .argv = {this_program(), "--child", "sleep"},
                    .timeout = std::chrono::milliseconds{500},
                })
                .error() == errc::process_timeout
        );
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds{10});
    }

    TEST_CASE("arguments are quoted by the CommandLineToArgvW rules")
    {
        CHECK(quote_argument(L"plain") == L"plain");
        CHECK(quote_argument(L"") == L"\"\"");
        CHECK(quote_argument(L"a b") == L"\"a b\"");
        CHECK(quote_argument(L"a\\\"b") == L"\"a\\\\\\\"b\"");
        CHECK(quote_argument(L"end\\ x\\") == L"\"end\\ x\\\\\"");
    }
}
