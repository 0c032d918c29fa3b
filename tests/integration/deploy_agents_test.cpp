// Deploy end to end (DESIGN section 6): `certfleet serve` with its HTTPS API (backend_rig: Pebble,
// unbound, NSD), real certfleet-agent processes enrolled with join tokens, certificates issued
// by Pebble and assigned to the agents' files targets, a real nginx. Enrollment and its refusals,
// delivery and renewal within seconds, deployment windows and "deploy now", a reload that fails
// and is rolled back, the server going away and coming back, and one agent's isolation from
// another.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "deploy/agent_policy.hpp"
#include "support/deploy_fleet.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_nginx.hpp"

namespace certfleet::test {
namespace http = boost::beast::http;
using namespace deploy_fleet;

TEST_SUITE("integration")
{
    TEST_CASE("deploy agents: enrollment takes a good token once and refuses the others")
    {
        fleet f{};
        const auto token = f.join_token("alpha");

        agent_host alpha(f.hosts, "alpha");
        const auto good = alpha.enroll(token);
        REQUIRE_MESSAGE(good.exit_code == 0, good.err);
        const auto identity = alpha.state_dir() / "identity.json";
        struct stat st
        {};
        REQUIRE(::stat(identity.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0600);
        CHECK(f.agent_show("alpha")["name"] == "alpha");

        {
            // The same token again is refused: already used.
            agent_host again(f.hosts, "again");
            const auto r = again.enroll(token);
            CHECK(r.exit_code != 0);
            CHECK_MESSAGE(r.err.find("already used") != std::string::npos, r.err);
            CHECK_FALSE(std::filesystem::exists(again.state_dir() / "identity.json"));
        }
        {
            // An expired token is refused.
            const auto short_lived = f.join_token("late", {}, "1s");
            std::this_thread::sleep_for(2s);
            agent_host late(f.hosts, "late");
            const auto r = late.enroll(short_lived);
            CHECK(r.exit_code != 0);
            CHECK_MESSAGE(r.err.find("expired") != std::string::npos, r.err);
            CHECK_FALSE(std::filesystem::exists(late.state_dir() / "identity.json"));
        }
        {
            // A token pinning another TLS certificate is refused and nothing is saved.
            const auto real = f.join_token("pinned");
            auto payload =
                json::parse(core::base64url_decode(std::string_view(real).substr(5)).value());
            auto wrong = payload["tls_sha256"].get<std::string>();
            wrong[0] = wrong[0] == '0' ? '1' : '0';
            payload["tls_sha256"] = wrong;
            const auto tampered = "cfj1." + core::base64url_encode(payload.dump());

            agent_host pinned(f.hosts, "pinned");
            const auto r = pinned.enroll(tampered);
            CHECK(r.exit_code != 0);
            INFO(r.err);
            CHECK_FALSE(std::filesystem::exists(pinned.state_dir() / "identity.json"));
            CHECK_FALSE(std::filesystem::exists(pinned.state_dir() / "state.json"));
            // The refusal happened before the secret was sent: the real token still works.
            const auto after = pinned.enroll(real);
            CHECK_MESSAGE(after.exit_code == 0, after.err);
        }
    }

    TEST_CASE("deploy agents: two agents receive an issued certificate and its renewal in seconds")
    {
        fleet f{"www.customer.test"};
        agent_host one(f.hosts, "one");
        agent_host two(f.hosts, "two");
        enroll(f, one);
        enroll(f, two);
        one.start();
        two.start();
        const auto id = f.issue({"www.customer.test"}).front();
        const auto first = f.newest_sha256(id);
        REQUIRE(first.size() == 64);

        const auto dir_one = target_dir(f, "one");
        const auto dir_two = target_dir(f, "two");
        auto assigned = steady::now();
        f.assign(id, "one", {{"dir", dir_one.string()}});
        f.assign(id, "two", {{"dir", dir_two.string()}});
        const bool delivered = wait_until(
            [&] {
                return pem_file_sha256(dir_one / "cert.pem") == first &&
                       pem_file_sha256(dir_two / "cert.pem") == first;
            },
            delivery_limit
        );
        MESSAGE("first delivery to both agents: " << seconds_since(assigned) << " s");
        REQUIRE_MESSAGE(delivered, (one.log() + two.log()));
        CHECK(std::filesystem::exists(dir_one / "key.pem"));
        CHECK(std::filesystem::exists(dir_two / "fullchain.pem"));
        CHECK_MESSAGE(
            wait_until(
                [&] { return f.deployed_newest("one", id) && f.deployed_newest("two", id); }, 10s
            ),
            (f.agent_show("one").dump() + "\n" + one.log() + two.log())
        );

        const auto renewed = f.rig.certfleet({"cert", "renew", std::to_string(id)});
        REQUIRE_MESSAGE(renewed.exit_code == 0, (renewed.out + renewed.err));
        const auto second = f.newest_sha256(id);
        REQUIRE(second.size() == 64);
        REQUIRE(second != first);
        assigned = steady::now();
        const bool redelivered = wait_until(
            [&] {
                return pem_file_sha256(dir_one / "cert.pem") == second &&
                       pem_file_sha256(dir_two / "cert.pem") == second;
            },
            delivery_limit
        );
        MESSAGE("renewal delivered to both agents: " << seconds_since(assigned) << " s");
        CHECK_MESSAGE(redelivered, (one.log() + two.log()));
        CHECK_MESSAGE(
            wait_until(
                [&] { return f.deployed_newest("one", id) && f.deployed_newest("two", id); }, 10s
            ),
            (f.agent_show("one").dump() + "\n" + one.log() + two.log())
        );
        CHECK(one.stop() == 0);
        CHECK(two.stop() == 0);
    }

    TEST_CASE("deploy agents: a closed window stages without applying, until deploy now or it opens"
    )
    {
        fleet f{"www.customer.test"};
        const auto today = std::chrono::weekday(
            std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())
        );
        const auto closed = day_name(today + std::chrono::days(3)) + " 10:00-11:00 UTC";
        MESSAGE("closed window: \"" << closed << "\"");
        agent_host later(f.hosts, "later");
        enroll(f, later, closed);
        later.start(5);
        const auto id = f.issue({"www.customer.test"}).front();
        const auto sha = f.newest_sha256(id);
        const auto later_dir = target_dir(f, "later");
        f.assign(id, "later", {{"dir", later_dir.string()}});

        // Staged, not applied.
        CHECK_MESSAGE(
            wait_until(
                [&] { return f.assignment_of("later", id)["last_status"] == "staged"; },
                delivery_limit
            ),
            later.log()
        );
        CHECK(only_assignment(later)["staged_version"].is_number_integer());
        std::this_thread::sleep_for(3s);
        CHECK_FALSE(std::filesystem::exists(later_dir / "cert.pem"));
        CHECK(only_assignment(later)["deployed_version"].is_null());

        // "deploy now" applies at once.
        const auto asked = steady::now();
        const auto r = f.rig.certfleet({"deploy", "now", "--agent", "later"});
        REQUIRE_MESSAGE(r.exit_code == 0, (r.out + r.err));
        const bool applied =
            wait_until([&] { return pem_file_sha256(later_dir / "cert.pem") == sha; }, 15s);
        MESSAGE("deploy now applied after " << seconds_since(asked) << " s");
        CHECK_MESSAGE(applied, later.log());
        CHECK(wait_until([&] { return f.deployed_newest("later", id); }, 10s));

        // A window that opens at the start of a minute at least 25 s away. The agent stages the
        // bundle with one poll, and starts its loop of 55 s polls 20 s before the opening: its
        // first poll must end when the window opens, not 35 s later.
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        auto opens = std::chrono::ceil<std::chrono::minutes>(now);
        if (opens - now < 25s) {
            opens += 1min;
        }
        const auto soon = utc_window(opens, opens + 5min);
        MESSAGE("opening window: \"" << soon << "\"");
        agent_host early(f.hosts, "early");
        enroll(f, early, soon);
        const auto early_dir = target_dir(f, "early");
        f.assign(id, "early", {{"dir", early_dir.string()}});
        const auto staged_run =
            run_agent({"run", "--once", "--state-dir", early.state_dir().string()});
        CHECK_MESSAGE(staged_run.exit_code == 0, staged_run.err);
        CHECK(only_assignment(early)["staged_version"].is_number_integer());
        CHECK(
            wait_until([&] { return f.assignment_of("early", id)["last_status"] == "staged"; }, 10s)
        );
        std::this_thread::sleep_until(opens - 20s);
        early.start(55);
        std::this_thread::sleep_until(opens - 2s);
        const bool absent = !std::filesystem::exists(early_dir / "cert.pem");
        const bool still_closed = std::chrono::system_clock::now() < opens;
        REQUIRE(still_closed); // the test took longer than the window's lead
        CHECK_MESSAGE(absent, early.log());
        const bool deployed = wait_until(
            [&] { return pem_file_sha256(early_dir / "cert.pem") == sha; },
            std::chrono::duration_cast<std::chrono::milliseconds>(
                opens - std::chrono::system_clock::now() + 30s
            )
        );
        const auto lag = std::chrono::duration<double>(std::chrono::system_clock::now() - opens);
        MESSAGE("applied " << lag.count() << " s after the window opened");
        CHECK_MESSAGE(deployed, early.log());
        CHECK(lag < 8s); // its 55 s poll ended when the window opened
        const auto a = only_assignment(early);
        CHECK(a["deployed_version"].is_number_integer());
        // Applied inside the window, not before (RFC 3339 UTC texts compare as times do).
        REQUIRE(a["deployed_at"].is_string());
        CHECK(a["deployed_at"].get<std::string>() >= deploy::format_utc(opens));
    }

    TEST_CASE("deploy agents: nginx serves what the agent deploys, a failing reload is rolled back")
    {
        fleet f{"www.customer.test", "api.customer.test"};
        const auto nginx_dir = f.hosts.subdir("nginx");
        const auto tls = f.hosts.subdir("nginx/tls");
        write_placeholder_certificate(tls);
        nginx_server nginx(nginx_dir, tls, "www.customer.test");
        nginx.start();
        agent_host host(f.hosts, "web");
        enroll(f, host);
        host.start();
        const auto ids = f.issue({"www.customer.test", "api.customer.test"});
        const auto www = f.newest_sha256(ids[0]);
        const auto api = f.newest_sha256(ids[1]);

        const json verify{
            {"host", "127.0.0.1"}, {"port", nginx.port()}, {"sni", "www.customer.test"}};
        f.assign(
            ids[0], "web",
            {{"dir", tls.string()},
             {"reload", nginx.command_with({"-s", "reload"})},
             {"verify", verify}}
        );
        CHECK_MESSAGE(
            wait_until([&] { return f.deployed_newest("web", ids[0]); }, 20s), host.log()
        );
        CHECK(f.assignment_of("web", ids[0])["last_status"] == "deployed");
        CHECK(nginx.serves(www));
        const auto probe = run_certfleet(
            {"probe", "127.0.0.1:" + std::to_string(nginx.port()), "--sni", "www.customer.test",
             "--expect-sha256", www, "--json"},
            {.timeout = 20s}
        );
        CHECK_MESSAGE(probe.exit_code == 0, (probe.out + probe.err));

        // The other certificate into the same files, with a reload that fails: put back.
        const auto script =
            f.hosts.write("reload-fails.sh", "#!/bin/sh\necho 'reload refused' >&2\nexit 1\n");
        std::filesystem::permissions(script, std::filesystem::perms::owner_all);
        f.assign(
            ids[1], "web",
            {{"dir", tls.string()}, {"reload", json::array({script.string()})}, {"verify", verify}}
        );
        CHECK_MESSAGE(
            wait_until(
                [&] { return f.assignment_of("web", ids[1])["last_status"] == "failed"; }, 20s
            ),
            host.log()
        );
        const auto failed = f.assignment_of("web", ids[1]);
        INFO(failed.dump());
        REQUIRE(failed["last_result"].is_object());
        CHECK_FALSE(failed["last_result"].value("message", std::string()).empty());
        CHECK(pem_file_sha256(tls / "cert.pem") == www);
        CHECK(pem_file_sha256(tls / "fullchain.pem") == www);
        CHECK(nginx.serving() == www);
        CHECK(nginx.serving() != api);
        CHECK(f.deployed_newest("web", ids[0]));
    }

    TEST_CASE("deploy agents: an agent recovers by itself when the server comes back")
    {
        fleet f{"www.customer.test"};
        agent_host host(f.hosts, "steady");
        enroll(f, host);
        host.start();
        const auto id = f.issue({"www.customer.test"}).front();
        const auto dir = target_dir(f, "steady");
        f.assign(id, "steady", {{"dir", dir.string()}});
        const auto first = f.newest_sha256(id);
        REQUIRE(
            wait_until([&] { return pem_file_sha256(dir / "cert.pem") == first; }, delivery_limit)
        );

        f.rig.stop_serve();
        std::this_thread::sleep_for(5s);
        f.rig.start_serve();
        const auto back = steady::now();
        const auto renewed = f.rig.certfleet({"cert", "renew", std::to_string(id)});
        REQUIRE_MESSAGE(renewed.exit_code == 0, (renewed.out + renewed.err));
        const auto second = f.newest_sha256(id);
        REQUIRE(second != first);
        const bool recovered =
            wait_until([&] { return pem_file_sha256(dir / "cert.pem") == second; }, 60s);
        MESSAGE(
            "the renewal made after the restart arrived " << seconds_since(back) << " s after it"
        );
        CHECK_MESSAGE(recovered, host.log());
        CHECK(host.running());
        // It did lose the server, and found it again without help (logged once the poll that
        // brought the renewal is over).
        CHECK(wait_until(
            [&] {
                return host.log().find("in contact with the server again") != std::string::npos;
            },
            10s
        ));
        const auto log = host.log();
        CHECK_MESSAGE(log.find("next attempt in") != std::string::npos, log);
        CHECK(wait_until([&] { return f.deployed_newest("steady", id); }, 10s));
    }

    TEST_CASE("deploy agents: an agent gets only its own bundles and cannot sign as another")
    {
        fleet f{"www.customer.test", "api.customer.test"};
        agent_host a(f.hosts, "agent-a");
        agent_host b(f.hosts, "agent-b");
        enroll(f, a);
        enroll(f, b);
        const auto ids = f.issue({"www.customer.test", "api.customer.test"});
        const auto sha_a = f.newest_sha256(ids[0]);
        const auto sha_b = f.newest_sha256(ids[1]);
        f.assign(ids[0], "agent-a", {{"dir", target_dir(f, "a").string()}});
        f.assign(ids[1], "agent-b", {{"dir", target_dir(f, "b").string()}});

        const auto shown = f.agent_show("agent-b")["assignments"];
        REQUIRE(shown.size() == 1);
        CHECK(shown.front()["certificate"] == ids[1]);

        // B's own signed poll: 200, its assignment and its bundle only.
        const auto own =
            f.rig.api(http::verb::post, "/api/v1/agent/poll", "", signed_poll(b, "agent-b"));
        REQUIRE_MESSAGE(own.status == 200, (own.body + own.error));
        const auto answer = own.json();
        REQUIRE(answer["assignments"].size() == 1);
        CHECK(answer["assignments"].front()["certificate"] == ids[1]);
        const auto payloads = bundle_payloads(answer);
        REQUIRE(payloads.size() == 1);
        CHECK(payloads.front().find(sha_b) != std::string::npos);
        CHECK(payloads.front().find(sha_a) == std::string::npos);

        // A's key with B's name: refused.
        const auto forged =
            f.rig.api(http::verb::post, "/api/v1/agent/poll", "", signed_poll(a, "agent-b"));
        CHECK_MESSAGE(forged.status == 401, forged.body);
        CHECK(forged.body.find("bundles") == std::string::npos);
        // A tampered signature: refused.
        auto tampered = json::parse(signed_poll(b, "agent-b"));
        auto signature = tampered["signature"].get<std::string>();
        signature[4] = signature[4] == 'A' ? 'B' : 'A';
        tampered["signature"] = signature;
        const auto bad = f.rig.api(http::verb::post, "/api/v1/agent/poll", "", tampered.dump());
        CHECK_MESSAGE(bad.status == 401, bad.body);
        // A replayed one: refused.
        const auto once = signed_poll(b, "agent-b");
        CHECK(f.rig.api(http::verb::post, "/api/v1/agent/poll", "", once).status == 200);
        CHECK(f.rig.api(http::verb::post, "/api/v1/agent/poll", "", once).status == 401);

        // The agents themselves: each holds its own certificate only.
        REQUIRE(run_agent({"run", "--once", "--state-dir", a.state_dir().string()}).exit_code == 0);
        REQUIRE(run_agent({"run", "--once", "--state-dir", b.state_dir().string()}).exit_code == 0);
        CHECK(pem_file_sha256(target_dir(f, "a") / "cert.pem") == sha_a);
        CHECK(pem_file_sha256(target_dir(f, "b") / "cert.pem") == sha_b);
        const auto b_status = b.status()["assignments"];
        REQUIRE(b_status.size() == 1);
        CHECK(b_status.front()["certificate"] == ids[1]);
    }
}

} // namespace certfleet::test
