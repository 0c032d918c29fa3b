// Replays a libFuzzer target's inputs without libFuzzer: runs LLVMFuzzerTestOneInput over every
// file under the directories (or files) given, so that the seeds of each target run under ctest
// with any compiler. Exits 1 when an argument holds no input at all (a corpus went missing).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_under(const std::filesystem::path& where)
{
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_regular_file(where)) {
        files.push_back(where);
        return files;
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(where, ec)) {
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    std::size_t total = 0;
    for (int i = 1; i < argc; ++i) {
        const auto files = inputs_under(argv[i]);
        if (files.empty()) {
            std::fprintf(stderr, "%s: no inputs in %s\n", argv[0], argv[i]);
            return 1;
        }
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            const std::vector<std::uint8_t> bytes{
                std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(), bytes.size());
            (void)LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
            ++total;
        }
    }
    std::printf("replayed %zu inputs\n", total);
    return 0;
}
