// The files target against a real nginx on 127.0.0.1: certificates deployed one after another are
// served after the reload; a reload that fails (nginx -t refusing a key that does not match) and a
// verification that fails (a reload that does nothing) both leave the previous certificate in the
// files and in service.

#include "deploy/files_target.hpp"

#include <doctest/doctest.h>

#include <thread>

#include "deploy/posix_process.hpp"
#include "deploy/target_support.hpp"
#include "support/bundle_fixture.hpp"
#include "support/rig.hpp"
#include "support/rig_net.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;

namespace {

// The SHA-256 of the leaf that 127.0.0.1:port serves for `sni`, through the openssl command line
// (empty when no certificate came). The one place that looks at what nginx serves: swap it for
// deploy::run_probe once that exists.
std::string served_sha256(std::uint16_t port, const std::string& sni)
{
    const auto r =
        run({"sh", "-c",
             "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -servername " + sni +
                 " </dev/null 2>/dev/null | openssl x509 -outform DER 2>/dev/null | sha256sum"},
            {.timeout = 10s});
    const auto hex = r.out.substr(0, r.out.find(' '));
    // sha256sum of nothing: no certificate came
    return hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" ? "" : hex;
}

// argv as one line for /bin/sh, every word in single quotes.
std::string shell_line(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& a : argv) {
        out += (out.empty() ? "'" : " '");
        for (const char c : a) {
            out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        out += '\'';
    }
    return out;
}

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

// nginx in the foreground (daemon off), with its own prefix, configuration, logs and PID file.
class nginx_server
{
public:
    nginx_server(const std::filesystem::path& dir, const std::filesystem::path& tls)
        : dir_(dir), port_(free_port()), program_(find_program("nginx").string())
    {
        std::string conf = "daemon off;\nmaster_process on;\nworker_processes 1;\n"
                           "pid " +
                           (dir / "nginx.pid").string() +
                           ";\n"
                           "error_log " +
                           (dir / "error.log").string() +
                           " info;\n"
                           "events { worker_connections 64; }\nhttp {\n  access_log off;\n";
        for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
            conf += "  " + std::string(temp) + "_temp_path " + (dir / temp).string() + ";\n";
        }
        conf += "  server {\n    listen 127.0.0.1:" + std::to_string(port_) + " ssl;\n" +
                "    ssl_certificate " + (tls / "fullchain.pem").string() + ";\n" +
                "    ssl_certificate_key " + (tls / "key.pem").string() + ";\n" +
                "    location / { return 200 \"ok\\n\"; }\n  }\n}\n";
        std::ofstream(dir / "nginx.conf") << conf;
    }

    void start()
    {
        process_.emplace(child_options{
            .argv = command_with({}),
            .log_file = dir_ / "nginx.out",
        });
        if (!wait_for_tcp(port_, 10s, &*process_)) {
            throw rig_error(
                "nginx did not start listening: " + tail_lines(process_->log()) +
                tail_lines(read_text_file(dir_ / "error.log"))
            );
        }
    }

    // The nginx command line for this instance, with `extra` arguments ("-t", "-s reload").
    [[nodiscard]] std::vector<std::string> command_with(std::vector<std::string> extra) const
    {
        std::vector<std::string> argv{
            program_,
            "-p",
            dir_.string(),
            "-c",
            (dir_ / "nginx.conf").string(),
            "-e",
            (dir_ / "error.log").string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    // "nginx -t && nginx -s reload", as a shell line: a reload that refuses a broken set.
    [[nodiscard]] std::string test_and_reload() const
    {
        return shell_line(command_with({"-t"})) + " && " +
               shell_line(command_with({"-s", "reload"}));
    }

    // Waits until nginx serves `sha256` (a reload finishes its old workers first).
    [[nodiscard]] bool
    serves(const std::string& sha256, std::chrono::milliseconds timeout = 10s) const
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (served_sha256(port_, "files.test") != sha256) {
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(100ms);
        }
        return true;
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string error_log() const { return read_text_file(dir_ / "error.log"); }

private:
    std::filesystem::path dir_;
    std::uint16_t port_;
    std::string program_;
    std::optional<child_process> process_; // stopped by its PID when the test ends
};

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE(
        "files target: nginx serves each deployed certificate, and the previous one after a failure"
    )
    {
        temp_dir dir("certfleet-files-nginx");
        const auto tls = dir.subdir("tls");
        nginx_server nginx(dir.path(), tls);
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
