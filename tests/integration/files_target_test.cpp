// The files target against a real nginx on 127.0.0.1: certificates deployed one after another are
// served after the reload; a reload that fails (nginx -t refusing a key that does not match) and a
// verification that fails (a reload that does nothing) both leave the previous certificate in the
// files and in service.

#include "deploy/files_target.hpp"

#include <doctest/doctest.h>

#include "deploy/posix_process.hpp"
#include "deploy/target_support.hpp"
#include "support/bundle_fixture.hpp"
#include "support/rig.hpp"
#include "support/rig_nginx.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;

namespace {

// A probe (deploy::probe_request in, probe_result out) on served_sha256.
deploy::probe_result openssl_probe(const deploy::probe_request& request)
{
    const auto served = served_sha256(request.port, request.sni);
    deploy::probe_result result;
    result.ok = !served.empty() && served == request.expect_sha256.value_or(served);
    result.summary = request.host + ":" + std::to_string(request.port) + " serves " +
                     (served.empty() ? "no certificate" : "sha256 " + served) +
                     (result.ok ? "" : ", expected " + request.expect_sha256.value_or("any"));
    return result;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE(
        "files target: nginx serves each deployed certificate, and the previous one after a failure"
    )
    {
        temp_dir dir("certfleet-files-nginx");
        const auto tls = dir.subdir("tls");
        nginx_server nginx(dir.path(), tls, "files.test");
        const deploy::posix_process_runner runner;
        const deploy::target_context context{
            .processes = runner, .probe = openssl_probe, .work_dir = dir.subdir("work")};
        const nlohmann::json files{
            {"fullchain", (tls / "fullchain.pem").string()},
            {"key", (tls / "key.pem").string()},
            {"cert", (tls / "cert.pem").string()},
            {"key_mode", "0600"},
        };

        // A: installed before nginx starts (nothing to reload yet).
        auto a = deploy::testing::make_bundle("files.test", "files", files);
        auto result = deploy::apply_files_target(a, context);
        REQUIRE_MESSAGE(result.ok, result.message);
        nginx.start();
        CHECK(nginx.serves(a.sha256_hex));

        // B: written, reloaded, verified by the probe.
        auto with_reload = files;
        with_reload["reload"] = nginx.test_and_reload();
        with_reload["verify"] = {
            {"host", "127.0.0.1"},
            {"port", nginx.port()},
            {"sni", "files.test"},
            {"wait_seconds", 10}};
        auto b = deploy::testing::make_bundle("files.test", "files", with_reload);
        result = deploy::apply_files_target(b, context);
        CHECK_MESSAGE(result.ok, result.message);
        CHECK(result.details["probe"]["ok"] == true);
        CHECK(nginx.serves(b.sha256_hex));

        // C: its key does not match its certificate, so nginx -t refuses it and the reload fails.
        auto c = deploy::testing::make_bundle("files.test", "files", with_reload);
        auto other = deploy::testing::make_bundle("files.test", "files", with_reload);
        c.key_pem = std::move(other.key_pem);
        result = deploy::apply_files_target(c, context);
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "reload");
        CHECK(result.rolled_back);
        CHECK_MESSAGE(
            result.message.find("key values mismatch") != std::string::npos, result.message
        );
        CHECK_MESSAGE(
            result.message.find("put back and reloaded") != std::string::npos, result.message
        );
        CHECK(
            deploy::testing::read_file(tls / "fullchain.pem") ==
            deploy::split_chain_pem(b.chain_pem).fullchain
        );
        CHECK(deploy::testing::read_file(tls / "key.pem") == b.key_pem.view());
        CHECK(nginx.serves(b.sha256_hex));

        // D: a reload that does nothing: the probe still sees B, so D is taken back.
        auto quiet = with_reload;
        quiet["reload"] = {"true"};
        quiet["verify"]["wait_seconds"] = 1;
        auto d = deploy::testing::make_bundle("files.test", "files", quiet);
        result = deploy::apply_files_target(d, context);
        CHECK_FALSE(result.ok);
        CHECK(result.stage == "verify");
        CHECK(result.rolled_back);
        CHECK_MESSAGE(
            result.message.find("serves sha256 " + b.sha256_hex) != std::string::npos,
            result.message
        );
        CHECK(deploy::testing::read_file(tls / "key.pem") == b.key_pem.view());
        CHECK(nginx.serves(b.sha256_hex));
        CHECK(nginx.serves(b.sha256_hex, 0ms)); // and still, after the reload the rollback ran

        // E: a reload that fails outright (the program is a broken script): B stays.
        auto broken = files;
        broken["reload"] = "echo 'nginx: [emerg] simulated' >&2; exit 1";
        auto e = deploy::testing::make_bundle("files.test", "files", broken);
        result = deploy::apply_files_target(e, context);
        CHECK_FALSE(result.ok);
        CHECK(result.rolled_back);
        CHECK(result.message.find("simulated") != std::string::npos);
        CHECK(deploy::testing::read_file(tls / "key.pem") == b.key_pem.view());
        CHECK(nginx.serves(b.sha256_hex));
        INFO(tail_lines(nginx.error_log()));
    }
}
