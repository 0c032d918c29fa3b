// A real full disk: certfleet's database or output files on a small tmpfs (in a private mount
// namespace) filled to the last byte. certfleet says the disk is full, keeps running (serve) or
// exits cleanly (issue), loses no key, never puts a certificate beside a wrong key, leaves the
// old fullchain.pem/key.pem in place, and issues once there is room again.
#include <doctest/doctest.h>

#include <thread>

#include "support/backend_rig.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_tmpfs.hpp"

namespace certfleet::test {
namespace {

constexpr std::uint64_t disk_bytes = 8 * 1024 * 1024;

// Waits until `text` shows up in the server's log.
bool log_shows(const backend_rig& rig, std::string_view text, std::chrono::seconds limit)
{
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (rig.serve_log().find(text) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("full disk: serve with its database on a full disk keeps running and issues after")
    {
        const temp_dir scratch("certfleet-full-disk");
        small_tmpfs disk(scratch.path() / "disk", disk_bytes);
        backend_rig rig(
            {.domains = {{"www.customer.test", "www"}},
             .database = (disk.path() / "certfleet.db").string()}
        );
        REQUIRE(rig.certfleet({"cert", "add", "--name", "www.customer.test"}).exit_code == 0);
        CHECK(disk.fill() > 0);
        CHECK(disk.available() == 0);

        rig.start_serve();
        const bool said =
            log_shows(rig, "the disk or the database is full", std::chrono::seconds(30));
        INFO(tail_lines(rig.serve_log(), 30));
        CHECK(said);
        CHECK(rig.serve()->running());
        const auto during = rig.certfleet_json({"cert", "show", "1"});
        CHECK(during["state"] != "valid");
        CHECK(during["versions"].empty());

        disk.unfill();
        const bool issued = rig.wait_all_valid(1, std::chrono::seconds(60));
        INFO(tail_lines(rig.serve_log(), 30));
        REQUIRE(issued);
        const auto out = rig.dir().path() / "export";
        REQUIRE(rig.certfleet({"cert", "export", "1", "--out", out.string()}).exit_code == 0);
        CHECK(key_matches_certificate(out / "cert.pem", out / "key.pem"));
        CHECK(rig.certfleet_json({"cert", "show", "1"})["open_order"].is_null());
        CHECK(rig.stop_serve() == 0);
    }

    TEST_CASE("full disk: issue leaves the old pair in place and installs the new one after")
    {
        const temp_dir scratch("certfleet-full-disk");
        small_tmpfs disk(scratch.path() / "disk", disk_bytes);
        backend_rig rig({.domains = {{"www.customer.test", "www"}}, .store = false});
        const auto out = disk.path() / "out";
        const auto tmp = rig.dir().subdir("tmp");
        const auto tmp_on_disk = disk.path() / "tmp";
        std::filesystem::create_directories(tmp_on_disk);
        const auto first = rig.issue("www.customer.test", out, tmp);
        INFO(first.err);
        REQUIRE(first.exit_code == 0);
        const auto old_chain = read_text_file(out / "fullchain.pem");
        const auto old_key = read_text_file(out / "key.pem");
        CHECK(disk.fill() > 0);

        // Issued, but the pair cannot be written: exit 1, the old pair untouched.
        const auto full = rig.issue("www.customer.test", out, tmp);
        CHECK(full.exit_code == 1);
        CHECK(full.err.find("No space left on device") != std::string::npos);
        CHECK(full.err.find("Nothing was replaced") != std::string::npos);
        CHECK(full.out.empty());
        // The temporary store on the full disk too: it cannot start, and says why.
        const auto no_state = rig.issue("www.customer.test", out, tmp_on_disk);
        CHECK(no_state.exit_code == 1);
        CHECK(no_state.err.find("full") != std::string::npos);
        CHECK(std::filesystem::is_empty(tmp_on_disk));
        CHECK(read_text_file(out / "fullchain.pem") == old_chain);
        CHECK(read_text_file(out / "key.pem") == old_key);
        CHECK(key_matches_certificate(out / "fullchain.pem", out / "key.pem"));
        CHECK(std::filesystem::is_empty(tmp));

        disk.unfill();
        const auto after = rig.issue("www.customer.test", out, tmp);
        INFO(after.err);
        REQUIRE(after.exit_code == 0);
        CHECK(read_text_file(out / "fullchain.pem") != old_chain);
        CHECK(key_matches_certificate(out / "fullchain.pem", out / "key.pem"));
    }
}

} // namespace certfleet::test
