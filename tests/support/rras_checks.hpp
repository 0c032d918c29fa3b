#pragma once
// What the rras target's tests check of a deployment through an agent, Linux or Windows under
// Wine, whose powershell.exe is the stand-in (tests/support/powershell_standin.cpp): the script
// holds the hashes openssl computes for the deployed certificate, the PFX password reached
// standard input only; and a failing script leaves the version deployed before.

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cctype>
#include <functional>

#include "support/deploy_fleet.hpp"

namespace certfleet::test::rras_checks {
using namespace deploy_fleet;

// The stand-in's environment, inherited by the agent started after it is set. `dir_text` is the
// record directory as the agent's platform spells it.
struct standin_env
{
    explicit standin_env(const std::string& dir_text)
    {
        ::setenv("CERTFLEET_STANDIN_DIR", dir_text.c_str(), 1);
        answer("ok");
    }
    ~standin_env()
    {
        ::unsetenv("CERTFLEET_STANDIN_DIR");
        ::unsetenv("CERTFLEET_STANDIN_ANSWER");
    }
    standin_env(const standin_env&) = delete;
    standin_env& operator=(const standin_env&) = delete;
    static void answer(const char* what) { ::setenv("CERTFLEET_STANDIN_ANSWER", what, 1); }
};

// Lower-case hex of `openssl x509 -noout -fingerprint -<digest> -in file`.
inline std::string openssl_fingerprint(const std::filesystem::path& pem, const std::string& digest)
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

inline bool contains(const std::filesystem::path& file, const std::string& needle)
{
    return std::filesystem::exists(file) && read_text_file(file).find(needle) != std::string::npos;
}

// The deployed version of certificate `id` was rendered with openssl's hashes of it, and its PFX
// password went to the stand-in's standard input only (not its arguments, the script, or any
// file under the agent's state directory).
inline void check_recorded_deployment(
    fleet& f,
    std::int64_t id,
    const std::filesystem::path& record,
    const std::filesystem::path& agent_state_dir
)
{
    const auto exported = f.hosts.subdir("exported-" + std::to_string(id));
    const auto e =
        f.rig.certfleet({"cert", "export", std::to_string(id), "--out", exported.string()});
    REQUIRE_MESSAGE(e.exit_code == 0, e.err);
    const auto script = read_text_file(record / "script.ps1");
    CHECK(
        script.find("$NewSha1Hex = '" + openssl_fingerprint(exported / "cert.pem", "sha1")) !=
        std::string::npos
    );
    CHECK(
        script.find("$NewSha256Hex = '" + openssl_fingerprint(exported / "cert.pem", "sha256")) !=
        std::string::npos
    );
    const auto password = read_text_file(record / "stdin.txt");
    REQUIRE(password.size() > 8);
    const auto line = password.substr(0, password.size() - (password.ends_with("\r\n") ? 2 : 1));
    CHECK(password.back() == '\n');
    CHECK_FALSE(contains(record / "args.txt", line));
    CHECK_FALSE(contains(record / "script.ps1", line));
    for (const auto& file : std::filesystem::recursive_directory_iterator(agent_state_dir)) {
        CAPTURE(file.path());
        CHECK_FALSE((file.is_regular_file() && contains(file.path(), line)));
    }
}

// A renewal whose script fails (the stand-in answers "fail" from the agent's next start, which
// `restart_agent` makes): reported as failed at verify and rolled back, while the version
// deployed before stays deployed.
inline void check_failed_script_keeps_version(
    fleet& f,
    const std::string& agent,
    std::int64_t id,
    const std::function<void()>& restart_agent,
    const std::function<std::string()>& agent_log
)
{
    const auto deployed = f.assignment_of(agent, id)["deployed_version"];
    standin_env::answer("fail");
    restart_agent();
    const auto renewed = f.rig.certfleet({"cert", "renew", std::to_string(id)});
    REQUIRE_MESSAGE(renewed.exit_code == 0, (renewed.out + renewed.err));
    CHECK_MESSAGE(
        wait_until([&] { return f.assignment_of(agent, id)["last_status"] == "failed"; }, 60s),
        agent_log()
    );
    const auto failed = f.assignment_of(agent, id);
    INFO(failed.dump());
    CHECK(failed["deployed_version"] == deployed);
    CHECK(failed["newest_version"] != deployed);
    CHECK(failed["last_result"].value("stage", std::string()) == "verify");
    CHECK(failed["last_result"].value("rolled_back", false));
}

} // namespace certfleet::test::rras_checks
