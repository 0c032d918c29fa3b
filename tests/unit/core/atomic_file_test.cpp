#include "core/atomic_file.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

namespace certfleet::core {
namespace {

struct temp_dir
{
    temp_dir()
    {
        std::random_device random;
        path = std::filesystem::temp_directory_path() /
               ("certfleet-files-" + std::to_string(random()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    std::filesystem::path path;
};

std::string read(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

mode_t mode_of(const std::filesystem::path& p)
{
    struct stat st
    {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("files: exclusive creation never replaces anything, a dangling symlink included")
    {
        temp_dir d;
        const auto key = d.path / "account.key";
        CHECK_FALSE(create_file_exclusively(key, "first", 0600));
        CHECK(create_file_exclusively(key, "second", 0600) == boost::system::errc::file_exists);
        CHECK(read(key) == "first");
        CHECK(mode_of(key) == 0600);
        const auto dangling = d.path / "dangling.key";
        std::filesystem::create_symlink(d.path / "nowhere", dangling);
        CHECK(create_file_exclusively(dangling, "x", 0600) == boost::system::errc::file_exists);
        CHECK_FALSE(std::filesystem::exists(d.path / "nowhere"));
    }

    TEST_CASE("files: a replaced file keeps its mode, a new one gets the given mode")
    {
        temp_dir d;
        const auto key = d.path / "key.pem";
        REQUIRE_FALSE(write_file_atomically(key, "old", {.mode = 0600}));
        ::chmod(key.c_str(), 0640); // readable by the web server's group
        REQUIRE_FALSE(write_file_atomically(key, "new", {.mode = 0600}));
        CHECK(read(key) == "new");
        CHECK(mode_of(key) == 0640);
    }

    TEST_CASE("files: an explicit owner and group replace the existing ones")
    {
        temp_dir d;
        const auto key = d.path / "key.pem";
        REQUIRE_FALSE(write_file_atomically(key, "old", {.mode = 0600}));
        struct stat st
        {};
        if (::geteuid() == 0) {
            // nobody and nogroup (65534 on Debian), then back to root.
            REQUIRE_FALSE(write_file_atomically(key, "new", {.owner = 65534, .group = 65534}));
            REQUIRE(::stat(key.c_str(), &st) == 0);
            CHECK(st.st_uid == 65534);
            CHECK(st.st_gid == 65534);
            CHECK(mode_of(key) == 0600);
            REQUIRE_FALSE(write_file_atomically(key, "again", {.owner = 0, .group = 0}));
            REQUIRE(::stat(key.c_str(), &st) == 0);
            CHECK(st.st_uid == 0);
            CHECK(st.st_gid == 0);
        } else {
            // Without privilege, giving the file away fails and the old file stays.
            CHECK(write_file_atomically(key, "new", {.owner = 0}));
            CHECK(read(key) == "old");
        }
    }

    TEST_CASE("files: a set is installed whole or not at all")
    {
        temp_dir d;
        const auto cert = d.path / "fullchain.pem";
        const auto key = d.path / "key.pem";
        REQUIRE_FALSE(write_files_atomically({{cert, "cert1", {}}, {key, "key1", {.mode = 0600}}}));
        // The second file cannot be written (its directory is missing): the first stays old.
        const auto elsewhere = d.path / "missing" / "key.pem";
        CHECK(write_files_atomically({{cert, "cert2", {}}, {elsewhere, "key2", {.mode = 0600}}}));
        CHECK(read(cert) == "cert1");
        CHECK(read(key) == "key1");
        std::size_t files = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d.path)) {
            ++files;
        }
        CHECK(files == 2); // no temporary left behind
    }

    TEST_CASE("files: output directories are created 0700 with their parents")
    {
        temp_dir d;
        const auto out = d.path / "a" / "b";
        CHECK_FALSE(ensure_directory(out));
        CHECK(std::filesystem::is_directory(out));
        CHECK(mode_of(out) == 0700);
        CHECK_FALSE(ensure_directory(out));
        const auto file = d.path / "file";
        std::ofstream(file) << "x";
        CHECK(ensure_directory(file));
    }
}

} // namespace certfleet::core
