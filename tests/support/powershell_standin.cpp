// A stand-in for powershell.exe in the rras target's tests (Linux, and Wine where there is no
// PowerShell). It records how it was called and answers like the deployment script would.
//
// Records, in the directory named by CERTFLEET_STANDIN_DIR (nothing recorded when unset):
//   args.txt   its arguments after argv[0], one per line;
//   script.ps1 a copy of the file named after -File (absent when there is none);
//   stdin.txt  everything read from standard input, byte for byte.
// Answers on standard output, chosen by CERTFLEET_STANDIN_ANSWER:
//   "ok" (default) the success line, with the hashes read from the script's $NewSha1Hex and
//                  $NewSha256Hex, exit 0;
//   "fail"         a failure at stage "verify" that was rolled back, exit 1;
//   "garbled"      a warning and a cut-off JSON line, exit 0;
//   "hang"         sleeps for 10 minutes (the caller's timeout must end it);
//   "ok-exit-3"    the success line, but exit 3.
// Portable C++ only: it builds with g++ on Linux and as powershell.exe with MinGW-w64:
//   x86_64-w64-mingw32-g++-posix -std=c++20 -O2 -static -o powershell.exe powershell_standin.cpp
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

namespace {

std::string environment(const char* name, const char* otherwise)
{
    const char* value = std::getenv(name);
    return value != nullptr ? value : otherwise;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

// The value of a line `$Name = 'value'` in the script; empty when there is none.
std::string quoted_value(const std::string& script, const std::string& name)
{
    const std::string prefix = "\n$" + name + " = '";
    const auto at = script.find(prefix);
    if (at == std::string::npos) {
        return {};
    }
    const auto from = at + prefix.size();
    const auto to = script.find('\'', from);
    return to == std::string::npos ? std::string{} : script.substr(from, to - from);
}

std::string result_line(bool ok, const std::string& script)
{
    const auto sha1 = quoted_value(script, "NewSha1Hex");
    const auto sha256 = quoted_value(script, "NewSha256Hex");
    std::string line =
        ok ? R"j({"ok":true,"stage":"done","message":"the new certificate is in service")j"
           : R"j({"ok":false,"stage":"verify","message":"verify: the binding 0.0.0.0:443 does )j"
             R"j(not carry the new certificate (the previous values and bindings were )j"
             R"j(restored)")j";
    line += std::string(R"j(,"rolled_back":)j") + (ok ? "false" : "true");
    line += R"j(,"thumbprint":")j" + sha1 + R"j(","sha256":")j" + sha256 +
            R"j(","old_thumbprint":null})j";
    return line;
}

} // namespace

int main(int argc, char** argv)
{
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
#endif
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string script;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "-File") {
            script = read_file(args[i + 1]);
        }
    }
    const std::string input{std::istreambuf_iterator<char>(std::cin), {}};

    const auto record = environment("CERTFLEET_STANDIN_DIR", "");
    if (!record.empty()) {
        const std::filesystem::path dir(record);
        std::filesystem::create_directories(dir);
        std::string lines;
        for (const auto& a : args) {
            lines += a + "\n";
        }
        write_file(dir / "args.txt", lines);
        if (!script.empty()) {
            write_file(dir / "script.ps1", script);
        }
        write_file(dir / "stdin.txt", input);
    }

    const auto answer = environment("CERTFLEET_STANDIN_ANSWER", "ok");
    if (answer == "hang") {
        std::this_thread::sleep_for(std::chrono::minutes{10});
        return 2;
    }
    if (answer == "garbled") {
        std::cout << "WARNING: the stand-in was told to garble its answer\n{\"ok\":tr" << std::endl;
        return 0;
    }
    if (answer == "fail") {
        std::cout << result_line(false, script) << std::endl;
        return 1;
    }
    std::cout << result_line(true, script) << std::endl;
    return answer == "ok-exit-3" ? 3 : 0;
}
