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
    TEST_CASE("full disk: serve keeps running, a renewal fails saying so and works once there is "
              "room, a start is refused saying so")
    {
        const temp_dir scratch("certfleet-full-disk");
        small_tmpfs disk(scratch.path() / "disk", disk_bytes);
        backend_rig rig(
            {.domains = {{"www.customer.test", "www"}},
             .database = (disk.path() / "certfleet.db").string()}
        );
        rig.start_serve();
        REQUIRE(rig.certfleet({"cert", "add", "--name", "www.customer.test"}).exit_code == 0);
        REQUIRE(rig.wait_all_valid(1, std::chrono::seconds(60)));
        CHECK(disk.fill() > 0);
        CHECK(disk.available() == 0);

        // A renewal handed to the running server: no order, the reason, exit 1.
        const auto full = rig.certfleet({"renew", "--all", "--json", "--deadline-s", "0"});
        INFO(full.out, full.err, tail_lines(rig.serve_log(), 30));
        CHECK(full.exit_code == 1);
        const auto report = nlohmann::json::parse(full.out, nullptr, false);
        REQUIRE(report.is_object());
        REQUIRE(report["results"].size() == 1);
        CHECK(report["results"][0]["outcome"] != "issued");
        CHECK(
            report["results"][0]["problem"].get<std::string>().find(
                "the disk or the database is full"
            ) != std::string::npos
        );
        CHECK(log_shows(rig, "the disk or the database is full", std::chrono::seconds(5)));
        CHECK(rig.serve()->running());
        // The issued version and its key are intact.
        const auto before = rig.dir().path() / "before";
        REQUIRE(rig.certfleet({"cert", "export", "1", "--out", before.string()}).exit_code == 0);
        CHECK(key_matches_certificate(before / "cert.pem", before / "key.pem"));
        CHECK(rig.certfleet_json({"cert", "show", "1"})["versions"].size() == 1);

        // Stopped cleanly, and started again on the full disk: it serves (its WAL was kept, and
        // SQLite may write again into the WAL's own space).
        CHECK(rig.stop_serve() == 0);
        rig.start_serve();
        CHECK(rig.serve()->running());

        // Room again: the same server renews.
        disk.unfill();
        const auto renewed = rig.certfleet_json({"renew", "--all"});
        INFO(renewed.dump(), tail_lines(rig.serve_log(), 30));
        CHECK(renewed["succeeded"] == true);
        const auto after = rig.dir().path() / "after";
        REQUIRE(rig.certfleet({"cert", "export", "1", "--out", after.string()}).exit_code == 0);
        CHECK(key_matches_certificate(after / "cert.pem", after / "key.pem"));
        CHECK(read_text_file(after / "cert.pem") != read_text_file(before / "cert.pem"));
        const auto show = rig.certfleet_json({"cert", "show", "1"});
        CHECK(show["versions"].size() >= 2);
        CHECK(show["open_order"].is_null());
        CHECK(rig.stop_serve() == 0);

        // Closed cleanly (no WAL left), the database cannot be opened on a full disk: serve
        // refuses to start and names the disk.
        CHECK(disk.fill() > 0);
        const auto refused = rig.certfleet({"serve"}, std::chrono::seconds(20));
        CHECK(refused.exit_code == 1);
        CHECK(refused.err.find("the disk holding it is full") != std::string::npos);
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
