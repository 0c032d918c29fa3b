#include "deploy/https_transport.hpp"

#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <thread>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "deploy/agent_protocol.hpp"
#include "deploy/errc.hpp"
#include "net/errc.hpp"
#include "unit/net/test_pki.hpp"
#include "unit/net/test_server.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// A TLS server on 127.0.0.1 with a self-signed certificate (no CA would trust it), running on
// its own thread: the transport under test runs its own io_context on the test's thread.
struct pinned_server
{
    certfleet::test::issued leaf = certfleet::test::pki_issue("127.0.0.1", nullptr, "IP:127.0.0.1");
    std::string pin =
        core::to_hex(core::parse_pem_chain(leaf.cert_pem).value().front().sha256_fingerprint);
    asio::ssl::context tls{asio::ssl::context::tls_server};
    asio::io_context io;
    std::optional<certfleet::test::test_server> server;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;

    pinned_server()
    {
        tls.use_certificate_chain(asio::buffer(leaf.cert_pem));
        tls.use_private_key(asio::buffer(leaf.key_pem), asio::ssl::context::pem);
        server.emplace(io, &tls);
        server->on_request = [](const auto& req, auto& res) {
            res.result(boost::beast::http::status::service_unavailable);
            res.set("Retry-After", "7");
            res.body() = "echo " + req.body();
        };
    }
    void start()
    {
        thread = std::thread([this] { io.run(); });
    }
    ~pinned_server()
    {
        work.reset();
        io.stop();
        if (thread.joinable()) {
            thread.join();
        }
    }
    [[nodiscard]] std::string base() const
    {
        return "https://127.0.0.1:" + std::to_string(server->port());
    }
};

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("https transport: trusts the pinned certificate only")
    {
        pinned_server s;
        s.start();
        SUBCASE("the pinned certificate: the answer comes back whatever its status")
        {
            https_transport t(s.base() + "/", s.pin, "certfleet-agent/test");
            const auto r = t.post(poll_path, R"({"a":1})", 5s);
            REQUIRE(r.has_value());
            CHECK(r->status == 503);
            CHECK(r->body == R"(echo {"a":1})");
            REQUIRE(r->retry_after.has_value());
            CHECK(r->retry_after.value() == 7s);
            s.io.stop();
            s.thread.join();
            REQUIRE(s.server->requests.size() == 1);
            const auto& req = s.server->requests[0];
            CHECK(req.method() == boost::beast::http::verb::post);
            CHECK(req.target() == poll_path);
            CHECK(req[boost::beast::http::field::content_type] == "application/json");
            CHECK(req[boost::beast::http::field::user_agent] == "certfleet-agent/test");
        }
        SUBCASE("another certificate: pin_mismatch, and nothing was sent")
        {
            std::string other_pin = s.pin;
            other_pin[0] = other_pin[0] == '0' ? '1' : '0';
            https_transport t(s.base(), other_pin, "certfleet-agent/test");
            std::string detail;
            const auto r = t.post(enroll_path, "{}", 5s, &detail);
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == errc::pin_mismatch);
            CHECK(detail.find("does not match the pinned SHA-256") != std::string::npos);
            s.io.stop();
            s.thread.join();
            CHECK(s.server->requests.empty());
        }
    }

    TEST_CASE("https transport: no server is a transport error, not a pin failure")
    {
        std::uint16_t port = 0;
        {
            asio::io_context io;
            asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
            port = a.local_endpoint().port();
        }
        https_transport t("https://127.0.0.1:" + std::to_string(port), std::string(64, 'a'), "t");
        std::string detail;
        const auto r = t.post(poll_path, "{}", 2s, &detail);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == net::errc::connection_refused);
        CHECK_FALSE(detail.empty());
    }
}
