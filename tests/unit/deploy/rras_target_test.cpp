// The rras target through the agent's apply path, with a stand-in for powershell.exe
// (tests/support/powershell_standin.cpp) that records its arguments, the script and its standard
// input, and answers as told: success, failure, garbage, a non-zero exit, or nothing in time.
#include "deploy/rras_target.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include "deploy/posix_process.hpp"
#include "support/bundle_fixture.hpp"
#include "unit/deploy/agent_fakes.hpp"

namespace certfleet::deploy {
namespace {

using strings = std::vector<std::string>;
using namespace std::chrono_literals;

const std::string standin = CERTFLEET_POWERSHELL_STANDIN;

nlohmann::json rras_options_for_test()
{
    return {
        {"endpoint", "vpn.example.com"},
        {"friendly_name", "vpn 2026"},
        {"powershell", standin},
        {"timeout_seconds", 30}};
}

// Lower-case hex of what `openssl x509 -noout -fingerprint -<digest>` prints for `pem`.
std::string openssl_fingerprint(const std::string& pem, const std::string& digest)
{
    const testing::scratch_dir dir;
    testing::write_file(dir.path / "leaf.pem", pem, 0644);
    const posix_process_runner runner;
    auto out = runner.run(
        {.argv =
             {"openssl", "x509", "-noout", "-fingerprint", "-" + digest, "-in",
              (dir.path / "leaf.pem").string()}}
    );
    REQUIRE(out.has_value());
    REQUIRE_MESSAGE(out->exit_code == 0, out->output);
    const auto eq = out->output.find('=');
    REQUIRE(eq != std::string::npos);
    std::string hex;
    for (const char c : out->output.substr(eq + 1)) {
        if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
            hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return hex;
}

// `[byte[]](0xab, 0xcd, ...)` for lower-case hex.
std::string byte_literal(const std::string& hex)
{
    std::string out = "[byte[]](";
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        out += (i == 0 ? "0x" : ", 0x") + hex.substr(i, 2);
    }
    return out + ")";
}

strings lines_of(const std::string& text)
{
    strings out;
    std::size_t from = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', from)) {
        out.push_back(text.substr(from, nl - from));
        from = nl + 1;
    }
    return out;
}

// Every file under `dir` whose bytes contain `needle`.
strings files_containing(const std::filesystem::path& dir, const std::string& needle)
{
    strings out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.is_regular_file() && testing::read_file(e.path()).find(needle) != std::string::npos) {
            out.push_back(e.path().string());
        }
    }
    return out;
}

// The stand-in's environment, set for one test and taken back after it.
struct standin_env
{
    testing::scratch_dir record;
    explicit standin_env(const char* answer)
    {
        ::setenv("CERTFLEET_STANDIN_DIR", record.path.c_str(), 1);
        ::setenv("CERTFLEET_STANDIN_ANSWER", answer, 1);
    }
    void answer(const char* a) const { ::setenv("CERTFLEET_STANDIN_ANSWER", a, 1); }
    ~standin_env()
    {
        ::unsetenv("CERTFLEET_STANDIN_DIR");
        ::unsetenv("CERTFLEET_STANDIN_ANSWER");
    }
    standin_env(const standin_env&) = delete;
    standin_env& operator=(const standin_env&) = delete;
};

// An enrolled agent with real targets, the stand-in as powershell.exe, bundles for "rras".
struct rras_agent
{
    test::temp_dir dir;
    test::harness h;
    posix_process_runner runner;
    agent a;
    rras_agent() : a(prepared().make(dir.path))
    {
        std::string problem;
        REQUIRE(a.enroll(h.server.token(), "rras1.example.net", &problem).has_value());
    }
    test::harness& prepared()
    {
        h.real_processes = &runner;
        h.server.target = "rras";
        h.server.target_options = rras_options_for_test();
        h.server.pfx_password = "Zq8-unique-pfx-password-7Lw";
        h.server.assignments = {{3, 7, "rras", std::nullopt}};
        return h;
    }
    void poll()
    {
        const auto outcome = a.run_once();
        INFO(outcome.problem);
        REQUIRE_FALSE(outcome.error);
    }
    [[nodiscard]] const report& last_report() const
    {
        REQUIRE_FALSE(h.server.reports.empty());
        return h.server.reports.back();
    }
    // What the agent tells the server it has deployed, after one more poll.
    std::optional<std::int64_t> deployed()
    {
        poll();
        const auto& known = h.server.polls.back().assignments;
        REQUIRE(known.size() == 1);
        return known[0].deployed;
    }
};

const test::leaf& cert(int n)
{
    static const test::leaf one = test::make_leaf(std::chrono::hours{24 * 90});
    static const test::leaf two = test::make_leaf(std::chrono::hours{24 * 90});
    return n == 1 ? one : two;
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("rras target: options are checked as the server and the agent read them")
    {
        std::string problem;
        auto o = parse_rras_options({{"endpoint", "vpn.example.com"}}, problem);
        REQUIRE_MESSAGE(o.has_value(), problem);
        CHECK(o->endpoint == "vpn.example.com");
        CHECK(o->service_timeout == std::chrono::seconds{300});
        CHECK(o->listen_timeout == std::chrono::seconds{60});
        CHECK(o->remove_old_certificate);
        CHECK(o->powershell.empty());
        // 12 service waits (a restart and a rollback restart) + the listen wait + 120 s.
        CHECK(script_timeout(*o) == std::chrono::seconds{12 * 300 + 60 + 120});

        o = parse_rras_options(
            {{"endpoint", "VPN-1.Example.com"},
             {"friendly_name", "it's \"ours\""},
             {"service_timeout_seconds", 90},
             {"listen_timeout_seconds", 30},
             {"timeout_seconds", 4000},
             {"remove_old_certificate", false},
             {"powershell", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"},
             {"pfx_protection", "legacy"}},
            problem
        );
        REQUIRE_MESSAGE(o.has_value(), problem);
        CHECK(o->friendly_name == "it's \"ours\"");
        CHECK(o->service_timeout == std::chrono::seconds{90});
        CHECK_FALSE(o->remove_old_certificate);
        CHECK(script_timeout(*o) == std::chrono::seconds{4000});

        const std::pair<nlohmann::json, const char*> bad[] = {
            {nlohmann::json::object(), "\"endpoint\""},
            {{{"endpoint", "vpn example.com"}}, "\"endpoint\""},
            {{{"endpoint", "vpn.example.com\r\nX-Evil: 1"}}, "\"endpoint\""},
            {{{"endpoint", "vpn.example.com:443"}}, "\"endpoint\""},
            {{{"endpoint", ".example.com"}}, "\"endpoint\""},
            {{{"endpoint", 5}}, "\"endpoint\""},
            {{{"endpoint", "vpn.example.com"}, {"reload", "x"}}, "unknown option \"reload\""},
            {{{"endpoint", "vpn.example.com"}, {"service_timeout_seconds", 3601}},
             "service_timeout_seconds"},
            {{{"endpoint", "vpn.example.com"}, {"listen_timeout_seconds", 0}},
             "listen_timeout_seconds"},
            {{{"endpoint", "vpn.example.com"}, {"timeout_seconds", "60"}}, "timeout_seconds"},
            {{{"endpoint", "vpn.example.com"}, {"remove_old_certificate", "yes"}},
             "remove_old_certificate"},
            {{{"endpoint", "vpn.example.com"}, {"powershell", "powershell.exe"}}, "absolute"},
            {{{"endpoint", "vpn.example.com"}, {"friendly_name", std::string(257, 'x')}},
             "friendly_name"},
        };
        for (const auto& [options, expected] : bad) {
            CAPTURE(options.dump());
            CHECK_FALSE(parse_rras_options(options, problem).has_value());
            CHECK_MESSAGE(problem.find(expected) != std::string::npos, problem);
            CHECK(check_target_options("rras", options) == problem);
        }
    }

    TEST_CASE("rras target: a deployment through the agent hands the script openssl's hashes")
    {
        const standin_env env("ok");
        rras_agent r;
        r.h.server.offer(3, 1, cert(1));
        r.poll();
        REQUIRE_MESSAGE(r.last_report().status == "deployed", r.last_report().result.dump());
        CHECK(r.last_report().result["stage"] == "done");
        CHECK(r.last_report().result["details"]["powershell"] == standin);
        CHECK(r.deployed() == 1);

        const auto sha1 = openssl_fingerprint(cert(1).chain_pem, "sha1");
        const auto sha256 = openssl_fingerprint(cert(1).chain_pem, "sha256");
        REQUIRE(sha1.size() == 40);
        REQUIRE(sha256.size() == 64);
        const auto script = testing::read_file(env.record.path / "script.ps1");
        CHECK(script.find("\n$NewSha1Hex = '" + sha1 + "'\n") != std::string::npos);
        CHECK(script.find("\n$NewSha256Hex = '" + sha256 + "'\n") != std::string::npos);
        CHECK(script.find("\n$NewSha1 = " + byte_literal(sha1) + "\n") != std::string::npos);
        CHECK(script.find("\n$NewSha256 = " + byte_literal(sha256) + "\n") != std::string::npos);

        // 64-bit powershell.exe's flags, the script as a file in the assignment's work
        // directory; standard input carries the password and nothing else.
        const auto work = r.dir.path / "work" / "3";
        CHECK(
            lines_of(testing::read_file(env.record.path / "args.txt")) ==
            strings{
                "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File",
                (std::filesystem::absolute(work) / "rras-deploy.ps1").string()}
        );
        const std::string password = r.h.server.pfx_password;
        CHECK(testing::read_file(env.record.path / "stdin.txt") == password + "\n");
        CHECK(testing::read_file(env.record.path / "args.txt").find(password) == std::string::npos);
        CHECK(script.find(password) == std::string::npos);
        CHECK(files_containing(r.dir.path, password) == strings{});
        // Neither the PFX nor the script stays behind.
        CHECK_FALSE(std::filesystem::exists(work / "cert.pfx"));
        CHECK_FALSE(std::filesystem::exists(work / "rras-deploy.ps1"));
    }

    TEST_CASE("rras target: a failure, garbage, a bad exit or a timeout keep the deployed version")
    {
        const standin_env env("ok");
        rras_agent r;
        r.h.server.offer(3, 1, cert(1));
        r.poll();
        REQUIRE(r.last_report().status == "deployed");

        struct row
        {
            const char* answer;
            const char* stage;
            const char* in_message;
            bool rolled_back;
        };
        const row rows[] = {
            {"fail", "verify", "does not carry the new certificate", true},
            {"garbled", "output", "without a result line: WARNING: the stand-in", false},
            {"ok-exit-3", "output", "exited with 3", false},
            {"hang", "run", "1 s limit", false},
        };
        r.h.server.target_options["timeout_seconds"] = 1;
        r.h.server.offer(3, 2, cert(2));
        for (const auto& [answer, stage, in_message, rolled_back] : rows) {
            CAPTURE(answer);
            env.answer(answer);
            r.h.now += 2h; // past the retry delay of the failure before
            const auto reports = r.h.server.reports.size();
            r.poll();
            REQUIRE(r.h.server.reports.size() > reports);
            const auto& result = r.last_report().result;
            CHECK(r.last_report().status == "failed");
            CHECK(r.last_report().version == 2);
            CHECK(result["stage"] == stage);
            CHECK(result["rolled_back"] == rolled_back);
            CHECK_MESSAGE(
                result["message"].get<std::string>().find(in_message) != std::string::npos,
                result["message"]
            );
            CHECK(r.deployed() == 1);
        }
        // The timeout's message says what to check on the server.
        CHECK(
            r.last_report().result["message"].get<std::string>().find("netsh http show sslcert") !=
            std::string::npos
        );
        // And once the script succeeds, version 2 is the deployed one.
        env.answer("ok");
        r.h.now += 2h;
        r.poll();
        CHECK(r.last_report().status == "deployed");
        CHECK(r.last_report().version == 2);
        CHECK(r.deployed() == 2);
    }

    TEST_CASE("rras target: hashes that are not the certificate's never reach a script")
    {
        const standin_env env("ok");
        const testing::scratch_dir work;
        const posix_process_runner runner;
        auto b = testing::make_bundle("vpn.example.com", "rras", rras_options_for_test());
        const target_context context{
            .processes = runner,
            .probe = nullptr,
            .work_dir = work.path,
            .crypto = &test::real_crypto()};
        b.sha1_hex[0] = b.sha1_hex[0] == '0' ? '1' : '0';
        auto result = apply_rras_target(b, context);
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "options");
        CHECK(result.message.find("not those of its certificate") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(env.record.path / "args.txt"));

        // A password that the console would not pass on unchanged is refused too.
        b = testing::make_bundle("vpn.example.com", "rras", rras_options_for_test(), "caf\xc3\xa9");
        result = apply_rras_target(b, context);
        CHECK(result.stage == "options");
        CHECK(result.message.find("printable ASCII") != std::string::npos);

        // A good bundle runs: the stand-in answers for the same hashes.
        b = testing::make_bundle("vpn.example.com", "rras", rras_options_for_test());
        result = apply_rras_target(b, context);
        CHECK_MESSAGE(result.ok, result.message);
        CHECK(result.details["thumbprint"] == b.sha1_hex);
        CHECK(result.details["exit_code"] == 0);
    }
}

} // namespace certfleet::deploy
