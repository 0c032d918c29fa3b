// certfleet-agent.exe (the MinGW-w64 build) under Wine against the Linux `certfleet serve` on
// loopback: enrollment with the TLS pin, then `run` long-polls, receives, verifies and unseals a
// bundle (CNG), runs an exec target with the secrets on its standard input (CreateProcess), and
// respects a closed deployment window until "deploy now"; then `install --token` runs it as a
// Windows service (Wine's service manager) that deploys and stops cleanly at `uninstall`. Behind a
// man in the middle (bundle_mitm.py) it refuses tampered and replayed bundles and ignores another
// agent's. The rras target runs the powershell.exe stand-in with the certificate's hashes in the
// script and the PFX password on standard input, and a failing script keeps the deployed version.
#include <doctest/doctest.h>

#include "support/deploy_fleet.hpp"
#include "support/rig_net.hpp"
#include "support/rig_wine.hpp"
#include "support/rras_checks.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace certfleet::test::deploy_fleet;

namespace {

const std::filesystem::path windows_build = CERTFLEET_WINDOWS_BUILD;
const std::filesystem::path agent_exe = windows_build / "src/windows/certfleet-agent.exe";
// The Windows unit tests' program doubles as the exec target's program ("--child record FILE").
const std::filesystem::path recorder_exe = windows_build / "tests/windows/unit_windows.exe";
// The stand-in for Windows PowerShell (tests/support/powershell_standin.cpp, MinGW build).
const std::filesystem::path powershell_standin_exe = windows_build / "tests/windows/powershell.exe";

json recording_target(const std::filesystem::path& record)
{
    return {{"command", {windows_path(recorder_exe), "--child", "record", windows_path(record)}}};
}

} // namespace

TEST_SUITE("windows")
{
    TEST_CASE("windows agent: enrolls, receives, unseals and applies a bundle, and keeps windows")
    {
        fleet f{"vpn.customer.test"};
        const wine_prefix wine;
        wine_agent_host vpn(wine, agent_exe, f.hosts, "vpn-01");
        auto started = steady::now();
        const auto token = f.join_token("vpn-01");
        const auto enrolled = vpn.enroll(token);
        MESSAGE(
            "enroll under Wine (first start of the prefix): " << seconds_since(started) << " s"
        );
        REQUIRE_MESSAGE(enrolled.exit_code == 0, (enrolled.out + enrolled.err));
        CHECK(vpn.status()["agent"] == "vpn-01");
        // The token is used up; a second enrollment of the same state is refused.
        const auto again = vpn.enroll(token);
        CHECK(again.exit_code == 2);

        // A token whose TLS pin is not the server's: nothing is enrolled.
        wine_agent_host pinned(wine, agent_exe, f.hosts, "pinned");
        auto payload =
            json::parse(core::base64url_decode(f.join_token("pinned").substr(5)).value());
        payload["tls_sha256"] = std::string(64, '0');
        const auto refused = pinned.enroll("cfj1." + core::base64url_encode(payload.dump()));
        CHECK(refused.exit_code == 1);
        CHECK(refused.err.find("pin") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(pinned.state_dir() / "identity.json"));

        const auto id = f.issue({"vpn.customer.test"}).front();
        const auto sha = f.newest_sha256(id);
        REQUIRE(sha.size() == 64);
        vpn.start(5);
        const auto record = f.hosts.path() / "vpn-01.record";
        started = steady::now();
        f.assign(id, "vpn-01", recording_target(record), "exec");
        const bool applied =
            wait_until([&] { return read_text_file(record).find("sha256:" + sha) == 0; }, 60s);
        MESSAGE(
            "bundle applied by the Windows agent " << seconds_since(started) << " s after assigning"
        );
        REQUIRE_MESSAGE(applied, vpn.log());
        const auto recorded = read_text_file(record);
        // The secrets came on standard input: the PFX password line, then the key.
        CHECK(recorded.find("-----BEGIN PRIVATE KEY-----") != std::string::npos);
        CHECK_MESSAGE(
            wait_until([&] { return f.deployed_newest("vpn-01", id); }, 20s),
            (f.agent_show("vpn-01").dump() + "\n" + vpn.log())
        );
        vpn.stop();
        const auto a = vpn.status()["assignments"].front();
        CHECK(a["deployed_version"].is_number_integer());
        CHECK(a["last_status"] == "deployed");

        // A closed window: staged, not applied, until "deploy now".
        const auto today = std::chrono::weekday(
            std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())
        );
        wine_agent_host later(wine, agent_exe, f.hosts, "later");
        const auto joined = later.enroll(
            f.join_token("later", day_name(today + std::chrono::days(3)) + " 10:00-11:00 UTC")
        );
        REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
        later.start(5);
        const auto later_record = f.hosts.path() / "later.record";
        f.assign(id, "later", recording_target(later_record), "exec");
        CHECK_MESSAGE(
            wait_until(
                [&] { return f.assignment_of("later", id)["last_status"] == "staged"; }, 60s
            ),
            later.log()
        );
        std::this_thread::sleep_for(3s);
        CHECK_FALSE(std::filesystem::exists(later_record));
        const auto now = f.rig.certfleet({"deploy", "now", "--agent", "later"});
        REQUIRE_MESSAGE(now.exit_code == 0, (now.out + now.err));
        started = steady::now();
        const bool deployed_now = wait_until(
            [&] { return read_text_file(later_record).find("sha256:" + sha) == 0; }, 60s
        );
        MESSAGE("deploy now applied by the Windows agent after " << seconds_since(started) << " s");
        CHECK_MESSAGE(deployed_now, later.log());
        later.stop();

        // The service: installed with a token, deploys, and stops cleanly when removed.
        wine_agent_host service(wine, agent_exe, f.hosts, "service");
        const auto installed = service.command({"install", "--token", f.join_token("service")});
        REQUIRE_MESSAGE(installed.exit_code == 0, (installed.out + installed.err));
        const auto query = wine.run("sc", {"query", "certfleet-agent"});
        CHECK_MESSAGE(query.out.find("RUNNING") != std::string::npos, query.out);
        const auto shown = service.command({"status"});
        CHECK_MESSAGE(shown.out.find("service: running") == 0, shown.out);
        const auto service_record = f.hosts.path() / "service.record";
        started = steady::now();
        f.assign(id, "service", recording_target(service_record), "exec");
        const bool served = wait_until(
            [&] { return read_text_file(service_record).find("sha256:" + sha) == 0; }, 60s
        );
        MESSAGE("the service applied the bundle after " << seconds_since(started) << " s");
        CHECK_MESSAGE(served, read_text_file(service.state_dir() / "agent.log"));
        started = steady::now();
        const auto removed = wine.run(agent_exe, {"uninstall"});
        MESSAGE(
            "uninstall (stopping a long-poll in flight) took " << seconds_since(started) << " s"
        );
        CHECK_MESSAGE(removed.exit_code == 0, (removed.out + removed.err));
        // The service polls for 25 s: its stop did not wait for the poll to end.
        CHECK(seconds_since(started) < 15);
        const auto log = read_text_file(service.state_dir() / "agent.log");
        CHECK_MESSAGE(log.find(" info stopped") != std::string::npos, log);
        CHECK(service.command({"status"}).out.find("service: not installed") == 0);
    }

    TEST_CASE("windows agent: refuses tampered and replayed bundles, ignores foreign ones")
    {
        fleet f{"vpn.customer.test"};
        const wine_prefix wine;
        // The agent talks to the server through a man in the middle holding the server's own
        // certificate and key (the pin holds), which changes the bundles in poll answers.
        const auto api = f.rig.api_url();
        const auto upstream = api.substr(api.rfind(':') + 1);
        const auto port = free_port();
        const auto mode = f.hosts.write("mitm.mode", "pass");
        const auto dir = f.rig.config().parent_path();
        child_process mitm{child_options{
            .argv =
                {"python3", CERTFLEET_SOURCE_DIR "/tests/windows/bundle_mitm.py",
                 (dir / "api-cert.pem").string(), (dir / "api-key.pem").string(),
                 std::to_string(port), upstream, mode.string()},
            .log_file = f.hosts.path() / "mitm.log"}};
        auto payload =
            json::parse(core::base64url_decode(f.join_token("mitm-01").substr(5)).value());
        payload["url"] = "https://127.0.0.1:" + std::to_string(port);
        wine_agent_host agent(wine, agent_exe, f.hosts, "mitm-01");
        const auto enrolled = agent.enroll("cfj1." + core::base64url_encode(payload.dump()));
        REQUIRE_MESSAGE(
            enrolled.exit_code == 0, (enrolled.err + read_text_file(f.hosts.path() / "mitm.log"))
        );

        const auto id = f.issue({"vpn.customer.test"}).front();
        const auto first = f.newest_sha256(id);
        agent.start(5);
        const auto record = f.hosts.path() / "mitm-01.record";
        f.assign(id, "mitm-01", recording_target(record), "exec");
        REQUIRE_MESSAGE(
            wait_until([&] { return read_text_file(record).find("sha256:" + first) == 0; }, 60s),
            agent.log()
        );
        auto refused_with = [&](const std::string& error) {
            return wait_until(
                [&] {
                    const auto a = f.assignment_of("mitm-01", id);
                    return a["last_status"] == "refused" && a["last_result"].is_object() &&
                           a["last_result"].value("error", "") == error;
                },
                60s
            );
        };

        // A renewal whose bundle arrives with a changed signature: refused, nothing applied.
        f.hosts.write("mitm.mode", "tamper");
        REQUIRE(f.rig.certfleet({"cert", "renew", std::to_string(id)}).exit_code == 0);
        const auto second = f.newest_sha256(id);
        REQUIRE(second != first);
        CHECK_MESSAGE(
            refused_with("bundle signature does not verify with the pinned signing key"),
            (f.assignment_of("mitm-01", id).dump() + "\n" + agent.log())
        );
        CHECK(read_text_file(record).find("sha256:" + first) == 0);

        // The deployed bundle sent again: refused as a replay.
        f.hosts.write("mitm.mode", "replay");
        CHECK_MESSAGE(
            refused_with("bundle older than the one deployed"),
            (f.assignment_of("mitm-01", id).dump() + "\n" + agent.log())
        );
        CHECK(read_text_file(record).find("sha256:" + first) == 0);

        // Untouched again: the renewal is applied.
        f.hosts.write("mitm.mode", "pass");
        CHECK_MESSAGE(
            wait_until([&] { return read_text_file(record).find("sha256:" + second) == 0; }, 60s),
            agent.log()
        );

        // Another agent's bundle (a Linux agent behind the same man in the middle): refused.
        agent_host other(f.hosts, "other");
        auto other_token =
            json::parse(core::base64url_decode(f.join_token("other").substr(5)).value());
        other_token["url"] = payload["url"];
        REQUIRE(other.enroll("cfj1." + core::base64url_encode(other_token.dump())).exit_code == 0);
        other.start(5);
        const auto other_dir = target_dir(f, "other");
        f.assign(id, "other", {{"dir", other_dir.string()}});
        REQUIRE_MESSAGE(
            wait_until([&] { return pem_file_sha256(other_dir / "cert.pem") == second; }, 30s),
            other.log()
        );
        f.hosts.write("mitm.mode", "foreign other");
        // It names an assignment this agent does not have: ignored (its log says), nothing applied.
        CHECK_MESSAGE(
            wait_until(
                [&] {
                    return agent.log().find("a bundle for no assignment of this agent was ignored"
                           ) != std::string::npos;
                },
                60s
            ),
            agent.log()
        );
        CHECK(read_text_file(record).find("sha256:" + second) == 0);
        other.stop();
        agent.stop();
    }

    TEST_CASE("windows agent: the rras target runs powershell.exe with the hashes and the password")
    {
        fleet f{"vpn.customer.test"};
        const wine_prefix wine;
        const auto record = f.hosts.subdir("standin");
        const rras_checks::standin_env env(windows_path(record));
        wine_agent_host vpn(wine, agent_exe, f.hosts, "vpn-rras");
        const auto enrolled = vpn.enroll(f.join_token("vpn-rras"));
        REQUIRE_MESSAGE(enrolled.exit_code == 0, (enrolled.out + enrolled.err));
        vpn.start(5);
        const auto id = f.issue({"vpn.customer.test"}).front();
        const json options{
            {"endpoint", "vpn.customer.test"},
            {"powershell", windows_path(powershell_standin_exe)},
            {"timeout_seconds", 60}};
        f.assign(id, "vpn-rras", options, "rras");
        REQUIRE_MESSAGE(
            wait_until([&] { return f.deployed_newest("vpn-rras", id); }, 60s), vpn.log()
        );
        rras_checks::check_recorded_deployment(f, id, record, vpn.state_dir());
        rras_checks::check_failed_script_keeps_version(
            f, "vpn-rras", id,
            [&] {
                vpn.stop();
                vpn.start(5);
            },
            [&] { return vpn.log(); }
        );
        vpn.stop();
    }
}
