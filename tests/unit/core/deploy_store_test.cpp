#include "core/deploy_store.hpp"

#include <doctest/doctest.h>

#include "core/errc.hpp"
#include "core/sqlite_store.hpp"
#include "support/store_fixture.hpp"

namespace certfleet::core {
namespace {

using namespace std::chrono_literals;
const time_point t0 = time_point{std::chrono::seconds{1'800'000'000}};
const std::string point(65, '\x04');

agent_join_token join_token(std::string name, std::string secret_hash, time_point expires)
{
    agent_join_token t;
    t.agent_name = std::move(name);
    t.secret_sha256 = std::move(secret_hash);
    t.windows = "Sun 02:00-04:00 UTC";
    t.created_at = t0;
    t.expires_at = expires;
    return t;
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE(
        "deploy store: a join token enrolls once, and unknown, used or expired ones are refused"
    )
    {
        test::temp_database db;
        auto store = open_sqlite_store(db.file());
        auto& d = store->deployments();
        REQUIRE(d.add_join_token(join_token("web1", "aa", t0 + 1h)).has_value());
        REQUIRE(d.add_join_token(join_token("web2", "bb", t0 + 1h)).has_value());

        CHECK(d.enroll_agent("zz", point, "1", "127.0.0.1", t0).value().refused == "unknown");
        CHECK(d.enroll_agent("bb", point, "1", "127.0.0.1", t0 + 1h).value().refused == "expired");

        const auto first = d.enroll_agent("aa", point, "0.1.0", "192.0.2.7", t0 + 1min).value();
        CHECK(first.refused.empty());
        CHECK(first.agent.name == "web1");
        CHECK(first.agent.public_point == point);
        CHECK(first.agent.windows == "Sun 02:00-04:00 UTC");
        CHECK(first.agent.enabled);
        CHECK(d.enroll_agent("aa", point, "1", "127.0.0.1", t0 + 2min).value().refused == "used");

        // A second token for an enrolled name does not make a second agent.
        REQUIRE(d.add_join_token(join_token("web1", "cc", t0 + 1h)).has_value());
        CHECK(d.enroll_agent("cc", point, "1", "127.0.0.1", t0).value().refused == "name taken");
        CHECK(d.list_agents().value().size() == 1);
    }

    TEST_CASE("deploy store: the generation moves with versions, assignments and agent changes only"
    )
    {
        test::temp_database db;
        auto store = open_sqlite_store(db.file());
        auto& d = store->deployments();
        REQUIRE(d.add_join_token(join_token("web1", "aa", t0 + 1h)).has_value());
        const auto agent = d.enroll_agent("aa", point, "1", "127.0.0.1", t0).value().agent;
        const auto cert = test::store_certificate(*store, {.names = {"www.example.com"}}, t0);

        auto g = d.generation().value();
        assignment_record a;
        a.agent_id = agent.id;
        a.certificate_id = cert;
        a.target = "files";
        a.options_json = R"({"dir":"/etc/tls"})";
        a.created_at = t0;
        const auto id = d.add_assignment(a).value();
        CHECK(d.generation().value() > g);
        CHECK(d.add_assignment(a).error() == errc::already_exists);

        g = d.generation().value();
        REQUIRE(d.record_contact(agent.id, "127.0.0.1", "1", t0 + 1s).has_value());
        CHECK(d.generation().value() == g); // contact alone wakes nobody

        test::store_certificate(
            *store, {.names = {"other.example.com"}, .not_after = {t0 + 90 * 24h}}, t0
        );
        CHECK(d.generation().value() > g); // a new version wakes the polls

        g = d.generation().value();
        CHECK(d.request_deploy_now("web1").value() == 1);
        CHECK(d.generation().value() > g);
        g = d.generation().value();
        REQUIRE(d.set_agent_enabled("web1", false).has_value());
        CHECK(d.generation().value() > g);
        CHECK(d.set_agent_enabled("nobody", false).error() == errc::not_found);

        g = d.generation().value();
        REQUIRE(d.remove_assignment(id).has_value());
        CHECK(d.generation().value() > g);
    }

    TEST_CASE("deploy store: reports move versions forward only and belong to their agent")
    {
        test::temp_database db;
        auto store = open_sqlite_store(db.file());
        auto& d = store->deployments();
        REQUIRE(d.add_join_token(join_token("web1", "aa", t0 + 1h)).has_value());
        REQUIRE(d.add_join_token(join_token("web2", "bb", t0 + 1h)).has_value());
        const auto one = d.enroll_agent("aa", point, "1", "", t0).value().agent;
        const auto two = d.enroll_agent("bb", point, "1", "", t0).value().agent;
        const auto cert = test::store_certificate(*store, {.names = {"www.example.com"}}, t0);
        assignment_record a;
        a.agent_id = one.id;
        a.certificate_id = cert;
        a.target = "files";
        a.created_at = t0;
        const auto id = d.add_assignment(a).value();

        const auto report = [&](std::int64_t version, std::string status) {
            agent_report r;
            r.assignment_id = id;
            r.version = version;
            r.status = std::move(status);
            r.result_json = "{}";
            r.at = t0;
            return r;
        };
        REQUIRE(d.record_report(one.id, report(5, "deployed")).has_value());
        REQUIRE(d.record_report(one.id, report(3, "deployed")).has_value()); // late and older
        REQUIRE(d.record_report(one.id, report(6, "failed")).has_value());
        const auto views = d.assignments_of_agent(one.id).value();
        REQUIRE(views.size() == 1);
        CHECK(views[0].assignment.deployed_version.value() == 5);
        CHECK(views[0].assignment.last_status == "failed");
        // Another agent cannot report on it, nor see it.
        CHECK(d.record_report(two.id, report(7, "deployed")).error() == errc::not_found);
        CHECK(d.assignments_of_agent(two.id).value().empty());
        // Deleting the agent takes its assignments.
        REQUIRE(d.remove_agent("web1").has_value());
        CHECK(d.assignments_of_certificate(cert).value().empty());
    }
}

} // namespace certfleet::core
