// `certfleet probe` against a stand-in SSTP listener (tests/support/sstp_listener.py, Python's
// ssl) on 127.0.0.1 and ::1: the served leaf and its SHA-256, SSTP_DUPLEX_POST answered 200 or
// 404, a wrong expectation, and nothing listening.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "support/rig.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_net.hpp"

namespace certfleet::test {
namespace {

using namespace std::chrono_literals;

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

// A self-signed P-256 certificate for vpn.example.test and the loopback addresses, made with the
// openssl command line; its SHA-256 read back through core.
struct test_certificate
{
    explicit test_certificate(const temp_dir& dir)
        : cert(dir.path() / "cert.pem"), key(dir.path() / "key.pem")
    {
        const auto r = run(
            {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "30", "-subj",
             "/CN=vpn.example.test", "-addext",
             "subjectAltName=DNS:vpn.example.test,IP:127.0.0.1,IP:::1"}
        );
        if (r.exit_code != 0) {
            throw rig_error("openssl req failed: " + r.err);
        }
        const auto chain = core::parse_pem_chain(read_text_file(cert));
        if (!chain) {
            throw rig_error("openssl made a certificate core cannot read");
        }
        sha256 = core::to_hex(chain->front().sha256_fingerprint);
    }

    std::filesystem::path cert;
    std::filesystem::path key;
    std::string sha256;
};

// The listener on host:port (a free port), started and stopped by its PID.
class sstp_listener
{
public:
    sstp_listener(
        const temp_dir& dir,
        const test_certificate& certificate,
        const std::string& host,
        std::string_view mode
    )
        : port_(free_port()),
          process_({
              .argv =
                  {"python3", std::string(CERTFLEET_SOURCE_DIR) + "/tests/support/sstp_listener.py",
                   "--host", host, "--port", std::to_string(port_), "--cert",
                   certificate.cert.string(), "--key", certificate.key.string(), "--mode",
                   std::string(mode)},
              .log_file = dir.path() /
                          ("listener-" + std::string(mode) + "-" + std::to_string(port_) + ".log"),
          })
    {
        // It prints "ready" once it listens.
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!contains(process_.log(), "ready")) {
            if (!process_.running() || std::chrono::steady_clock::now() > deadline) {
                throw rig_error(
                    "the SSTP listener did not start on " + host + ": " + tail_lines(process_.log())
                );
            }
            std::this_thread::sleep_for(20ms);
        }
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string log() const { return process_.log(); }

private:
    std::uint16_t port_;
    child_process process_;
};

nlohmann::json json_of(const run_result& r)
{
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    INFO("stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("probe: SSTP answers 200 on 127.0.0.1 and on ::1 with the expected leaf")
    {
        temp_dir dir{"certfleet-probe"};
        const test_certificate certificate{dir};
        const sstp_listener v4{dir, certificate, "127.0.0.1", "sstp"};
        const sstp_listener v6{dir, certificate, "::1", "sstp"};

        for (const auto& [target, address] :
             {std::pair{"127.0.0.1:" + std::to_string(v4.port()), std::string("127.0.0.1")},
              std::pair{"[::1]:" + std::to_string(v6.port()), std::string("::1")}}) {
            INFO(target);
            const auto r = run_certfleet(
                {"probe", target, "--sstp", "--expect-sha256", certificate.sha256, "--json"}
            );
            INFO(r.out, r.err);
            CHECK(r.exit_code == 0);
            const auto j = json_of(r);
            CHECK(j["ok"] == true);
            CHECK(j["expected_sha256"] == certificate.sha256);
            REQUIRE(j["addresses"].size() == 1);
            const auto& a = j["addresses"][0];
            CHECK(a["address"] == address);
            CHECK(a["sha256"] == certificate.sha256);
            CHECK(a["matches"] == true);
            CHECK(a["sstp_status"] == 200);
            CHECK(a["subject"] == "vpn.example.test");
            CHECK(a["names"] == nlohmann::json::array({"vpn.example.test"}));
        }

        // The same for people, with the SNI given: what was served and that it was expected.
        const auto human = run_certfleet(
            {"probe", "127.0.0.1:" + std::to_string(v4.port()), "--sstp", "--sni",
             "vpn.example.test", "--expect-sha256", certificate.sha256}
        );
        INFO(human.out, human.err);
        CHECK(human.exit_code == 0);
        CHECK(contains(human.out, "SNI vpn.example.test"));
        CHECK(contains(human.out, "SSTP_DUPLEX_POST: HTTP 200"));
        CHECK(contains(human.out, "OK: "));
        CHECK(contains(human.out, "as expected"));

        // RFC 6066 section 3: no server name for an address, the given one with --sni.
        CHECK(contains(v4.log(), "sni none"));
        CHECK(contains(v4.log(), "sni vpn.example.test"));
        CHECK_FALSE(contains(v6.log(), "sni vpn.example.test"));
    }

    TEST_CASE("probe: a TLS port without SSTP fails the SSTP probe and passes the plain one")
    {
        temp_dir dir{"certfleet-probe"};
        const test_certificate certificate{dir};
        const sstp_listener tls_only{dir, certificate, "127.0.0.1", "tls"};
        const auto target = "127.0.0.1:" + std::to_string(tls_only.port());

        const auto refused = run_certfleet({"probe", target, "--sstp"});
        INFO(refused.out, refused.err);
        CHECK(refused.exit_code == 1);
        CHECK(contains(refused.out, "SSTP is not answering"));
        CHECK(contains(refused.out, "HTTP 404"));
        CHECK(contains(refused.out, "What to do:"));

        const auto j = json_of(run_certfleet({"probe", target, "--sstp", "--json"}));
        CHECK(j["ok"] == false);
        CHECK(j["addresses"][0]["sstp_status"] == 404);
        CHECK(j["addresses"][0]["failure"] == "sstp_refused");
        CHECK(j["addresses"][0]["sha256"] == certificate.sha256);

        const auto plain = run_certfleet({"probe", target, "--expect-sha256", certificate.sha256});
        INFO(plain.out, plain.err);
        CHECK(plain.exit_code == 0);
        CHECK(contains(plain.out, certificate.sha256));
    }

    TEST_CASE("probe: another leaf than expected fails showing both hashes")
    {
        temp_dir dir{"certfleet-probe"};
        const test_certificate certificate{dir};
        const sstp_listener listener{dir, certificate, "127.0.0.1", "sstp"};
        const std::string expected(64, 'e');

        const auto r = run_certfleet(
            {"probe", "127.0.0.1:" + std::to_string(listener.port()), "--sstp", "--expect-sha256",
             expected}
        );
        INFO(r.out, r.err);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.out, "serves SHA-256 " + certificate.sha256 + ", expected " + expected));
        CHECK(contains(r.out, "What to do:"));
    }

    TEST_CASE("probe: nothing listening fails with a clear message")
    {
        const auto port = free_port();
        const auto r = run_certfleet({"probe", "127.0.0.1:" + std::to_string(port), "--sstp"});
        INFO(r.out, r.err);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.out, "no answer from 127.0.0.1:" + std::to_string(port)));
        CHECK(contains(r.out, "cannot connect"));
        CHECK(contains(r.out, "listens on port " + std::to_string(port)));
    }

    TEST_CASE("probe: a port that never speaks TLS times out")
    {
        // The kernel accepts the connection into the backlog; nobody answers the ClientHello.
        const auto port = free_port();
        const auto held = occupy_port(port, true);
        const auto start = std::chrono::steady_clock::now();
        const auto r = run_certfleet(
            {"probe", "127.0.0.1:" + std::to_string(port), "--timeout", "0.5", "--json"}
        );
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(r.exit_code == 1);
        const auto j = json_of(r);
        CHECK(j["ok"] == false);
        CHECK(j["addresses"][0]["failure"] == "tls_failed");
        CHECK(j["addresses"][0]["error"] == "TLS handshake failed: no answer within 500 ms");
    }

    TEST_CASE("probe: usage errors exit 2")
    {
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"probe", "127.0.0.1:0"},
                 {"probe", "127.0.0.1:65536"},
                 {"probe", "[::1"},
                 {"probe", "host:"},
                 {"probe", "127.0.0.1", "--expect-sha256", "abc"},
                 {"probe", "127.0.0.1", "--timeout", "0"},
                 {"probe"},
             }) {
            const auto r = run_certfleet(args);
            INFO(join_command(args), r.out, r.err);
            CHECK(r.exit_code == 2);
        }
    }
}

} // namespace certfleet::test
