// The rras target end to end: `certfleet serve` (backend_rig), a certificate issued by Pebble,
// assigned with `certfleet cert assign --target rras` to a real Linux certfleet-agent whose
// powershell.exe is the stand-in (tests/support/powershell_standin.cpp): the server checks the
// options, the agent renders the script with the certificate's hashes, hands the password over
// standard input only, and keeps the deployed version when the script fails.
#include <doctest/doctest.h>

#include "support/rras_checks.hpp"

namespace certfleet::test {
using namespace deploy_fleet;
using namespace rras_checks;

TEST_SUITE("integration")
{
    TEST_CASE("deploy agents: the rras target through the server and a Linux agent")
    {
        fleet f{"vpn.customer.test"};
        const auto record = f.hosts.subdir("standin");
        const standin_env env(record.string());
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
        check_recorded_deployment(f, id, record, vpn.state_dir());

        check_failed_script_keeps_version(
            f, "vpn", id,
            [&] {
                vpn.stop();
                vpn.start(); // the agent reads its environment at start
            },
            [&] { return vpn.log(); }
        );
        CHECK(vpn.stop() == 0);
    }
}

} // namespace certfleet::test
