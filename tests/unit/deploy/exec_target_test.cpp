#include "deploy/exec_target.hpp"

#include <doctest/doctest.h>

#include "deploy/posix_process.hpp"
#include "deploy/target_support.hpp"
#include "support/bundle_fixture.hpp"

namespace certfleet::deploy {
namespace {

using namespace testing;

// The script the operator would write: its arguments and environment to one file, its standard
// input to another, then whatever `tail` says.
std::string dump_script(const std::filesystem::path& dir, std::string_view tail = "")
{
    return "echo \"argv: $0 $*\" > " + (dir / "dump").string() + "; env >> " +
           (dir / "dump").string() + "; cat > " + (dir / "stdin").string() + "; " + "ls > " +
           (dir / "listing").string() + "; " + std::string(tail);
}

struct exec_fixture
{
    scratch_dir root;
    std::filesystem::path out = root.path / "out";
    posix_process_runner runner;

    exec_fixture() { std::filesystem::create_directories(out); }

    target_context context()
    {
        return {.processes = runner, .probe = nullptr, .work_dir = root.path / "work"};
    }
};

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("exec: paths and fingerprints in the environment, secrets on standard input only")
    {
        exec_fixture f;
        auto b = make_bundle(
            "exec.test", "exec",
            {{"command", {"/bin/sh", "-c", dump_script(f.out), "hook", "first-arg"}}},
            "secret pfx password"
        );
        const auto result = apply_exec_target(b, f.context());
        CHECK(result.ok);
        CHECK(result.stage == "done");
        const auto dir = f.root.path / "work"; // the default
        CHECK(result.details["dir"] == dir.string());
        const auto dump = read_file(f.out / "dump");
        CHECK(dump.find("argv: hook first-arg") != std::string::npos);
        const std::pair<std::string, std::string> expected[] = {
            {"CERTFLEET_CERT_FILE", (dir / "cert.pem").string()},
            {"CERTFLEET_CHAIN_FILE", (dir / "chain.pem").string()},
            {"CERTFLEET_FULLCHAIN_FILE", (dir / "fullchain.pem").string()},
            {"CERTFLEET_PFX_FILE", (dir / "cert.pfx").string()},
            {"CERTFLEET_SHA256", b.sha256_hex},
            {"CERTFLEET_SHA1", b.sha1_hex},
            {"CERTFLEET_SERIAL", b.serial_hex},
            {"CERTFLEET_NAMES", "exec.test www.exec.test"},
            {"CERTFLEET_NOT_AFTER", utc_text(b.not_after)},
            {"CERTFLEET_NOT_BEFORE", utc_text(b.not_before)},
            {"CERTFLEET_VERSION", "42"},
            {"CERTFLEET_ASSIGNMENT", "7"},
            {"CERTFLEET_CERTIFICATE", "11"},
        };
        for (const auto& [name, value] : expected) {
            CAPTURE(name);
            CHECK(dump.find("\n" + name + "=" + value + "\n") != std::string::npos);
        }
        CHECK(b.sha256_hex.size() == 64);
        CHECK(utc_text(b.not_after).back() == 'Z');
        // The secrets: on standard input, password line first, and nowhere else.
        CHECK(
            read_file(f.out / "stdin") == "secret pfx password\n" + std::string(b.key_pem.view())
        );
        CHECK(dump.find("secret pfx password") == std::string::npos);
        CHECK(dump.find("PRIVATE KEY") == std::string::npos);
        const auto key_line = std::string(b.key_pem.view()).substr(28, 40); // base64 body
        CHECK(dump.find(key_line) == std::string::npos);
        // The files were there for the program; the PFX is gone after it; no key file ever.
        const auto listing = read_file(f.out / "listing");
        CHECK(listing.find("cert.pfx") != std::string::npos);
        CHECK(listing.find("key") == std::string::npos);
        CHECK_FALSE(std::filesystem::exists(dir / "cert.pfx"));
        CHECK(read_file(dir / "fullchain.pem") == split_chain_pem(b.chain_pem).fullchain);
        CHECK(read_file(dir / "cert.pem") == split_chain_pem(b.chain_pem).cert);
        CHECK(mode_of(dir) == 0700);
    }

    TEST_CASE("exec: a shell script reads the password line and then the key")
    {
        exec_fixture f;
        const std::string script = "IFS= read -r pw; cat > " + (f.out / "key.pem").string() +
                                   "; printf '%s' \"$pw\" > " + (f.out / "pw").string() +
                                   "; echo \"pfx at $CERTFLEET_PFX_FILE\"";
        auto b = make_bundle(
            "shell.test", "exec",
            {{"command", {"sh", "-c", script}}, {"dir", (f.root.path / "files").string()}}
        );
        const auto result = apply_exec_target(b, f.context());
        CHECK(result.ok);
        CHECK(read_file(f.out / "key.pem") == b.key_pem.view());
        CHECK(read_file(f.out / "pw") == "pfx pass 1");
        CHECK(
            result.details["output"] == "pfx at " + (f.root.path / "files" / "cert.pfx").string()
        );
        CHECK(result.details["dir"] == (f.root.path / "files").string());

        // No PFX: an empty password line and no CERTFLEET_PFX_FILE.
        b.pfx.clear();
        b.pfx_password = core::secret{};
        CHECK(apply_exec_target(b, f.context()).details["output"] == "pfx at");
        CHECK(read_file(f.out / "key.pem") == b.key_pem.view());
    }

    TEST_CASE("exec: a non-zero exit is a failure carrying the program's output")
    {
        exec_fixture f;
        auto b = make_bundle(
            "fail.test", "exec",
            {{"command", {"sh", "-c", "echo 'could not import the certificate' >&2; exit 3"}}}
        );
        const auto result = apply_exec_target(b, f.context());
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "exec");
        CHECK_FALSE(result.rolled_back);
        CHECK(result.message.find("exited with 3") != std::string::npos);
        CHECK(result.message.find("could not import the certificate") != std::string::npos);
        CHECK(result.details["exit_code"] == 3);
    }

    TEST_CASE("exec: a program that cannot start or runs too long fails, named")
    {
        exec_fixture f;
        auto b = make_bundle("slow.test", "exec", {{"command", {"certfleet-no-such-hook"}}});
        auto result = apply_exec_target(b, f.context());
        CHECK_FALSE(result.ok);
        CHECK(result.message.find("\"certfleet-no-such-hook\"") != std::string::npos);

        b.target_options = {{"command", {"sleep", "30"}}, {"timeout_seconds", 1}};
        const auto start = std::chrono::steady_clock::now();
        result = apply_exec_target(b, f.context());
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{10});
        CHECK_FALSE(result.ok);
        CHECK(result.message.find("killed") != std::string::npos);
        // A program that never reads its input still succeeds.
        b.target_options = {{"command", {"true"}}};
        CHECK(apply_exec_target(b, f.context()).ok);
    }

    TEST_CASE("exec: wrong options are refused with the problem in words")
    {
        CHECK(
            check_target_options("exec", nlohmann::json::object()).find("command") !=
            std::string::npos
        );
        CHECK(
            check_target_options("exec", {{"command", "deploy.sh"}}).find("array") !=
            std::string::npos
        );
        CHECK(
            check_target_options("exec", {{"command", nlohmann::json::array()}}).find("command") !=
            std::string::npos
        );
        CHECK(
            check_target_options("exec", {{"command", {""}}}).find("command") != std::string::npos
        );
        CHECK(
            check_target_options(
                "exec", {{"command", {"x"}}, {"timeout_seconds", -5}}
            ).find("timeout_seconds") != std::string::npos
        );
        CHECK(
            check_target_options("exec", {{"command", {"x"}}, {"dir", "rel"}}).find("absolute") !=
            std::string::npos
        );
        CHECK(
            check_target_options("exec", {{"command", {"x"}}, {"env", 1}}).find("unknown") !=
            std::string::npos
        );
        CHECK(check_target_options(
                  "exec",
                  {{"command", {"/usr/local/bin/deploy", "--quiet"}}, {"timeout_seconds", 60}}
        ).empty());
    }
}

} // namespace certfleet::deploy
