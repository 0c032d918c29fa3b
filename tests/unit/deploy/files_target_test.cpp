#include "deploy/files_target.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>

#include "deploy/posix_process.hpp"
#include "deploy/target_support.hpp"
#include "support/bundle_fixture.hpp"

namespace certfleet::deploy {
namespace {

using namespace testing;

// A deployment directory holding the files of an earlier certificate, and the agent's work
// directory beside it.
struct deployment
{
    scratch_dir root;
    std::filesystem::path dir = root.path / "tls";
    std::filesystem::path work = root.path / "work";
    posix_process_runner runner;
    std::vector<probe_request> probes;
    probe_result probe_answer{.ok = true, .summary = "serves the expected certificate"};

    deployment() { std::filesystem::create_directories(dir); }

    target_context context()
    {
        return {
            .processes = runner,
            .probe =
                [this](const probe_request& r) {
                    probes.push_back(r);
                    return probe_answer;
                },
            .work_dir = work,
        };
    }

    // Old files: cert 0640 and key 0600, owned by nobody:nogroup when running as root.
    void install_old_files()
    {
        write_file(dir / "fullchain.pem", "old fullchain\n", 0640);
        write_file(dir / "key.pem", "old key\n", 0600);
        if (::geteuid() == 0) {
            REQUIRE(::chown((dir / "fullchain.pem").c_str(), 65534, 65534) == 0);
            REQUIRE(::chown((dir / "key.pem").c_str(), 65534, 65534) == 0);
        }
    }

    void check_old_files_back()
    {
        CHECK(read_file(dir / "fullchain.pem") == "old fullchain\n");
        CHECK(read_file(dir / "key.pem") == "old key\n");
        CHECK(mode_of(dir / "fullchain.pem") == 0640);
        CHECK(mode_of(dir / "key.pem") == 0600);
        if (::geteuid() == 0) {
            CHECK(stat_of(dir / "fullchain.pem").st_uid == 65534);
            CHECK(stat_of(dir / "key.pem").st_gid == 65534);
        }
        CHECK_FALSE(std::filesystem::exists(dir / "cert.pem"));
    }
};

std::size_t files_in(const std::filesystem::path& dir)
{
    std::size_t n = 0;
    std::error_code ec;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        ++n;
    }
    return n;
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("files: every file is written with its content, public 0644, secrets 0600")
    {
        deployment d;
        auto b = make_bundle("files.test", "files", {{"dir", d.dir.string()}});
        const auto result = apply_files_target(b, d.context());
        CHECK(result.ok);
        CHECK(result.stage == "done");
        CHECK_FALSE(result.rolled_back);
        const auto chain = split_chain_pem(b.chain_pem);
        CHECK(read_file(d.dir / "cert.pem") == chain.cert);
        CHECK(read_file(d.dir / "chain.pem") == chain.chain);
        CHECK(read_file(d.dir / "fullchain.pem") == chain.fullchain);
        CHECK(read_file(d.dir / "key.pem") == b.key_pem.view());
        CHECK(read_file(d.dir / "cert.pfx") == b.pfx);
        CHECK(mode_of(d.dir / "cert.pem") == 0644);
        CHECK(mode_of(d.dir / "fullchain.pem") == 0644);
        CHECK(mode_of(d.dir / "key.pem") == 0600);
        CHECK(mode_of(d.dir / "cert.pfx") == 0600);
        CHECK(files_in(d.dir) == 5); // no temporaries; no password file unless named
        CHECK(files_in(d.work / "backup") == 0);
        CHECK(mode_of(d.work / "backup") == 0700);
        CHECK(result.details["files"].size() == 5);
    }

    TEST_CASE("files: named paths, a password file, and a PFX only when the bundle has one")
    {
        deployment d;
        auto b = make_bundle(
            "named.test", "files",
            {{"fullchain", (d.dir / "site.crt").string()},
             {"key", (d.dir / "site.key").string()},
             {"pfx_password", (d.dir / "site.pass").string()},
             {"dir", d.dir.string()}}
        );
        b.pfx.clear(); // "dir" names cert.pfx, but there is none: skipped
        const auto result = apply_files_target(b, d.context());
        CHECK(result.ok);
        CHECK(read_file(d.dir / "site.key") == b.key_pem.view());
        CHECK(read_file(d.dir / "site.pass") == "pfx pass 1\n");
        CHECK(mode_of(d.dir / "site.pass") == 0600);
        CHECK_FALSE(std::filesystem::exists(d.dir / "fullchain.pem"));
        CHECK_FALSE(std::filesystem::exists(d.dir / "cert.pfx"));
        CHECK(std::filesystem::exists(d.dir / "chain.pem"));

        // Named explicitly, a PFX the bundle lacks is an error, before anything is written.
        b.target_options = {{"pfx", (d.dir / "other.pfx").string()}};
        const auto missing = apply_files_target(b, d.context());
        CHECK_FALSE(missing.ok);
        CHECK(missing.stage == "options");
        CHECK_FALSE(std::filesystem::exists(d.dir / "other.pfx"));
    }

    TEST_CASE("files: a key file is never readable by others, whatever the mode says")
    {
        deployment d;
        auto b = make_bundle(
            "mode.test", "files", {{"dir", d.dir.string()}, {"mode", "0640"}, {"key_mode", "0644"}}
        );
        REQUIRE(apply_files_target(b, d.context()).ok);
        CHECK(mode_of(d.dir / "cert.pem") == 0640);
        CHECK(mode_of(d.dir / "key.pem") == 0640);
        CHECK(mode_of(d.dir / "cert.pfx") == 0640);

        // An old key readable by all keeps its other bits, not that one.
        write_file(d.dir / "key.pem", "old", 0666);
        write_file(d.dir / "cert.pem", "old", 0604);
        b.target_options = {{"dir", d.dir.string()}};
        REQUIRE(apply_files_target(b, d.context()).ok);
        CHECK(mode_of(d.dir / "key.pem") == 0660);
        CHECK(mode_of(d.dir / "cert.pem") == 0604); // kept: no "mode" given
    }

    TEST_CASE("files: owner and group are set by name or number, and kept when not given")
    {
        if (::geteuid() != 0) {
            FAIL("this test changes owners: run it as root");
        }
        deployment d;
        auto b = make_bundle(
            "owner.test", "files", {{"dir", d.dir.string()}, {"owner", "nobody"}, {"group", 65534}}
        );
        REQUIRE(apply_files_target(b, d.context()).ok);
        CHECK(stat_of(d.dir / "key.pem").st_uid == 65534);
        CHECK(stat_of(d.dir / "key.pem").st_gid == 65534);
        CHECK(stat_of(d.dir / "cert.pem").st_uid == 65534);

        b.target_options = {{"dir", d.dir.string()}}; // no owner: the files stay nobody's
        REQUIRE(apply_files_target(b, d.context()).ok);
        CHECK(stat_of(d.dir / "key.pem").st_uid == 65534);

        b.target_options = {{"dir", d.dir.string()}, {"owner", "root"}, {"group", "0"}};
        REQUIRE(apply_files_target(b, d.context()).ok);
        CHECK(stat_of(d.dir / "key.pem").st_uid == 0);
        CHECK(stat_of(d.dir / "key.pem").st_gid == 0);

        const auto before = read_file(d.dir / "key.pem");
        auto other = make_bundle(
            "owner.test", "files", {{"dir", d.dir.string()}, {"owner", "certfleet-no-such-user"}}
        );
        const auto unknown = apply_files_target(other, d.context());
        CHECK_FALSE(unknown.ok);
        CHECK(unknown.stage == "options");
        CHECK(unknown.message.find("certfleet-no-such-user") != std::string::npos);
        CHECK(read_file(d.dir / "key.pem") == before);
    }

    TEST_CASE("files: a failed reload puts the previous files back and reloads again")
    {
        deployment d;
        d.install_old_files();
        // Fails the first time, after recording what it saw; succeeds the second time.
        const auto count = d.root.path / "reloads";
        const auto seen = d.root.path / "seen.pem";
        const std::string script = "echo x >> " + count.string() + "; cp " +
                                   (d.dir / "fullchain.pem").string() + " " + seen.string() +
                                   "; [ $(wc -l < " + count.string() +
                                   ") -gt 1 ] || { echo 'emerg: broken config' >&2; exit 1; }";
        auto b = make_bundle(
            "reload.test", "files",
            {{"fullchain", (d.dir / "fullchain.pem").string()},
             {"key", (d.dir / "key.pem").string()},
             {"cert", (d.dir / "cert.pem").string()},
             {"reload", script}}
        );
        const auto result = apply_files_target(b, d.context());
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "reload");
        CHECK(result.rolled_back);
        CHECK(result.message.find("emerg: broken config") != std::string::npos);
        CHECK(result.message.find("put back and reloaded") != std::string::npos);
        CHECK(read_file(count) == "x\nx\n");
        // The first reload saw the new files; the second the old ones.
        CHECK(read_file(seen) == "old fullchain\n");
        d.check_old_files_back();
        CHECK(result.details["reload"]["exit_code"] == 1);
        CHECK(result.details["reload_after_rollback"]["exit_code"] == 0);
        CHECK(files_in(d.work / "backup") == 0);
    }

    TEST_CASE("files: a reload that cannot start or times out is a failure with the program named")
    {
        deployment d;
        d.install_old_files();
        auto b = make_bundle(
            "missing.test", "files",
            {{"fullchain", (d.dir / "fullchain.pem").string()},
             {"key", (d.dir / "key.pem").string()},
             {"reload", {"certfleet-no-such-reload"}}}
        );
        auto result = apply_files_target(b, d.context());
        CHECK_FALSE(result.ok);
        CHECK(result.rolled_back);
        CHECK(result.message.find("\"certfleet-no-such-reload\"") != std::string::npos);
        CHECK(result.message.find("reloading them failed") != std::string::npos);
        d.check_old_files_back();

        b.target_options["reload"] = {"sleep", "30"};
        b.target_options["reload_timeout_seconds"] = 1;
        const auto start = std::chrono::steady_clock::now();
        result = apply_files_target(b, d.context());
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{10});
        CHECK(result.stage == "reload");
        CHECK(result.message.find("killed") != std::string::npos);
        d.check_old_files_back();
    }

    TEST_CASE("files: a verification that fails puts the previous files back")
    {
        deployment d;
        d.install_old_files();
        const auto reloads = d.root.path / "reloads";
        auto b = make_bundle(
            "verify.test", "files",
            {{"fullchain", (d.dir / "fullchain.pem").string()},
             {"key", (d.dir / "key.pem").string()},
             {"reload", {"sh", "-c", "echo x >> " + reloads.string()}},
             {"verify",
              {{"host", "127.0.0.1"},
               {"port", 8443},
               {"sni", "verify.test"},
               {"sstp", true},
               {"wait_seconds", 0}}}}
        );
        d.probe_answer = {.ok = false, .summary = "127.0.0.1 serves sha256 00ff, expected another"};
        const auto result = apply_files_target(b, d.context());
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "verify");
        CHECK(result.rolled_back);
        CHECK(result.message.find("127.0.0.1 serves sha256 00ff") != std::string::npos);
        CHECK(result.details["probe"]["ok"] == false);
        REQUIRE(d.probes.size() == 1);
        CHECK(d.probes[0].host == "127.0.0.1");
        CHECK(d.probes[0].port == 8443);
        CHECK(d.probes[0].sni == "verify.test");
        CHECK(d.probes[0].sstp);
        REQUIRE(d.probes[0].expect_sha256.has_value());
        CHECK(d.probes[0].expect_sha256.value() == b.sha256_hex);
        CHECK(read_file(reloads) == "x\nx\n");
        d.check_old_files_back();
    }

    TEST_CASE("files: the probe runs after the reload and is retried while the old one serves")
    {
        deployment d;
        const auto reloaded = d.root.path / "reloaded";
        auto b = make_bundle(
            "retry.test", "files",
            {{"dir", d.dir.string()},
             {"reload", "touch " + reloaded.string()},
             {"verify", {{"host", "localhost"}, {"wait_seconds", 5}}}}
        );
        auto context = d.context();
        int calls = 0;
        context.probe = [&](const probe_request& r) {
            CHECK(std::filesystem::exists(reloaded));
            CHECK(r.port == 443);
            return probe_result{.ok = ++calls == 3, .summary = "try " + std::to_string(calls)};
        };
        const auto result = apply_files_target(b, context);
        CHECK(result.ok);
        CHECK(calls == 3);
        CHECK(result.details["probe"]["summary"] == "try 3");

        b.target_options["verify"]["wait_seconds"] = 0;
        context.probe = nullptr; // verify asked for, no probe: refused before anything is written
        std::filesystem::remove(d.dir / "cert.pem");
        const auto refused = apply_files_target(b, context);
        CHECK(refused.stage == "options");
        CHECK_FALSE(std::filesystem::exists(d.dir / "cert.pem"));
    }

    TEST_CASE("files: a probe that throws counts as a failed verification")
    {
        deployment d;
        d.install_old_files();
        auto b = make_bundle(
            "throw.test", "files",
            {{"fullchain", (d.dir / "fullchain.pem").string()},
             {"key", (d.dir / "key.pem").string()},
             {"verify", {{"host", "localhost"}, {"wait_seconds", 0}}}}
        );
        auto context = d.context();
        context.probe = [](const probe_request&) -> probe_result {
            throw std::runtime_error("resolver exploded");
        };
        const auto result = apply_files_target(b, context);
        CHECK(result.stage == "verify");
        CHECK(result.rolled_back);
        CHECK(result.message.find("resolver exploded") != std::string::npos);
        d.check_old_files_back();

        context.work_dir.clear();
        CHECK(apply_files_target(b, context).stage == "options");
    }

    TEST_CASE("files: files that did not exist are removed when the deployment fails")
    {
        deployment d;
        auto b =
            make_bundle("fresh.test", "files", {{"dir", d.dir.string()}, {"reload", {"false"}}});
        const auto result = apply_files_target(b, d.context());
        CHECK_FALSE(result.ok);
        CHECK(result.rolled_back);
        CHECK(files_in(d.dir) == 0);
        CHECK(result.details["files"][0]["created"] == true);
    }

    TEST_CASE("files: a rename that fails half-way through the set puts the first files back")
    {
        deployment d;
        d.install_old_files();
        // An immutable key.pem: the rename over it fails after fullchain.pem was replaced.
        const auto key = (d.dir / "key.pem").string();
        REQUIRE(std::system(("chattr +i " + key).c_str()) == 0);
        struct mutable_again
        {
            std::string path;
            ~mutable_again() { static_cast<void>(std::system(("chattr -i " + path).c_str())); }
        } guard{key};
        auto b = make_bundle(
            "immutable.test", "files",
            {{"fullchain", (d.dir / "fullchain.pem").string()}, {"key", key}, {"reload", {"false"}}}
        );
        const auto result = apply_files_target(b, d.context());
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "write");
        CHECK(result.rolled_back);
        CHECK(result.message.find("put back") != std::string::npos);
        CHECK(result.details.count("reload_after_rollback") == 0); // never reloaded: no need
        d.check_old_files_back();
        CHECK(files_in(d.dir) == 2); // no temporary left behind
    }

    TEST_CASE("files: a missing directory fails before anything is written")
    {
        deployment d;
        d.install_old_files();
        auto b = make_bundle(
            "dir.test", "files",
            {{"fullchain", (d.dir / "fullchain.pem").string()},
             {"key", (d.root.path / "missing" / "key.pem").string()}}
        );
        const auto result = apply_files_target(b, d.context());
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "write");
        CHECK(result.message.find("missing") != std::string::npos);
        CHECK(read_file(d.dir / "fullchain.pem") == "old fullchain\n");
    }

    TEST_CASE("files: a symlink is followed, the file it names replaced and the link kept")
    {
        deployment d;
        const auto real = d.root.path / "real.pem";
        write_file(real, "old", 0600);
        std::filesystem::create_symlink(real, d.dir / "key.pem");
        auto b = make_bundle(
            "link.test", "files", {{"key", (d.dir / "key.pem").string()}, {"reload", {"false"}}}
        );
        auto result = apply_files_target(b, d.context());
        CHECK(result.rolled_back);
        CHECK(read_file(real) == "old");
        CHECK(std::filesystem::is_symlink(d.dir / "key.pem"));
        b.target_options.erase("reload");
        result = apply_files_target(b, d.context());
        CHECK(result.ok);
        CHECK(std::filesystem::is_symlink(d.dir / "key.pem"));
        CHECK(read_file(real) == b.key_pem.view());
    }
}

} // namespace certfleet::deploy
