// The issuance backend end to end, through the certfleet binary: the sweep (renew) without a
// server and handed to one, its exit codes and JSON/JUnit reports, the preflight that places
// no order for a broken name, and crash safety under SIGKILL.
#include <doctest/doctest.h>

#include <csignal>
#include <random>
#include <thread>

#include "app/settings.hpp"
#include "app/state.hpp"
#include "support/backend_rig.hpp"
#include "support/rig_certfleet.hpp"

namespace certfleet::test {
namespace {

std::map<std::string, std::string> numbered_domains(int n)
{
    std::map<std::string, std::string> out;
    for (int i = 0; i < n; ++i) {
        out["n" + std::to_string(i) + ".customer.test"] = "label" + std::to_string(i);
    }
    return out;
}

// Parses a JUnit file with Python's XML parser and returns "tests failures testcases".
std::string junit_summary(const std::filesystem::path& file)
{
    const auto r = run(
        {"python3", "-c",
         "import sys, xml.etree.ElementTree as ET\n"
         "root = ET.parse(sys.argv[1]).getroot()\n"
         "suite = root.find('testsuite')\n"
         "cases = suite.findall('testcase')\n"
         "failed = [c for c in cases if c.find('failure') is not None]\n"
         "print(suite.get('tests'), suite.get('failures'), len(cases), len(failed))\n",
         file.string()}
    );
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out.substr(0, r.out.find('\n'));
}

// True when the exported key is the private half of the exported certificate.
bool key_matches(const std::filesystem::path& dir)
{
    return key_matches_certificate(dir / "cert.pem", dir / "key.pem");
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE(
        "backend: renew --due without a server issues what is due, with JSON and JUnit reports"
    )
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}, {"api.customer.test", "api"}}});
        REQUIRE(
            rig.certfleet({"cert", "add", "--name", "www.customer.test", "--name",
                           "api.customer.test"})
                .exit_code == 0
        );
        REQUIRE(
            rig.certfleet({"cert", "add", "--name", "api.customer.test", "--key", "rsa-2048"})
                .exit_code == 0
        );

        const auto dry = rig.certfleet_json({"renew", "--due", "--dry-run"});
        CHECK(dry["due"].size() == 2);
        CHECK(dry["due"][0]["reason"] == "first issuance");
        CHECK(rig.pebble_orders() == 0);

        const auto junit = rig.dir().path() / "renew.xml";
        const auto r = rig.certfleet({"renew", "--due", "--json", "--junit", junit.string()});
        INFO(r.out, r.err);
        REQUIRE(r.exit_code == 0);
        const auto report = nlohmann::json::parse(r.out);
        CHECK(report["succeeded"] == true);
        CHECK(report["ran_in"] == "this process");
        REQUIRE(report["results"].size() == 2);
        for (const auto& result : report["results"]) {
            CHECK(result["outcome"] == "issued");
            CHECK(result["serial"].get<std::string>().size() > 0);
        }
        CHECK(junit_summary(junit) == "2 0 2 0");

        SUBCASE("nothing is due afterwards: exit 0 and an empty plan")
        {
            const auto again = rig.certfleet({"renew", "--due"});
            CHECK(again.exit_code == 0);
            CHECK(again.out.find("nothing was due") != std::string::npos);
            CHECK(rig.certfleet_json({"renew", "--due", "--dry-run"})["due"].empty());
        }
        SUBCASE("the stored key matches the certificate, exported as PEM and PFX")
        {
            const auto out = rig.dir().path() / "export" / "one";
            REQUIRE(rig.certfleet({"cert", "export", "1", "--out", out.string()}).exit_code == 0);
            CHECK(key_matches(out));
            CHECK(
                (std::filesystem::status(out / "key.pem").permissions() &
                 std::filesystem::perms::others_read) == std::filesystem::perms::none
            );
            const auto password = out / "pfx-password.txt";
            const auto pfx = run(
                {"openssl", "pkcs12", "-in", (out / "certificate.pfx").string(), "-nokeys",
                 "-passin", "file:" + password.string()}
            );
            CHECK_MESSAGE(pfx.exit_code == 0, pfx.err);
            CHECK(pfx.out.find("BEGIN CERTIFICATE") != std::string::npos);
        }
        SUBCASE("--all renews again, replacing the version")
        {
            const auto all = rig.certfleet_json({"renew", "--all"});
            CHECK(all["results"].size() == 2);
            const auto show = rig.certfleet_json({"cert", "show", "1"});
            CHECK(show["versions"].size() == 2);
        }
    }

    TEST_CASE("backend: a broken delegation or a CAA record for another CA places no order and "
              "fails the sweep")
    {
        backend_rig rig(preflight_cases());
        for (const auto* name : {"good", "missing", "wrong", "caa"}) {
            REQUIRE(
                rig.certfleet({"cert", "add", "--name", std::string(name) + ".customer.test"})
                    .exit_code == 0
            );
        }
        const auto junit = rig.dir().path() / "renew.xml";
        const auto r = rig.certfleet({"renew", "--due", "--json", "--junit", junit.string()});
        INFO(r.out, r.err);
        CHECK(r.exit_code == 1);
        const auto report = nlohmann::json::parse(r.out);
        std::map<std::string, nlohmann::json> by_name;
        for (const auto& result : report["results"]) {
            by_name[result["names"][0].get<std::string>()] = result;
        }
        CHECK(by_name["good.customer.test"]["outcome"] == "issued");
        CHECK(by_name["missing.customer.test"]["outcome"] == "preflight_failed");
        CHECK(
            by_name["missing.customer.test"]["problem"].get<std::string>().find("missing") !=
            std::string::npos
        );
        CHECK(by_name["wrong.customer.test"]["outcome"] == "preflight_failed");
        CHECK(
            by_name["wrong.customer.test"]["problem"].get<std::string>().find("somewhere-else") !=
            std::string::npos
        );
        CHECK(by_name["caa.customer.test"]["outcome"] == "preflight_failed");
        CHECK(
            by_name["caa.customer.test"]["problem"].get<std::string>().find("otherca.example") !=
            std::string::npos
        );
        // One order, for the good name: the failing names never reached the CA.
        CHECK(rig.pebble_orders() == 1);
        CHECK(junit_summary(junit) == "4 3 4 3");

        const auto status = rig.certfleet({"status"});
        CHECK(status.out.find("otherca.example") != std::string::npos);
        const auto check = rig.certfleet({"domain", "check", "wrong.customer.test"});
        CHECK(check.exit_code == 1);
        CHECK(check.out.find("points_elsewhere") != std::string::npos);
    }

    TEST_CASE("backend: serve issues an added certificate at once, and a sweep hands its work to it"
    )
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}, {"api.customer.test", "api"}}});
        rig.start_serve();
        REQUIRE(rig.certfleet({"cert", "add", "--name", "www.customer.test"}).exit_code == 0);
        REQUIRE(rig.wait_all_valid(1, std::chrono::seconds(60)));
        REQUIRE(rig.certfleet({"cert", "add", "--name", "api.customer.test"}).exit_code == 0);
        const auto swept = rig.certfleet_json({"renew", "--all"});
        CHECK(swept["ran_in"] == "server");
        CHECK(swept["succeeded"] == true);
        CHECK(swept["results"].size() == 2);
        // A consistent copy while the server runs, never written over.
        const auto backup = rig.dir().path() / "backup.db";
        CHECK(rig.certfleet({"backup", backup.string()}).exit_code == 0);
        CHECK(std::filesystem::file_size(backup) > 0);
        CHECK(rig.certfleet({"backup", backup.string()}).exit_code == 1);
        // Revoked at the CA, and never renewed again.
        const auto revoked = rig.certfleet({"cert", "revoke", "1", "--reason", "superseded"});
        CHECK_MESSAGE(revoked.exit_code == 0, revoked.err);
        CHECK(rig.certfleet_json({"cert", "show", "1"})["state"] == "revoked");
        CHECK(rig.certfleet({"cert", "revoke", "1", "--reason", "because"}).exit_code == 2);
        CHECK(rig.stop_serve() == 0); // SIGTERM parks and exits 0
        CHECK(rig.serve()->log().find("parking orders in flight") != std::string::npos);
    }

    TEST_CASE(
        "backend: domains get stable labels, and a wrong or missing master key stops every command"
    )
    {
        backend_rig rig({});
        const auto added =
            rig.certfleet_json({"domain", "add", "shop.customer.test", "Blog.Customer.Test."});
        REQUIRE(added.size() == 2);
        const auto label = added[0]["label"].get<std::string>();
        CHECK(label.size() == 16);
        CHECK(added[1]["name"] == "blog.customer.test");
        CHECK(
            added[0]["record"] ==
            "_acme-challenge.shop.customer.test. CNAME " + label + ".acme.delegated.test."
        );
        // Adding again keeps the label: the CNAME at the provider never changes.
        CHECK(rig.certfleet_json({"domain", "add", "shop.customer.test"})[0]["label"] == label);
        CHECK(rig.certfleet({"domain", "add", "*.shop.customer.test"}).exit_code == 2);
        CHECK(rig.certfleet({"cert", "add", "--name", "unknown.customer.test"}).exit_code == 2);
        REQUIRE(rig.certfleet({"cert", "add", "--name", "*.shop.customer.test"}).exit_code == 0);
        const auto in_use = rig.certfleet({"domain", "remove", "shop.customer.test"});
        CHECK(in_use.exit_code == 1);
        CHECK(in_use.err.find("revoke it first") != std::string::npos);
        CHECK(rig.certfleet({"domain", "remove", "blog.customer.test"}).exit_code == 0);
        CHECK(rig.certfleet_json({"domain", "list"}).size() == 1);

        const auto other_key = "CERTFLEET_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        const auto wrong = run_certfleet(
            {"cert", "list", "--config", rig.config().string()}, run_options{.env = {other_key}}
        );
        CHECK(wrong.exit_code == 1);
        CHECK(wrong.err.find("master key does not open this database") != std::string::npos);
        std::filesystem::rename(
            rig.config().parent_path() / "master.key", rig.dir().path() / "moved.key"
        );
        const auto missing = rig.certfleet({"cert", "list"});
        CHECK(missing.exit_code == 1);
        CHECK(missing.err.find("cannot read the master key") != std::string::npos);
        // init never replaces what exists.
        std::filesystem::rename(
            rig.dir().path() / "moved.key", rig.config().parent_path() / "master.key"
        );
        const auto again = run_certfleet({"init", "--config", rig.config().string()});
        CHECK(again.exit_code == 1);
        CHECK(again.err.find("never replaces") != std::string::npos);
    }

    TEST_CASE("backend: with the preflight off, certificates waiting for a slot are each issued")
    {
        // Runs that finish without waiting on the network (no preflight) must not start the
        // next from inside themselves: serve overflowed its stack here.
        constexpr int certificates = 4;
        backend_rig rig({
            .domains = numbered_domains(certificates),
            .preflight_config = "delegation = false\ncaa = false",
            .max_concurrent_orders = 1,
        });
        for (int i = 0; i < certificates; ++i) {
            REQUIRE(
                rig.certfleet({"cert", "add", "--name", "n" + std::to_string(i) + ".customer.test"})
                    .exit_code == 0
            );
        }
        rig.start_serve();
        const bool all_valid = rig.wait_all_valid(certificates, std::chrono::seconds(60));
        INFO(tail_lines(rig.serve()->log(), 20));
        CHECK(all_valid);
        CHECK(rig.stop_serve() == 0);
    }

    TEST_CASE("backend: 20 certificates issued while serve is killed with SIGKILL at random moments"
    )
    {
        constexpr int certificates = 20;
        // Two orders at a time, so that the kills land in the middle of issuance.
        backend_rig rig({.domains = numbered_domains(certificates), .max_concurrent_orders = 2});
        for (int i = 0; i < certificates; ++i) {
            REQUIRE(
                rig.certfleet({"cert", "add", "--name", "n" + std::to_string(i) + ".customer.test"})
                    .exit_code == 0
            );
        }
        rig.start_serve();
        std::mt19937 random(std::random_device{}());
        std::uniform_int_distribution<int> pause_ms(10, 150);
        int kills = 0;
        int kills_mid_issuance = 0;
        for (; kills < 12; ++kills) {
            std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
            rig.kill_serve();
            kills_mid_issuance += rig.valid_count() < certificates ? 1 : 0;
            rig.start_serve();
        }
        const bool all_valid = rig.wait_all_valid(certificates, std::chrono::seconds(120));
        INFO(tail_lines(rig.serve()->log(), 40));
        REQUIRE(all_valid);
        CHECK(kills >= 10);
        for (int id = 1; id <= certificates; ++id) {
            const auto show = rig.certfleet_json({"cert", "show", std::to_string(id)});
            CHECK(show["open_order"].is_null()); // no order left in flight
            const auto out = rig.dir().path() / "export" / std::to_string(id);
            REQUIRE(
                rig.certfleet({"cert", "export", std::to_string(id), "--out", out.string()})
                    .exit_code == 0
            );
            CHECK_MESSAGE(key_matches(out), "certificate " << id);
        }
        CHECK(kills_mid_issuance >= 3);
        MESSAGE(
            "orders created at Pebble for 20 certificates: "
            << rig.pebble_orders() << ", across " << kills << " kills (" << kills_mid_issuance
            << " before every certificate was issued)"
        );
    }

    TEST_CASE("backend: later runs use the stored account, and register again when the CA has "
              "lost it")
    {
        backend_rig rig({.domains = numbered_domains(1)});
        REQUIRE(rig.certfleet({"cert", "add", "--name", "n0.customer.test"}).exit_code == 0);
        const auto renew_all = [&] {
            const auto r = rig.certfleet({"renew", "--all", "--json"}, std::chrono::seconds(120));
            INFO(r.out, r.err);
            CHECK(r.exit_code == 0);
            return r;
        };
        renew_all();
        CHECK(rig.pebble_account_requests() == 1);
        renew_all();
        CHECK(rig.pebble_account_requests() == 1); // no newAccount per run

        // The stored URL names an account Pebble does not have (as after a CA's reset).
        {
            const auto settings = app::load_settings(rig.config().string());
            auto st = app::open_state(settings);
            auto ca = st.store->find_ca("default").value();
            ca.account_url += "0";
            REQUIRE(st.store->save_ca(ca));
        }
        const auto lost = renew_all();
        CHECK(lost.err.find("no longer knows the stored account") != std::string::npos);
        CHECK(rig.pebble_account_requests() == 2);
        renew_all();
        CHECK(rig.pebble_account_requests() == 2); // the new URL was stored
    }

    TEST_CASE("backend: renew --all issues 30 of 30 with Pebble rejecting 30 % of nonces")
    {
        backend_rig rig({.pebble = {.nonce_reject_percent = 30}, .domains = numbered_domains(30)});
        for (int i = 0; i < 30; ++i) {
            REQUIRE(
                rig.certfleet({"cert", "add", "--name", "n" + std::to_string(i) + ".customer.test"})
                    .exit_code == 0
            );
        }
        // Verbose: when it fails, the log says which step each order was at.
        const auto r =
            rig.certfleet({"renew", "--all", "--json", "--verbose"}, std::chrono::seconds(200));
        INFO(r.out, r.err);
        CHECK(r.exit_code == 0);
        const auto report = nlohmann::json::parse(r.out);
        int issued = 0;
        for (const auto& result : report["results"]) {
            issued += result["outcome"] == "issued" ? 1 : 0;
        }
        CHECK(issued == 30);
    }
}

} // namespace certfleet::test
