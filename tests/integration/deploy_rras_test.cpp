// The rras target end to end: `certfleet serve` (backend_rig), a certificate issued by Pebble,
// assigned with `certfleet cert assign --target rras` to a real Linux certfleet-agent whose
// powershell.exe is the stand-in (tests/support/powershell_standin.cpp): the server checks the
// options, the agent renders the script with the certificate's hashes, hands the password over
// standard input only, and keeps the deployed version when the script fails.
#include <doctest/doctest.h>
#include <stdlib.h>

#include "support/deploy_fleet.hpp"

namespace certfleet::test {
using namespace deploy_fleet;

namespace {

// The stand-in's environment, inherited by the agent started after it is set.
struct standin_env
{
    std::filesystem::path record;
    explicit standin_env(std::filesystem::path dir) : record(std::move(dir))
    {
        ::setenv("CERTFLEET_STANDIN_DIR", record.c_str(), 1);
        ::setenv("CERTFLEET_STANDIN_ANSWER", "ok", 1);
    }
    ~standin_env()
    {
        ::unsetenv("CERTFLEET_STANDIN_DIR");
        ::unsetenv("CERTFLEET_STANDIN_ANSWER");
    }
    standin_env(const standin_env&) = delete;
    standin_env& operator=(const standin_env&) = delete;
};

// Lower-case hex of `openssl x509 -noout -fingerprint -<digest> -in file`.
std::string openssl_fingerprint(const std::filesystem::path& pem, const std::string& digest)
{
    const auto r =
        run({"openssl", "x509", "-noout", "-fingerprint", "-" + digest, "-in", pem.string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::string hex;
    for (const char c : r.out.substr(r.out.find('=') + 1)) {
        if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
            hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return hex;
}

bool contains(const std::filesystem::path& file, const std::string& needle)
{
    return std::filesystem::exists(file) && read_text_file(file).find(needle) != std::string::npos;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("deploy agents: the rras target through the server and a Linux agent")
    {
        fleet f{"vpn.customer.test"};
        const standin_env env(f.hosts.subdir("standin"));
        agent_host vpn(f.hosts, "vpn");
        enroll(f, vpn);
        vpn.start();
        const auto id = f.issue({"vpn.customer.test"}).front();

        // The server checks the target's options.
        const auto refused = f.rig.certfleet(
            {"cert", "assign", std::to_string(id), "--agent", "vpn", "--target", "rras", "--option",
             "endpoint=vpn customer"}
        );
        CHECK(refused.exit_code != 0);
        CHECK_MESSAGE(refused.err.find("endpoint") != std::string::npos, refused.err);

        const json options{
            {"endpoint", "vpn.customer.test"},
            {"powershell", CERTFLEET_POWERSHELL_STANDIN},
            {"timeout_seconds", 30}};
        f.assign(id, "vpn", options, "rras");
        CHECK_MESSAGE(wait_until([&] { return f.deployed_newest("vpn", id); }, 20s), vpn.log());

        const auto exported = f.hosts.subdir("exported");
        const auto e =
            f.rig.certfleet({"cert", "export", std::to_string(id), "--out", exported.string()});
        REQUIRE_MESSAGE(e.exit_code == 0, e.err);
        const auto script = read_text_file(env.record / "script.ps1");
        CHECK(
            script.find("$NewSha1Hex = '" + openssl_fingerprint(exported / "cert.pem", "sha1")) !=
            std::string::npos
        );
        CHECK(
            script.find(
                "$NewSha256Hex = '" + openssl_fingerprint(exported / "cert.pem", "sha256")
            ) != std::string::npos
        );
        const auto password = read_text_file(env.record / "stdin.txt");
        REQUIRE(password.size() > 8);
        const auto line = password.substr(0, password.size() - 1);
        CHECK(password.back() == '\n');
        CHECK_FALSE(contains(env.record / "args.txt", line));
        CHECK_FALSE(contains(env.record / "script.ps1", line));
        for (const auto& file : std::filesystem::recursive_directory_iterator(vpn.state_dir())) {
            CAPTURE(file.path());
            CHECK_FALSE((file.is_regular_file() && contains(file.path(), line)));
        }

        // A renewal whose script fails: reported, the first version stays deployed.
        const auto deployed = f.assignment_of("vpn", id)["deployed_version"];
        ::setenv("CERTFLEET_STANDIN_ANSWER", "fail", 1);
        vpn.stop();
        vpn.start(); // the agent reads its environment at start
        const auto renewed = f.rig.certfleet({"cert", "renew", std::to_string(id)});
        REQUIRE_MESSAGE(renewed.exit_code == 0, (renewed.out + renewed.err));
        CHECK_MESSAGE(
            wait_until([&] { return f.assignment_of("vpn", id)["last_status"] == "failed"; }, 30s),
            vpn.log()
        );
        const auto failed = f.assignment_of("vpn", id);
        INFO(failed.dump());
        CHECK(failed["deployed_version"] == deployed);
        CHECK(failed["newest_version"] != deployed);
        CHECK(failed["last_result"].value("stage", std::string()) == "verify");
        CHECK(failed["last_result"].value("rolled_back", false));
        CHECK(vpn.stop() == 0);
    }
}

} // namespace certfleet::test
