#include "core/atomic_file.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace certfleet;

namespace {

struct scratch
{
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("certfleet-win-" + std::to_string(std::random_device{}()));
    scratch() { std::filesystem::create_directories(path); }
    ~scratch() { std::filesystem::remove_all(path); }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
};

std::string read(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_SUITE("windows")
{
    TEST_CASE("atomic writes on Windows replace a file whole and leave no temporary behind")
    {
        const scratch dir;
        const auto file = dir.path / "state.json";
        REQUIRE_FALSE(core::write_file_atomically(file, "first"));
        REQUIRE_FALSE(core::write_file_atomically(file, std::string(100000, 'x')));
        CHECK(read(file) == std::string(100000, 'x'));
        REQUIRE_FALSE(
            core::write_files_atomically({{dir.path / "a", "A", {}}, {dir.path / "b", "B", {}}})
        );
        CHECK(read(dir.path / "a") == "A");
        CHECK(read(dir.path / "b") == "B");
        CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 3);
    }

    TEST_CASE("create_file_exclusively on Windows never replaces a file")
    {
        const scratch dir;
        const auto key = dir.path / "identity.key";
        REQUIRE_FALSE(core::create_file_exclusively(key, "secret one"));
        CHECK(core::create_file_exclusively(key, "secret two") == boost::system::errc::file_exists);
        CHECK(read(key) == "secret one");
        CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 1);
        const auto nested = dir.path / "a" / "b";
        REQUIRE_FALSE(core::ensure_directory(nested));
        CHECK(std::filesystem::is_directory(nested));
    }
}

TEST_SUITE("windows")
{
    TEST_CASE("a private directory gets the SYSTEM and Administrators ACL")
    {
        // Wine 8 accepts the ACL but does not keep it (reading it back gives an ACL made from
        // the Unix mode), so this checks that every call succeeds; the ACL itself needs Windows.
        const scratch dir;
        const auto state = dir.path / "certfleet";
        REQUIRE_FALSE(core::ensure_directory(state, 0700));
        CHECK(std::filesystem::is_directory(state));
        CHECK_FALSE(core::restrict_to_administrators(state));
        CHECK(core::restrict_to_administrators(dir.path / "missing"));
    }
}
