// The Windows unit tests' main: doctest, except when the process tests start this program again
// as their child ("--child echo" or "--child sleep"), and except when the Wine integration test
// runs it as an exec target's program ("--child record FILE": writes CERTFLEET_SHA256 and what came
// on standard input to FILE).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

namespace {

int child(const std::string& mode, int argc, char** argv)
{
    if (mode == "sleep") {
        Sleep(60'000);
        return 0;
    }
    const std::string input{std::istreambuf_iterator<char>(std::cin), {}};
    if (mode == "record" && argc >= 4) {
        const char* sha256 = std::getenv("CERTFLEET_SHA256");
        std::ofstream(argv[3], std::ios::binary)
            << "sha256:" << (sha256 != nullptr ? sha256 : "-") << "\n"
            << input;
        return 0;
    }
    const char* variable = std::getenv("CERTFLEET_TEST_VARIABLE");
    std::cout << "in:" << input << ";env:" << (variable != nullptr ? variable : "-") << ";args:";
    for (int i = 3; i < argc; ++i) {
        std::cout << argv[i] << '|';
    }
    std::cout << std::flush;
    std::cerr << ";stderr" << std::flush;
    return 3;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc >= 3 && std::string(argv[1]) == "--child") {
        return child(argv[2], argc, argv);
    }
    return doctest::Context(argc, argv).run();
}
