// The Windows unit tests' main: doctest, except when the process tests start this program again
// as their child ("--child echo" or "--child sleep").
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <windows.h>

#include <cstdio>
#include <cstdlib>
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
