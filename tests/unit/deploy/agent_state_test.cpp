#include "deploy/agent_state.hpp"

#include <doctest/doctest.h>

#include <fstream>

#include "deploy/errc.hpp"
#include "unit/deploy/agent_fakes.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using namespace certfleet::deploy::test;
using namespace std::chrono_literals;

TEST_SUITE("deploy")
{
    TEST_CASE("agent state: what is saved reads back, and no state file is an empty state")
    {
        temp_dir dir;
        std::filesystem::create_directories(dir.path);
        CHECK(load_state(dir.path).value().assignments.empty());
        const time_point t{std::chrono::seconds{1'800'000'000}};
        agent_state s;
        s.openings = {{t, t + 2h}};
        s.deploy_now = 4;
        s.last_contact = t - 1min;
        assignment_state a;
        a.id = 3;
        a.certificate = 7;
        a.target = "files";
        a.staged_version = 12;
        a.staged_bundle = R"({"protected":"x"})";
        a.deployed_version = 11;
        a.deployed_not_after = t + 24h;
        a.deploy_now_acted = 4;
        a.failed_version = 12;
        a.failed_at = t - 1h;
        a.last_status = "failed";
        a.last_message = "reload failed";
        s.assignments.push_back(a);
        report r;
        r.assignment = 3;
        r.version = 12;
        r.status = "failed";
        r.result = {{"stage", "reload"}};
        s.outbox.push_back(r);
        REQUIRE_FALSE(save_state(dir.path, s));
        const auto back = load_state(dir.path).value();
        CHECK(back.openings == s.openings);
        CHECK(back.deploy_now == 4);
        CHECK(back.last_contact == s.last_contact);
        REQUIRE(back.assignments.size() == 1);
        const auto& b = back.assignments[0];
        CHECK(b.staged_bundle == a.staged_bundle);
        CHECK(b.staged_version == 12);
        CHECK(b.deployed_version == 11);
        CHECK(b.deployed_not_after == a.deployed_not_after);
        CHECK_FALSE(b.deployed_at.has_value());
        CHECK(b.failed_at == a.failed_at);
        CHECK(b.last_message == "reload failed");
        REQUIRE(back.outbox.size() == 1);
        CHECK(back.outbox[0].result["stage"] == "reload");
    }

    TEST_CASE("agent state: damaged files are refused with the file's name")
    {
        temp_dir dir;
        std::filesystem::create_directories(dir.path);
        std::string problem;
        CHECK(load_identity(dir.path, &problem).error() == errc::not_enrolled);
        CHECK(problem.find("certfleet-agent enroll") != std::string::npos);
        for (const char* text :
             {"", "{}", "[1]", R"({"format":2,"openings":[],"assignments":[],"outbox":[]})",
              R"({"format":1,"openings":[[1]],"assignments":[],"outbox":[]})",
              R"({"format":1,"openings":[],"assignments":[{"id":"x"}],"outbox":[]})"}) {
            CAPTURE(text);
            std::ofstream(state_file(dir.path)) << text;
            problem.clear();
            CHECK(load_state(dir.path, &problem).error() == errc::state_corrupt);
            CHECK(problem.find(state_file(dir.path).string()) == 0);
        }
    }
}
