// The client's driver against a scripted CA (an in-process HTTP server): what it sends for
// profiles, ARI and replaces, and how it handles badNonce — the parts Pebble does not offer.
#include "acme/client.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "core/crypto/encoding.hpp"
#include "unit/acme/test_data.hpp"
#include "unit/net/test_server.hpp"

using namespace certfleet;
using namespace std::chrono_literals;

namespace {

// A CA that answers the directory, nonces, accounts and ARI, and rejects every order after
// recording its payload.
struct scripted_ca
{
    test::test_server server;
    int nonces = 0;
    int bad_nonces_to_send = 0;
    std::string new_order_url; // the directory's newOrder; ours when empty
    std::vector<nlohmann::json> order_payloads;
    std::vector<std::string> paths;

    explicit scripted_ca(boost::asio::io_context& io) : server(io)
    {
        server.on_request = [this](const test::server_request& req, test::server_response& res) {
            const std::string path(req.target());
            paths.push_back(path);
            res.set("Replay-Nonce", "nonce" + std::to_string(++nonces));
            if (path == "/dir") {
                res.body() =
                    nlohmann::json{
                        {"newNonce", server.url("/nonce")},
                        {"newAccount", server.url("/account")},
                        {"newOrder", new_order_url.empty() ? server.url("/order") : new_order_url},
                        {"revokeCert", server.url("/revoke")},
                        {"keyChange", server.url("/key-change")},
                        {"renewalInfo", server.url("/renewal-info")},
                        {"meta",
                         {{"profiles", {{"classic", "90 days"}, {"shortlived", "6 days"}}}}},
                    }
                        .dump();
                return;
            }
            if (req.method() == test::http::verb::post && bad_nonces_to_send > 0) {
                --bad_nonces_to_send;
                res.result(400);
                res.set("Content-Type", "application/problem+json");
                res.body() = R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"})";
                return;
            }
            if (path == "/account") {
                res.result(201);
                res.set("Location", server.url("/account/1"));
                res.body() = R"({"status":"valid"})";
            } else if (path == "/order") {
                const auto jws = nlohmann::json::parse(req.body());
                order_payloads.push_back(nlohmann::json::parse(
                    core::base64url_decode(jws["payload"].get<std::string>()).value()
                ));
                res.result(403);
                res.set("Content-Type", "application/problem+json");
                res.body() =
                    R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"not today"})";
            } else if (path.starts_with("/renewal-info/")) {
                res.set("Retry-After", "21600");
                res.body() = acme::test::read_data("rfc9773_4.2_renewal_info.json");
            }
        };
    }
};

// The scripted CA, an HTTP client, and ACME clients with fresh account keys, on one io_context.
struct harness
{
    boost::asio::io_context io;
    scripted_ca ca{io};
    net::http_client http{io.get_executor(), net::http_client_options{}};

    // A client of the scripted CA, unless options name another directory.
    acme::client client(acme::client_options options = {})
    {
        if (options.directory_url.empty()) {
            options.directory_url = ca.server.url("/dir");
        }
        return acme::client(
            http, core::private_key::generate(core::key_type::ec_p256).value(), std::move(options)
        );
    }
};

// Orders here never get as far as a challenge.
struct unused_board final : core::challenge_board
{
    boost::system::error_code
    present(std::string_view, std::string_view, std::chrono::seconds) override
    {
        FAIL("no challenge expected");
        return {};
    }
    void cleanup(std::string_view, std::string_view) override {}
};

// One order for a name the scripted CA refuses at newOrder; counts itself done.
boost::asio::awaitable<void> refused_order(acme::client* client, int* done)
{
    unused_board board;
    acme::order_request request;
    request.names = {"www.example.com"};
    (void)co_await client->issue(std::move(request), board);
    ++*done;
}

// Loads the directory; counts itself done, and loaded when it got one.
boost::asio::awaitable<void> directory_load(acme::client* client, int* loaded, int* done)
{
    const auto directory = co_await client->load_directory();
    *loaded += directory ? 1 : 0;
    ++*done;
}

// Three directory loads of `client` at once, waiting for all three; returns how many loaded.
boost::asio::awaitable<int> three_directory_loads(acme::client& client)
{
    int loaded = 0;
    int done = 0;
    const auto executor = co_await boost::asio::this_coro::executor;
    for (int i = 0; i < 3; ++i) {
        boost::asio::co_spawn(
            executor, directory_load(&client, &loaded, &done), boost::asio::detached
        );
    }
    while (done < 3) {
        boost::asio::steady_timer tick(executor, 10ms);
        co_await tick.async_wait(boost::asio::use_awaitable);
    }
    co_return loaded;
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("a CA seen validating cuts the order's validation wait to the grace, once")
    {
        using acme::order_phase;
        const auto seen = std::chrono::system_clock::time_point{} + 1h;
        const auto next_step = seen + 50ms;
        acme::order_wakeup wakeup; // the issuer's: the default grace
        CHECK(wakeup.shorten(next_step, order_phase::polling_validation) == next_step);
        bool timer_cancelled = false;
        wakeup.cancel_wait = [&] { timer_cancelled = true; };
        wakeup.poke(seen);
        CHECK(timer_cancelled); // the waiting driver looks again at once
        CHECK(wakeup.shorten(next_step, order_phase::polling_issuance) == next_step);
        CHECK(wakeup.shorten(seen + 1ms, order_phase::polling_validation) == seen + 1ms);
        CHECK(wakeup.shorten(next_step, order_phase::polling_validation) == seen + 2ms);
        // Once: the backoff goes on afterwards, and later queries change nothing.
        CHECK(
            wakeup.shorten(next_step + 100ms, order_phase::polling_validation) == next_step + 100ms
        );
        wakeup.poke(seen + 1s);
        CHECK(wakeup.shorten(next_step + 2s, order_phase::polling_validation) == next_step + 2s);
    }

    TEST_CASE("loads of the directory at once share one fetch, and its failure")
    {
        harness f;
        auto answer = f.ca.server.on_request;
        bool refuse = true;
        f.ca.server.on_request = [&](const test::server_request& req, test::server_response& res) {
            if (refuse && req.target() == "/dir") {
                f.ca.paths.emplace_back(req.target());
                res.result(503);
                return;
            }
            answer(req, res);
        };
        f.ca.server.response_delay = 50ms; // the three wait while the first fetch is out
        const auto fetches = [&] {
            return std::count(f.ca.paths.begin(), f.ca.paths.end(), "/dir");
        };
        auto client = f.client();
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            CHECK(co_await three_directory_loads(client) == 0); // the CA is down: asked once
            CHECK(fetches() == 1);
            refuse = false;
            CHECK(co_await three_directory_loads(client) == 3); // a later load asks again
            CHECK(fetches() == 2);
            CHECK(co_await three_directory_loads(client) == 3); // and then it is kept
            CHECK(fetches() == 2);
        });
    }

    TEST_CASE("an account's newOrder requests go one at a time: the next once the CA has answered")
    {
        harness f;
        auto client = f.client();
        std::vector<std::chrono::steady_clock::time_point> arrivals;
        auto answer = f.ca.server.on_request;
        f.ca.server.on_request = [&](const test::server_request& req, test::server_response& res) {
            if (req.target() == "/order") {
                arrivals.push_back(std::chrono::steady_clock::now());
            }
            answer(req, res);
        };
        constexpr auto answer_after = 100ms;
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            acme::account_options account;
            account.agree_to_terms = true;
            REQUIRE((co_await client.register_account(account)).has_value());
            f.ca.server.response_delay = answer_after; // every answer from now on
            int done = 0;
            const auto executor = co_await boost::asio::this_coro::executor;
            for (int i = 0; i < 3; ++i) {
                boost::asio::co_spawn(
                    executor, refused_order(&client, &done), boost::asio::detached
                );
            }
            while (done < 3) {
                boost::asio::steady_timer tick(executor, 10ms);
                co_await tick.async_wait(boost::asio::use_awaitable);
            }
        });
        REQUIRE(arrivals.size() == 3);
        for (std::size_t i = 1; i < arrivals.size(); ++i) {
            CHECK(arrivals[i] - arrivals[i - 1] >= answer_after);
        }
    }

    TEST_CASE("a profile named in the directory and replaces go into newOrder")
    {
        harness f;
        auto client = f.client();
        unused_board board;
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            acme::account_options account;
            account.agree_to_terms = true;
            REQUIRE((co_await client.register_account(account)).has_value());

            acme::order_request request;
            request.names = {"www.example.com"};
            request.profile = "shortlived";
            request.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
            auto issued = co_await client.issue(std::move(request), board);
            REQUIRE_FALSE(issued.has_value());
            REQUIRE(issued.error().ca_problem);
            CHECK(issued.error().ca_problem->is("rejectedIdentifier"));
            REQUIRE(f.ca.order_payloads.size() == 1);
            CHECK(f.ca.order_payloads[0]["profile"] == "shortlived");
            CHECK(f.ca.order_payloads[0]["replaces"] == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");

            acme::order_request unknown;
            unknown.names = {"www.example.com"};
            unknown.profile = "forever";
            auto refused = co_await client.issue(std::move(unknown), board);
            REQUIRE_FALSE(refused.has_value());
            CHECK(refused.error().code == acme::errc::unsupported);
            CHECK(f.ca.order_payloads.size() == 1); // nothing was sent
        });
    }

    TEST_CASE("ARI: the certificate's identifier, the suggested window and Retry-After (RFC 9773 4)"
    )
    {
        harness f;
        auto client = f.client();
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            auto info = co_await client.renewal_info(
                acme::test::read_data("rfc9773_appendix_a_certificate.pem")
            );
            REQUIRE_MESSAGE(info.has_value(), (info ? "" : info.error().message()));
            CHECK(info->cert_id == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
            CHECK(f.ca.paths.back() == "/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
            CHECK(info->window.end > info->window.start);
            REQUIRE(info->retry_after);
            CHECK(*info->retry_after == 21600s);

            auto by_id = co_await client.renewal_info_by_id(info->cert_id);
            REQUIRE(by_id.has_value());
            CHECK(f.ca.paths.back() == "/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
            CHECK(by_id->window.start == info->window.start);
        });
    }

    TEST_CASE(
        "badNonce is retried with the nonce it carried, a bounded number of times (RFC 8555 6.5)"
    )
    {
        harness f;
        acme::client_options options;
        options.max_bad_nonce_retries = 3;
        auto client = f.client(options);
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            acme::account_options account;
            account.agree_to_terms = true;
            f.ca.bad_nonces_to_send = 2;
            REQUIRE((co_await client.register_account(account)).has_value());
            CHECK(client.stats().bad_nonce_retries == 2);
            CHECK(client.stats().nonces_fetched == 1); // later nonces came from Replay-Nonce

            f.ca.bad_nonces_to_send = 10;
            auto given_up = co_await client.find_account();
            REQUIRE_FALSE(given_up.has_value());
            REQUIRE(given_up.error().ca_problem);
            CHECK(given_up.error().ca_problem->is("badNonce"));
            CHECK(given_up.error().code == acme::errc::bad_nonce_exhausted);
            CHECK(client.stats().bad_nonce_retries == 5);
        });
    }

    TEST_CASE("badNonce past the client's bound in an order: the order machine retries the step")
    {
        harness f;
        acme::client_options options;
        options.max_bad_nonce_retries = 2;
        auto client = f.client(options);
        unused_board board;
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            acme::account_options account;
            account.agree_to_terms = true;
            REQUIRE((co_await client.register_account(account)).has_value());
            f.ca.bad_nonces_to_send = 4; // three for the first newOrder, one for its retry
            acme::order_request request;
            request.names = {"www.example.com"};
            auto issued = co_await client.issue(std::move(request), board);
            REQUIRE_FALSE(issued.has_value());
            // The retried newOrder reached the CA, which refused the name.
            REQUIRE(f.ca.order_payloads.size() == 1);
            REQUIRE(issued.error().ca_problem);
            CHECK(issued.error().ca_problem->is("rejectedIdentifier"));
            CHECK(client.stats().bad_nonce_retries == 3);
        });
    }

    TEST_CASE("every request is reported with its endpoint and how it ended")
    {
        harness f;
        std::vector<std::pair<std::string, std::string>> reports;
        acme::client_options options;
        options.on_request = [&reports](const acme::request_report& r) {
            reports.emplace_back(acme::to_string(r.where), r.outcome);
        };
        auto client = f.client(options);
        unused_board board;
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            acme::account_options account;
            account.agree_to_terms = true;
            f.ca.bad_nonces_to_send = 1;
            REQUIRE((co_await client.register_account(account)).has_value());
            acme::order_request request;
            request.names = {"www.example.com"};
            REQUIRE_FALSE((co_await client.issue(std::move(request), board)).has_value());

            // Nothing listens on port 1 of loopback.
            options.directory_url = "http://127.0.0.1:1/dir";
            auto unreachable = f.client(options);
            REQUIRE_FALSE((co_await unreachable.load_directory()).has_value());
        });
        const std::vector<std::pair<std::string, std::string>> expected{
            {"directory", "2xx"},
            {"newNonce", "2xx"},
            {"newAccount", "badNonce"},
            {"newAccount", "2xx"},
            {"newOrder", "rejectedIdentifier"},
            {"directory", "network_error"},
        };
        CHECK(reports == expected);
    }

    TEST_CASE("a plain http:// directory is refused unless its host is loopback")
    {
        harness f;
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            for (const char* url :
                 {"http://acme.example.com/dir", "http://10.0.0.1:14000/dir",
                  "http://[2001:db8::1]/dir"}) {
                CAPTURE(url);
                auto remote = f.client(acme::client_options{url});
                auto d = co_await remote.load_directory();
                REQUIRE_FALSE(d.has_value());
                CHECK(d.error().code == acme::errc::insecure_url);
                CHECK(d.error().message().find(url) != std::string::npos);
                acme::account_options account;
                account.agree_to_terms = true;
                auto registered = co_await remote.register_account(account);
                REQUIRE_FALSE(registered.has_value());
                CHECK(registered.error().code == acme::errc::insecure_url);
            }
            CHECK(f.http.connections_opened() == 0); // refused before any request

            // Loopback over http (the scripted CA), and https anywhere, are fine.
            auto local = f.client();
            CHECK((co_await local.load_directory()).has_value());

            // A directory on loopback that sends the account's requests elsewhere in clear.
            f.ca.new_order_url = "http://acme.example.com/order";
            auto redirected = f.client();
            auto d = co_await redirected.load_directory();
            REQUIRE_FALSE(d.has_value());
            CHECK(d.error().code == acme::errc::insecure_url);
            CHECK(d.error().message().find("http://acme.example.com/order") != std::string::npos);
        });
    }

    TEST_CASE("operations that need an account fail with no_account before there is one")
    {
        harness f;
        auto client = f.client();
        unused_board board;
        test::run(f.io, [&]() -> boost::asio::awaitable<void> {
            acme::order_request request;
            request.names = {"www.example.com"};
            auto issued = co_await client.issue(std::move(request), board);
            REQUIRE_FALSE(issued.has_value());
            CHECK(issued.error().code == acme::errc::no_account);
            std::vector<std::string> contacts{"mailto:ops@example.com"};
            auto contact = co_await client.update_contact(std::move(contacts));
            REQUIRE_FALSE(contact.has_value());
            CHECK(contact.error().code == acme::errc::no_account);
            auto new_key = core::private_key::generate(core::key_type::ec_p256).value();
            auto rolled = co_await client.rollover_key(std::move(new_key));
            REQUIRE_FALSE(rolled.has_value());
            CHECK(rolled.error().code == acme::errc::no_account);
            CHECK(f.ca.order_payloads.empty());
        });
    }
}
