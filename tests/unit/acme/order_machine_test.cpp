#include "acme/order_machine.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>

#include "core/challenge_name.hpp"
#include "net/errc.hpp"
#include "unit/acme/test_data.hpp"

using namespace certfleet;
using namespace certfleet::acme;
using namespace std::chrono_literals;
using certfleet::acme::test::read_data;

namespace {

const std::string token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

net::http_response reply(
    unsigned status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}
)
{
    return net::http_response{status, std::move(headers), std::move(body)};
}

std::string order_json(std::string_view status, std::string_view extra = "")
{
    return R"({"status":")" + std::string(status) +
           R"(","identifiers":[{"type":"dns","value":"www.example.com"},{"type":"dns","value":"example.com"}],)"
           R"("authorizations":["https://ca.test/authz/1","https://ca.test/authz/2"],)"
           R"("finalize":"https://ca.test/order/1/finalize")" +
           std::string(extra) + "}";
}

std::string authz_json(
    std::string_view status,
    std::string_view name,
    std::string_view challenge_status = "pending",
    const std::string& tok = token
)
{
    return R"({"status":")" + std::string(status) + R"(","identifier":{"type":"dns","value":")" +
           std::string(name) +
           R"("},"challenges":[{"type":"http-01","url":"https://ca.test/chall/h","token":")" +
           token + R"(","status":"pending"},{"type":"dns-01","url":"https://ca.test/chall/)" +
           std::string(name) + R"(","token":")" + tok + R"(","status":")" +
           std::string(challenge_status) + R"("}]})";
}

// One exchange the scripted CA expects: the URL the machine must request, and what comes back.
struct exchange
{
    std::string url;
    std::variant<net::http_response, boost::system::error_code> answer;
};

std::vector<exchange> happy_path()
{
    const auto chain = read_data("chain.pem");
    return {
        {"https://ca.test/new-order",
         reply(201, order_json("pending"), {{"Location", "/order/1"}, {"Replay-Nonce", "n1"}})},
        {"https://ca.test/authz/1", reply(200, authz_json("pending", "www.example.com"))},
        {"https://ca.test/authz/2", reply(200, authz_json("valid", "example.com", "valid"))},
        {"https://ca.test/chall/www.example.com",
         reply(
             200, R"({"type":"dns-01","url":"https://ca.test/chall/www.example.com","token":")" +
                      token + R"(","status":"processing"})"
         )},
        {"https://ca.test/order/1", reply(200, order_json("pending"))},
        {"https://ca.test/order/1", reply(200, order_json("ready"))},
        {"https://ca.test/order/1/finalize",
         reply(200, order_json("processing"), {{"Retry-After", "2"}})},
        {"https://ca.test/order/1",
         reply(200, order_json("valid", R"(,"certificate":"https://ca.test/cert/1")"))},
        {"https://ca.test/cert/1",
         reply(200, chain, {{"Content-Type", "application/pem-certificate-chain"}})},
    };
}

// Drives the machine against a script, as the real driver would, with a fake clock and board.
struct run_result
{
    std::optional<outcome<order_result>> ended;
    std::map<std::pair<std::string, std::string>, int> board; // (fqdn, value) → presence
    std::vector<std::string> requested;
    int presents_before_first_answer = -1;
    int steps = 0;
    clock_time end{};
};

order_machine_options test_options()
{
    return order_machine_options{"https://ca.test/new-order", "thumb", 50ms, 10s, 3};
}

run_result
run(order_request request,
    std::vector<exchange> script,
    std::function<void(const action&)> observe = {},
    bool strict_urls = true,
    order_machine_options options = test_options(),
    // When each wait ends, given the time it began and the time asked for; by default the latter.
    std::function<clock_time(clock_time, clock_time)> wake = {})
{
    run_result out;
    order_machine m(std::move(request), std::move(options));
    clock_time now{std::chrono::seconds(1'700'000'000)};
    const clock_time start = now;
    std::size_t next = 0;
    event e = started{now};
    for (; out.steps < 500; ++out.steps) {
        const action a = m.resume(e);
        if (observe) {
            observe(a);
        }
        if (const auto* f = std::get_if<finished>(&a)) {
            out.ended = f->result;
            break;
        }
        if (const auto* s = std::get_if<send_request>(&a)) {
            out.requested.push_back(s->url);
            if (s->url.find("/chall/") != std::string::npos &&
                out.presents_before_first_answer < 0) {
                out.presents_before_first_answer = static_cast<int>(out.board.size());
            }
            if (next >= script.size()) {
                e = request_failed{make_error_code(errc::timeout), now}; // the CA stopped answering
                continue;
            }
            const auto& x = script[next++];
            if (strict_urls) {
                CHECK(s->url == x.url);
            }
            if (const auto* r = std::get_if<net::http_response>(&x.answer)) {
                e = response_received{*r, now};
            } else {
                e = request_failed{std::get<boost::system::error_code>(x.answer), now};
            }
        } else if (const auto* p = std::get_if<present_challenges>(&a)) {
            for (const auto& r : p->records) {
                out.board[{r.fqdn, r.value}] = 1;
            }
            e = challenges_presented{};
        } else if (const auto* c = std::get_if<cleanup_challenges>(&a)) {
            for (const auto& r : c->records) {
                out.board.erase({r.fqdn, r.value});
            }
            e = challenges_cleaned{};
        } else if (std::get_if<create_key_and_csr>(&a) != nullptr) {
            e = csr_created{std::string("csr-der")};
        } else if (const auto* w = std::get_if<wait_until>(&a)) {
            REQUIRE(w->at >= now);
            now = wake ? wake(now, w->at) : w->at;
            e = timer_fired{now};
        }
    }
    out.end = now;
    (void)start;
    return out;
}

order_request two_names()
{
    order_request r;
    r.names = {"www.example.com", "example.com"};
    r.timeout = 300s;
    return r;
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("an order runs from newOrder to the certificate (RFC 8555 7.4)")
    {
        const auto result = run(two_names(), happy_path());
        REQUIRE(result.ended);
        REQUIRE(result.ended->has_value());
        CHECK(result.ended->value().certificate_url == "https://ca.test/cert/1");
        CHECK(result.ended->value().order_url == "https://ca.test/order/1");
        CHECK(result.board.empty()); // cleaned up
        CHECK(
            result.presents_before_first_answer == 1
        ); // presented before the challenge was answered
        CHECK(result.requested.size() == happy_path().size());
    }

    TEST_CASE("the DNS-01 value is base64url(SHA-256(key authorization)) at _acme-challenge (RFC "
              "8555 8.4)")
    {
        CHECK(core::challenge_name_for("*.example.com") == "_acme-challenge.example.com");
        CHECK(core::challenge_name_for("www.example.com") == "_acme-challenge.www.example.com");
        // token "." thumbprint, hashed: 43 base64url characters.
        const auto v = dns01_txt_value(token, "thumb");
        CHECK(v.size() == 43);
        CHECK(
            v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            ) == std::string::npos
        );
        CHECK(v != dns01_txt_value(token, "other"));
    }

    TEST_CASE("an apex and its wildcard put two values on one name (RFC 8555 7.1.3)")
    {
        const std::string wildcard_token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        auto script = happy_path();
        script[1].answer = reply(200, authz_json("pending", "example.com"));
        script[2].answer =
            reply(200, authz_json("pending", "example.com", "pending", wildcard_token));
        script[3].url = "https://ca.test/chall/example.com";
        script.insert(script.begin() + 4, script[3]);
        std::vector<challenge_record> presented;
        order_request r;
        r.names = {"example.com", "*.example.com"};
        const auto result = run(r, script, [&](const action& a) {
            if (const auto* p = std::get_if<present_challenges>(&a)) {
                presented = p->records;
            }
        });
        REQUIRE(result.ended);
        CHECK(result.ended->has_value());
        REQUIRE(presented.size() == 2);
        CHECK(presented[0].fqdn == "_acme-challenge.example.com");
        CHECK(presented[1].fqdn == "_acme-challenge.example.com");
        CHECK(presented[0].value != presented[1].value);
        CHECK(result.board.empty());
    }

    TEST_CASE("an invalid order surfaces the CA's problem per identifier and cleans up")
    {
        auto script = happy_path();
        script.resize(5);
        script[4].answer = reply(
            200,
            order_json(
                "invalid",
                R"(,"error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"Some of the authorizations failed"})"
            )
        );
        script.push_back(
            {"https://ca.test/authz/1",
             reply(
                 200,
                 R"({"status":"invalid","identifier":{"type":"dns","value":"www.example.com"},"challenges":[{"type":"dns-01","url":"https://ca.test/chall/www.example.com","token":")" +
                     token +
                     R"(","status":"invalid","error":{"type":"urn:ietf:params:acme:error:incorrectTXT","detail":"No TXT record found at _acme-challenge.www.example.com"}}]})"
             )}
        );
        script.push_back(
            {"https://ca.test/authz/2", reply(200, authz_json("valid", "example.com", "valid"))}
        );
        const auto result = run(two_names(), script);
        REQUIRE(result.ended);
        REQUIRE_FALSE(result.ended->has_value());
        const auto& f = result.ended->error();
        CHECK(f.code == errc::order_invalid);
        REQUIRE(f.ca_problem);
        REQUIRE(f.ca_problem->subproblems.size() == 1);
        CHECK(f.ca_problem->subproblems[0].identifier_value == "www.example.com");
        CHECK(f.message().find("No TXT record found") != std::string::npos);
        CHECK(result.board.empty());
    }

    TEST_CASE("a rate limit on newOrder ends with the time to retry")
    {
        auto script = happy_path();
        script[0].answer = reply(
            429,
            R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates"})",
            {{"Retry-After", "120"}, {"Content-Type", "application/problem+json"}}
        );
        for (int i = 0; i < 3; ++i) {
            script.insert(script.begin(), script[0]);
        }
        const auto result = run(two_names(), script);
        REQUIRE(result.ended);
        REQUIRE_FALSE(result.ended->has_value());
        CHECK(result.ended->error().code == errc::rate_limited);
        REQUIRE(result.ended->error().retry_after());
        CHECK(*result.ended->error().retry_after() == 120s);
    }

    TEST_CASE("alreadyReplaced: the order is sent again without replaces (RFC 9773 5)")
    {
        auto script = happy_path();
        script.insert(
            script.begin(),
            exchange{
                "https://ca.test/new-order",
                reply(
                    409,
                    R"({"type":"urn:ietf:params:acme:error:alreadyReplaced","detail":"replaced"})"
                )}
        );
        auto r = two_names();
        r.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
        int with_replaces = 0;
        const auto result = run(r, script, [&](const action& a) {
            if (const auto* s = std::get_if<send_request>(&a);
                s && s->payload && s->payload->contains("replaces")) {
                ++with_replaces;
            }
        });
        REQUIRE(result.ended);
        CHECK(result.ended->has_value());
        CHECK(with_replaces == 1);
    }

    TEST_CASE("Retry-After is honoured while polling")
    {
        auto script = happy_path();
        script[4].answer = reply(200, order_json("pending"), {{"Retry-After", "7"}});
        clock_time last_wait{};
        clock_time first{};
        const auto result = run(two_names(), script, [&](const action& a) {
            if (const auto* w = std::get_if<wait_until>(&a)) {
                if (first == clock_time{}) {
                    first = w->at;
                }
                last_wait = w->at;
            }
        });
        REQUIRE(result.ended);
        CHECK(result.ended->has_value());
        CHECK(
            result.end -
                std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)) >=
            9s
        ); // 7 s + 2 s
    }

    TEST_CASE("an early poll that finds the CA still validating keeps the wait it cut short")
    {
        // order_wakeup ends the first wait 2 ms in (the CA's DNS query was seen); the order is
        // still pending then. The next poll is the one that wait was for, 50 ms after the
        // answer, not a doubled backoff step (100 ms) after the early look.
        std::vector<clock_time> asked;
        std::vector<clock_time> began;
        bool woken = false;
        const auto result =
            run(two_names(), happy_path(), {}, true, test_options(),
                [&](clock_time now, clock_time at) {
                    began.push_back(now);
                    asked.push_back(at);
                    if (!woken) {
                        woken = true;
                        return now + 2ms;
                    }
                    return at;
                });
        REQUIRE(result.ended);
        CHECK(result.ended->has_value());
        REQUIRE(asked.size() >= 2);
        CHECK(asked[0] - began[0] == 50ms);
        CHECK(asked[1] == asked[0]); // the early look (pending) did not push it further
    }

    TEST_CASE("an early poll that finds the order ready leaves the issuance wait its own")
    {
        auto script = happy_path();
        script.erase(script.begin() + 4); // the early look finds the order ready
        script[5].answer = reply(200, order_json("processing")); // finalize, no Retry-After
        std::vector<clock_time> asked;
        std::vector<clock_time> began;
        const auto result =
            run(two_names(), script, {}, true, test_options(), [&](clock_time now, clock_time at) {
                began.push_back(now);
                asked.push_back(at);
                return asked.size() == 1 ? now + 2ms : at;
            });
        REQUIRE(result.ended);
        CHECK(result.ended->has_value());
        REQUIRE(asked.size() == 2);
        CHECK(asked[1] - began[1] == 10ms); // first_issuance_poll_delay after the finalize
    }

    TEST_CASE("the order gives up at its deadline instead of polling for ever")
    {
        std::vector<exchange> script = happy_path();
        script.resize(4);
        for (int i = 0; i < 200; ++i) {
            script.push_back({"https://ca.test/order/1", reply(200, order_json("pending"))});
        }
        auto r = two_names();
        r.timeout = 60s;
        const auto result = run(r, script);
        REQUIRE(result.ended);
        REQUIRE_FALSE(result.ended->has_value());
        CHECK(result.ended->error().code == errc::timeout);
        CHECK(result.board.empty());
    }

    TEST_CASE("a preferred chain is picked from the alternates by issuer name")
    {
        auto script = happy_path();
        std::get<net::http_response>(script.back().answer)
            .headers.emplace_back("Link", "</cert/1/1>;rel=\"alternate\"");
        script.push_back({"https://ca.test/cert/1/1", reply(200, read_data("chain_alt.pem"))});
        auto r = two_names();
        r.preferred_chain_issuer = "certfleet alternate root";
        const auto result = run(r, script);
        REQUIRE(result.ended);
        REQUIRE(result.ended->has_value());
        CHECK(result.ended->value().certificate_url == "https://ca.test/cert/1/1");
        CHECK(result.ended->value().alternate_urls.size() == 1);
    }

    TEST_CASE("an order resumed after a restart carries on from the CA's state")
    {
        auto r = two_names();
        r.resume_order_url = "https://ca.test/order/1";
        std::vector<exchange> script{
            {"https://ca.test/order/1", reply(200, order_json("ready"))},
            {"https://ca.test/order/1/finalize",
             reply(200, order_json("valid", R"(,"certificate":"https://ca.test/cert/1")"))},
            {"https://ca.test/cert/1", reply(200, read_data("chain.pem"))},
        };
        const auto result = run(r, script);
        REQUIRE(result.ended);
        CHECK(result.ended->has_value());
    }

    TEST_CASE("a failure injected at every step ends in a clear error or success, never a hang")
    {
        const auto base = happy_path();
        struct failure_kind
        {
            const char* name;
            std::variant<net::http_response, boost::system::error_code> answer;
            bool transient; // retried: the order must then succeed
        };
        const std::vector<failure_kind> kinds{
            {"timeout", make_error_code(errc::timeout), true},
            {"500", reply(500, "<html>oops</html>"), true},
            {"malformed JSON", reply(200, "{\"status\":"), false},
            {"badNonce",
             reply(400, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"bad nonce"})"),
             true},
            {"429",
             reply(
                 429, R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow down"})",
                 {{"Retry-After", "3"}}
             ),
             true},
            {"wrong type", reply(200, "[1,2,3]"), false},
        };
        for (std::size_t step = 0; step < base.size(); ++step) {
            for (const auto& kind : kinds) {
                CAPTURE(step);
                CAPTURE(kind.name);
                auto script = base;
                // Injected before the real answer: a client that retries then gets it.
                script.insert(
                    script.begin() + static_cast<std::ptrdiff_t>(step),
                    exchange{base[step].url, kind.answer}
                );
                const auto result = run(two_names(), script, {}, false);
                REQUIRE(result.ended);       // finished: no hang
                CHECK(result.board.empty()); // TXT values cleaned up whatever the outcome
                if (kind.transient) {
                    CHECK_MESSAGE(
                        result.ended->has_value(),
                        (*result.ended ? "" : result.ended->error().message())
                    );
                }
                if (!*result.ended) {
                    const auto& f = result.ended->error();
                    CHECK(f.code);
                    CHECK_FALSE(f.message().empty());
                }
            }
        }
    }

    TEST_CASE("a transient failure at any step is retried at that step and the order completes")
    {
        struct transient_kind
        {
            const char* name;
            std::variant<net::http_response, boost::system::error_code> answer;
            std::chrono::seconds at_least; // the wait the CA asked for
        };
        const std::vector<transient_kind> kinds{
            {"transport error", make_error_code(net::errc::connection_closed), 0s},
            {"badNonce past the driver's retries", make_error_code(errc::bad_nonce_exhausted), 0s},
            {"badNonce answer",
             reply(400, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"})"), 0s},
            {"500", reply(500, "<html>oops</html>"), 0s},
            {"503 with Retry-After",
             reply(
                 503, R"({"type":"urn:ietf:params:acme:error:serverInternal","detail":"busy"})",
                 {{"Retry-After", "4"}}
             ),
             4s},
            {"429 with Retry-After",
             reply(
                 429, R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow down"})",
                 {{"Retry-After", "5"}}
             ),
             5s},
        };
        const auto base = happy_path();
        const auto base_run = run(two_names(), base);
        REQUIRE(base_run.ended);
        const auto base_duration = base_run.end - clock_time{std::chrono::seconds(1'700'000'000)};
        for (std::size_t step = 0; step < base.size(); ++step) {
            for (const auto& kind : kinds) {
                CAPTURE(step);
                CAPTURE(kind.name);
                auto script = base;
                const auto at = script.begin() + static_cast<std::ptrdiff_t>(step);
                const bool finalize = base[step].url == "https://ca.test/order/1/finalize";
                if (finalize) {
                    // The CSR may have reached the CA: the machine looks at the order first, and
                    // finalizes again because it is still ready.
                    script.insert(
                        at, exchange{"https://ca.test/order/1", reply(200, order_json("ready"))}
                    );
                }
                script.insert(
                    script.begin() + static_cast<std::ptrdiff_t>(step),
                    exchange{base[step].url, kind.answer}
                );
                const auto result = run(two_names(), script); // strict: the same URL again
                REQUIRE(result.ended);
                CHECK_MESSAGE(
                    result.ended->has_value(),
                    (*result.ended ? "" : result.ended->error().message())
                );
                CHECK(result.requested.size() == script.size());
                CHECK(result.board.empty());
                const auto duration = result.end - clock_time{std::chrono::seconds(1'700'000'000)};
                CHECK(duration >= base_duration + kind.at_least);
            }
        }
    }

    TEST_CASE("a finalize that failed is followed by a look at the order, never sent blindly")
    {
        const auto base = happy_path();
        const auto finalize_step = static_cast<std::ptrdiff_t>(6);
        REQUIRE(base[6].url == "https://ca.test/order/1/finalize");
        const exchange lost{
            "https://ca.test/order/1/finalize", make_error_code(net::errc::connection_closed)};
        const std::string not_ready =
            R"({"type":"urn:ietf:params:acme:error:orderNotReady","detail":"order is processing"})";
        const auto count_finalizes = [](const run_result& r) {
            return std::count(
                r.requested.begin(), r.requested.end(), "https://ca.test/order/1/finalize"
            );
        };

        SUBCASE("the CA took the first one: the order is processing, so poll")
        {
            auto script = base;
            script.erase(script.begin() + finalize_step);
            script.insert(script.begin() + finalize_step, lost);
            script.insert(
                script.begin() + finalize_step + 1,
                exchange{"https://ca.test/order/1", reply(200, order_json("processing"))}
            );
            const auto result = run(two_names(), script);
            REQUIRE(result.ended);
            CHECK(result.ended->has_value());
            CHECK(count_finalizes(result) == 1);
        }
        SUBCASE("a re-sent finalize answered orderNotReady (RFC 8555 7.4): fetch the order, go on")
        {
            auto script = base;
            script.erase(script.begin() + finalize_step);
            const std::vector<exchange> middle{
                {"https://ca.test/order/1/finalize",
                 reply(503, R"({"type":"urn:ietf:params:acme:error:serverInternal"})")},
                {"https://ca.test/order/1", reply(200, order_json("ready"))},
                {"https://ca.test/order/1/finalize", reply(403, not_ready)},
                {"https://ca.test/order/1", reply(200, order_json("processing"))},
            };
            script.insert(script.begin() + finalize_step, middle.begin(), middle.end());
            const auto result = run(two_names(), script);
            REQUIRE(result.ended);
            CHECK_MESSAGE(
                result.ended->has_value(), (*result.ended ? "" : result.ended->error().message())
            );
            CHECK(count_finalizes(result) == 2);
            CHECK(result.requested.size() == script.size());
        }
        SUBCASE("orderNotReady while the order stays ready: a bounded number of finalizes")
        {
            auto script = base;
            script.resize(static_cast<std::size_t>(finalize_step));
            for (int i = 0; i < 20; ++i) {
                script.push_back({"https://ca.test/order/1/finalize", reply(403, not_ready)});
                script.push_back({"https://ca.test/order/1", reply(200, order_json("ready"))});
            }
            const auto result = run(two_names(), script);
            REQUIRE(result.ended);
            REQUIRE_FALSE(result.ended->has_value());
            CHECK(result.ended->error().code == errc::unexpected_status);
            CHECK(count_finalizes(result) == test_options().max_transient_retries + 1);
        }
    }

    TEST_CASE("retries back off exponentially up to a cap and stop at the order's deadline")
    {
        auto script = happy_path();
        script.resize(1);
        for (int i = 0; i < 100; ++i) {
            script.push_back({"https://ca.test/authz/1", reply(500, "oops")});
        }
        auto options = test_options();
        options.max_transient_retries = 1000;
        options.first_retry_delay = 500ms;
        options.max_retry_delay = 8s;
        auto request = two_names();
        request.timeout = 60s;
        std::vector<std::chrono::milliseconds> waits;
        clock_time now{std::chrono::seconds(1'700'000'000)};
        const auto result = run(
            request, script,
            [&](const action& a) {
                if (const auto* w = std::get_if<wait_until>(&a)) {
                    waits.push_back(
                        std::chrono::duration_cast<std::chrono::milliseconds>(w->at - now)
                    );
                    now = w->at;
                }
            },
            true, options
        );
        REQUIRE(result.ended);
        REQUIRE_FALSE(result.ended->has_value());
        CHECK(result.ended->error().code == errc::problem);
        CHECK(result.ended->error().context.find("deadline") != std::string::npos);
        const std::vector<std::chrono::milliseconds> expected{500ms, 1s, 2s, 4s, 8s,
                                                              8s,    8s, 8s, 8s, 8s};
        CHECK(waits == expected); // 0.5+1+2+4+6×8 = 55.5 s; the next 8 s would pass 60 s
        CHECK(result.end - clock_time{std::chrono::seconds(1'700'000'000)} <= 60s);
    }

    TEST_CASE("retries stop after max_transient_retries in a row with the last failure's code")
    {
        auto script = happy_path();
        script.resize(1);
        for (int i = 0; i < 10; ++i) {
            script.push_back({"https://ca.test/authz/1", make_error_code(errc::bad_nonce_exhausted)}
            );
        }
        const auto result = run(two_names(), script);
        REQUIRE(result.ended);
        REQUIRE_FALSE(result.ended->has_value());
        CHECK(result.ended->error().code == errc::bad_nonce_exhausted);
        CHECK(result.ended->error().context.find("after 3 retries") != std::string::npos);
        CHECK(result.requested.size() == 1 + 4); // newOrder, then the first try and 3 retries
    }

    TEST_CASE("a 409 to replaces of another type: the order is sent again without it (RFC 9773 5)")
    {
        const auto conflict = reply(
            409, R"({"type":"urn:ietf:params:acme:error:malformed","detail":"already replaced"})"
        );
        int with_replaces = 0;
        const auto count = [&](const action& a) {
            if (const auto* s = std::get_if<send_request>(&a);
                s && s->payload && s->payload->contains("replaces")) {
                ++with_replaces;
            }
        };
        SUBCASE("with replaces")
        {
            auto script = happy_path();
            script.insert(script.begin(), exchange{"https://ca.test/new-order", conflict});
            auto r = two_names();
            r.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
            const auto result = run(r, script, count);
            REQUIRE(result.ended);
            CHECK(result.ended->has_value());
            CHECK(with_replaces == 1);
            CHECK(result.requested.size() == script.size());
        }
        SUBCASE("a 409 without replaces is the CA's answer, not retried")
        {
            auto script = happy_path();
            script.insert(script.begin(), exchange{"https://ca.test/new-order", conflict});
            const auto result = run(two_names(), script, count);
            REQUIRE(result.ended);
            REQUIRE_FALSE(result.ended->has_value());
            CHECK(result.ended->error().code == errc::problem);
            CHECK(result.requested.size() == 1);
        }
        SUBCASE("refused again without replaces: the CA's answer")
        {
            auto script = happy_path();
            script.insert(script.begin(), 2, exchange{"https://ca.test/new-order", conflict});
            auto r = two_names();
            r.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
            const auto result = run(r, script, count);
            REQUIRE(result.ended);
            REQUIRE_FALSE(result.ended->has_value());
            CHECK(result.requested.size() == 2);
            CHECK(with_replaces == 1);
        }
    }

    TEST_CASE("a challenge answered again after a failure in transit may be refused: go on polling")
    {
        auto script = happy_path();
        REQUIRE(script[3].url == "https://ca.test/chall/www.example.com");
        const std::vector<exchange> middle{
            {"https://ca.test/chall/www.example.com",
             make_error_code(net::errc::connection_closed)},
            {"https://ca.test/chall/www.example.com",
             reply(
                 400,
                 R"({"type":"urn:ietf:params:acme:error:malformed","detail":"challenge is not pending"})"
             )},
        };
        script.erase(script.begin() + 3);
        script.insert(script.begin() + 3, middle.begin(), middle.end());
        const auto result = run(two_names(), script);
        REQUIRE(result.ended);
        CHECK_MESSAGE(
            result.ended->has_value(), (*result.ended ? "" : result.ended->error().message())
        );
        CHECK(result.requested.size() == script.size());

        SUBCASE("refused at the first answer: the CA's answer, not retried")
        {
            auto first = happy_path();
            first[3].answer = std::get<net::http_response>(middle[1].answer);
            first.resize(4);
            const auto refused = run(two_names(), first);
            REQUIRE(refused.ended);
            REQUIRE_FALSE(refused.ended->has_value());
            CHECK(refused.ended->error().code == errc::problem);
            CHECK(refused.board.empty());
        }
    }

    TEST_CASE("an order pending again after finalize fails instead of polling to its deadline")
    {
        auto script = happy_path();
        script.resize(6);
        script.push_back(
            {"https://ca.test/order/1/finalize",
             reply(403, R"({"type":"urn:ietf:params:acme:error:orderNotReady"})")}
        );
        script.push_back({"https://ca.test/order/1", reply(200, order_json("pending"))});
        const auto result = run(two_names(), script);
        REQUIRE(result.ended);
        REQUIRE_FALSE(result.ended->has_value());
        CHECK(result.ended->error().code == errc::unexpected_status);
        CHECK(result.requested.size() == script.size());
    }
}
