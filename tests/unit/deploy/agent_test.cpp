#include "deploy/agent.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>

#include "unit/deploy/agent_fakes.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using namespace certfleet::deploy::test;
using namespace std::chrono_literals;

namespace {

void enroll(harness& h, agent& a)
{
    std::string problem;
    const auto r = a.enroll(h.server.token(), "web1.example.net", &problem);
    INFO(problem);
    REQUIRE(r.has_value());
}

bool mentions(const std::vector<std::string>& lines, std::string_view text)
{
    for (const auto& l : lines) {
        if (l.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("agent enroll: pins the server, sends its key, saves the identity 0600")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        CHECK(h.server.connected_urls == std::vector<std::string>{h.server.url});
        CHECK(h.server.connected_pins == std::vector<std::string>{h.server.tls_pin});
        CHECK(h.server.enroll_request["hostname"] == "web1.example.net");
        CHECK(h.server.enroll_request["version"] == "test");
        CHECK(h.server.enroll_request["token"] == h.server.token());
        const auto id = load_identity(dir.path).value();
        CHECK(id.agent == "web1");
        CHECK(id.server_url == h.server.url);
        CHECK(id.tls_sha256 == h.server.tls_pin);
        CHECK(id.signing_public_point == h.server.signing.public_point);
        CHECK(
            real_crypto().p256_from_scalar(id.private_scalar.view()).value().public_point ==
            h.server.agent_point
        );
        struct stat st
        {};
        REQUIRE(::stat(identity_file(dir.path).c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(mentions(h.log_lines, "enrolled as agent web1 with " + h.server.url));

        SUBCASE("a second enrollment is refused and keeps the identity")
        {
            std::string problem;
            const auto again = h.make(dir.path).enroll(h.server.token(), "web1", &problem);
            REQUIRE_FALSE(again.has_value());
            CHECK(again.error() == boost::system::errc::file_exists);
            CHECK(problem.find("already enrolled") != std::string::npos);
            CHECK(
                load_identity(dir.path).value().private_scalar.view() == id.private_scalar.view()
            );
        }
    }

    TEST_CASE("agent enroll: a signing key other than the pinned one saves nothing")
    {
        temp_dir dir;
        harness h;
        h.server.enroll_signing_point = real_crypto().generate_p256().value().public_point;
        std::string problem;
        const auto r = h.make(dir.path).enroll(h.server.token(), "web1", &problem);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::pin_mismatch);
        CHECK(
            problem.find("does not match the fingerprint in the join token") != std::string::npos
        );
        CHECK_FALSE(std::filesystem::exists(identity_file(dir.path)));
    }

    TEST_CASE("agent enroll: a TLS certificate other than the pinned one saves nothing")
    {
        temp_dir dir;
        harness h;
        h.server.enroll_failure = make_error_code(errc::pin_mismatch);
        std::string problem;
        const auto r = h.make(dir.path).enroll(h.server.token(), "web1", &problem);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::pin_mismatch);
        CHECK(
            problem.find("TLS certificate other than the one the join token pins") !=
            std::string::npos
        );
        CHECK_FALSE(std::filesystem::exists(identity_file(dir.path)));
    }

    TEST_CASE("agent enroll: the server's refusal is shown in its words")
    {
        temp_dir dir;
        harness h;
        std::string message;
        SUBCASE("used")
        {
            message = "the join token was already used: ask for a new one with certfleet agent "
                      "token create";
        }
        SUBCASE("expired")
        {
            message = "the join token expired: ask for a new one with certfleet agent token create";
        }
        h.server.enroll_status = 403;
        h.server.enroll_error_body =
            nlohmann::json{{"error", {{"code", "enrollment_refused"}, {"message", message}}}}.dump(
            );
        std::string problem;
        const auto r = h.make(dir.path).enroll(h.server.token(), "web1", &problem);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::enrollment_refused);
        CHECK(problem == "the server refused the enrollment: " + message);
        CHECK_FALSE(std::filesystem::exists(identity_file(dir.path)));
    }

    TEST_CASE("agent enroll: a damaged token is refused before any request")
    {
        temp_dir dir;
        harness h;
        std::string problem;
        const auto r = h.make(dir.path).enroll("cfj1.not-a-token", "web1", &problem);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::protocol_error);
        CHECK(problem.find("the join token is not valid") != std::string::npos);
        CHECK(h.server.requests == 0);
    }

    TEST_CASE("agent: without an identity, run_once says to enroll")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        const auto outcome = a.run_once();
        CHECK(outcome.error == errc::not_enrolled);
        CHECK(outcome.problem.find("certfleet-agent enroll") != std::string::npos);
        std::atomic<bool> stop{false};
        CHECK(a.run(stop) == errc::not_enrolled); // no retrying a configuration error
    }

    TEST_CASE("agent: requests the server does not accept say what to check")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.clock = [&h] { return h.now + 10min; }; // this host's clock is 10 min behind
        const auto outcome = a.run_once();
        CHECK(outcome.error == errc::unauthorized);
        CHECK(outcome.problem.find("bad signature") != std::string::npos); // the server's words
        CHECK(outcome.problem.find("clock") != std::string::npos);
        CHECK(h.applies.empty());
    }
}
