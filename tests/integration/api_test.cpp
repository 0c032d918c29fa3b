// The HTTPS API of `certfleet serve`, through real HTTPS with the self-signed certificate pinned:
// every documented route against every kind of token, hostile input, the OpenAPI document
// (validated by an OpenAPI validator from npm), and the remote CLI against the local one.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "support/backend_rig.hpp"
#include "support/rig_certfleet.hpp"

namespace certfleet::test {
namespace {
namespace http = boost::beast::http;

http::verb verb_of(const std::string& method)
{
    return http::string_to_verb(
        method == "get"      ? "GET"
        : method == "post"   ? "POST"
        : method == "delete" ? "DELETE"
                             : "PUT"
    );
}

// The documented path with its parameters filled in.
std::string concrete(std::string path)
{
    for (const auto& [param, value] : std::vector<std::pair<std::string, std::string>>{
             {"{id}", "1"},
             {"{name}", "www.customer.test"},
             {"{action}", "deploy-now"},
             {"{username}", "00000000-0000-4000-8000-000000000000"}}) {
        for (auto at = path.find(param); at != std::string::npos; at = path.find(param)) {
            path.replace(at, param.size(), value);
        }
    }
    return path;
}

std::string error_code(const api_reply& r)
{
    auto j = r.json();
    return j.is_object() && j.contains("error") ? j["error"].value("code", std::string())
                                                : std::string();
}

struct tokens
{
    std::string admin, read, renew, revoked;
};

tokens make_tokens(const backend_rig& rig)
{
    tokens t{
        rig.make_token("admin", "admin"), rig.make_token("reader", "read"),
        rig.make_token("ci", "renew"), rig.make_token("gone", "read")};
    REQUIRE(rig.certfleet({"token", "revoke", "gone"}).exit_code == 0);
    return t;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("api: every documented route refuses missing, wrong, revoked and under-scoped tokens")
    {
        // Hundreds of failures on purpose: the per-source throttle has its own test.
        backend_rig rig(
            {.domains = {{"www.customer.test", "www"}},
             .api = true,
             .api_config = "failed_auth_burst = 100000"}
        );
        const auto t = make_tokens(rig);
        REQUIRE(rig.certfleet({"cert", "add", "--name", "www.customer.test"}).exit_code == 0);
        rig.start_serve();

        const auto doc_reply = rig.api(http::verb::get, "/api/v1/openapi.json", "");
        REQUIRE(doc_reply.status == 200);
        const auto doc = doc_reply.json();
        REQUIRE(doc.is_object());
        std::size_t operations = 0;
        for (const auto& [path, methods] : doc["paths"].items()) {
            for (const auto& [method, op] : methods.items()) {
                ++operations;
                const auto target = concrete(path);
                const auto verb = verb_of(method);
                const bool secured = !op["security"].empty() && !op["security"][0].empty();
                CAPTURE(method);
                CAPTURE(path);
                if (!secured) {
                    // The agent protocol is authenticated by the agent's own signature (or, to
                    // enroll, a join token) in the body: an empty body is a bad request there.
                    const bool agent_protocol = path.starts_with("/api/v1/agent/");
                    const auto r = rig.api(verb, target, "");
                    CHECK(r.status == (agent_protocol ? 400u : 200u));
                    continue;
                }
                for (const auto* token : {"", "cft_wrong", t.revoked.c_str()}) {
                    const auto r = rig.api(verb, target, token, "{}");
                    CHECK(r.status == 401);
                    CHECK(error_code(r) == "unauthorized");
                    CHECK(r.header("WWW-Authenticate").starts_with("Bearer"));
                }
                const bool admin_only =
                    method != "get" && path.find("/renew") == std::string::npos &&
                    path != "/api/v1/renewals" && path != "/api/v1/domain-checks";
                const bool needs_admin =
                    path.starts_with("/api/v1/tokens") || path.starts_with("/api/v1/acmedns");
                if (admin_only || needs_admin) {
                    const auto r = rig.api(verb, target, t.renew, "{}");
                    CHECK(r.status == 403);
                    CHECK(error_code(r) == "forbidden");
                }
                if (method != "get") {
                    const auto r = rig.api(verb, target, t.read, "{}");
                    CHECK(r.status == 403);
                }
                if (method == "get") {
                    // Every documented path is served: a read (or admin) token gets an answer
                    // that is neither 404 nor 405.
                    const auto r = rig.api(verb, target, needs_admin ? t.admin : t.read);
                    // A registration or an agent that does not exist are the 404s a served path
                    // may give.
                    const bool absent = path.find("{username}") != std::string::npos ||
                                        path.starts_with("/api/v1/agents/{name}");
                    CHECK_MESSAGE(r.status == (absent ? 404u : 200u), r.body);
                    if (absent) {
                        CHECK(error_code(r) == "not_found");
                    }
                }
            }
        }
        CHECK(operations >= 20);
        // Paths not in the document are not served, and a documented one with another method is
        // 405.
        CHECK(rig.api(http::verb::get, "/api/v1/nothing-here", t.admin).status == 404);
        const auto wrong_method = rig.api(http::verb::put, "/api/v1/certificates", t.admin, "{}");
        CHECK(wrong_method.status == 405);
        CHECK(wrong_method.header("Allow").find("GET") != std::string::npos);
        // Nothing was changed by all of that.
        CHECK(rig.certfleet_json({"domain", "list"}).size() == 1);
        CHECK(rig.certfleet_json({"cert", "list"}).size() == 1);
        // No secret ever reaches the log.
        const auto log = read_text_file(rig.dir().path() / "certfleet" / "serve.log");
        for (const auto& secret : {t.admin, t.read, t.renew, t.revoked}) {
            CHECK(log.find(secret) == std::string::npos);
        }
    }

    TEST_CASE("api: the OpenAPI document validates and documents what is served")
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}}, .api = true});
        rig.start_serve();
        const auto doc_reply = rig.api(http::verb::get, "/api/v1/openapi.json", "");
        REQUIRE(doc_reply.status == 200);
        const auto file = rig.dir().write("openapi.json", doc_reply.body);
        const auto validator =
            std::filesystem::path(CERTFLEET_SOURCE_DIR) / "tests/tools/validate-openapi.mjs";
        const auto r = run({"node", validator.string(), file.string()});
        CHECK_MESSAGE(r.exit_code == 0, (r.out + r.err));
        CHECK(r.out.find("valid 3.1") != std::string::npos);
        const auto doc = doc_reply.json();
        CHECK(doc["openapi"] == "3.1.0");
        for (const char* path :
             {"/healthz", "/metrics", "/api/v1/certificates", "/api/v1/certificates/{id}/chain",
              "/api/v1/events", "/api/v1/domains", "/api/v1/renewals", "/api/v1/tokens"}) {
            CHECK_MESSAGE(doc["paths"].contains(path), path);
        }
    }

    TEST_CASE("api: hostile input gets clear errors, changes nothing, and the server keeps serving")
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}}, .api = true});
        const auto admin = rig.make_token("admin", "admin");
        rig.start_serve();
        using v = http::verb;
        const auto before = rig.certfleet_json({"domain", "list"});

        auto r = rig.api(v::post, "/api/v1/domains", admin, "{\"name\": ");
        CHECK(r.status == 400);
        CHECK(error_code(r) == "invalid_request");
        r = rig.api(v::post, "/api/v1/domains", admin, "{\"name\": 5}");
        CHECK(r.status == 400);
        r = rig.api(v::post, "/api/v1/domains", admin, "[\"a\"]");
        CHECK(r.status == 400);
        r = rig.api(v::post, "/api/v1/domains", admin, "{\"name\": \"bad..name\"}");
        CHECK(r.status == 400);
        r = rig.api(v::post, "/api/v1/certificates", admin, "{\"names\": \"www.customer.test\"}");
        CHECK(r.status == 400);
        r = rig.api(v::post, "/api/v1/certificates", admin, "{\"names\": [\"other.example\"]}");
        CHECK(r.status == 422);
        CHECK(error_code(r) == "domain_not_managed");
        r = rig.api(v::post, "/api/v1/renewals", admin, "{\"ids\": [\"x\"]}");
        CHECK(r.status == 400);
        r = rig.api(v::get, "/api/v1/certificates/abc", admin);
        CHECK(r.status == 400);
        r = rig.api(v::get, "/api/v1/certificates/99", admin);
        CHECK(r.status == 404);
        r = rig.api(v::get, "/api/v1/events?limit=100000", admin);
        CHECK(r.status == 400);
        r = rig.api(
            v::post, "/api/v1/domains", admin,
            "{\"name\": \"" + std::string(2 * 1024 * 1024, 'a') + "\"}"
        );
        CHECK((r.status == 413 || r.status == 0)); // refused before the body is read
        r = rig.api(
            v::get, "/api/v1/status", admin, "", {{"X-Padding", std::string(64 * 1024, 'p')}}
        );
        CHECK((r.status == 431 || r.status == 0));
        CHECK(rig.certfleet_json({"domain", "list"}) == before);
        CHECK(rig.api(v::get, "/healthz", "").status == 200);
    }

    TEST_CASE("api: failed authentications are rate-limited per source address")
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}}, .api = true});
        const auto reader = rig.make_token("reader", "read");
        rig.start_serve();
        const auto url = rig.api_url() + "/api/v1/status";
        auto curl = [&](const std::string& from, const std::string& token) {
            const auto r = run(
                {"curl", "-sk", "--interface", from, "-o", "/dev/null", "-w", "%{http_code}", "-H",
                 "Authorization: Bearer " + token, url}
            );
            return r.out;
        };
        std::vector<std::string> codes;
        for (int i = 0; i < 12; ++i) {
            codes.push_back(curl("127.0.0.7", "cft_guess" + std::to_string(i)));
        }
        CHECK(codes.front() == "401");
        CHECK(codes.back() == "429");
        // While that source waits, even its right token is not looked at; others are unaffected.
        CHECK(curl("127.0.0.7", reader) == "429");
        CHECK(curl("127.0.0.8", reader) == "200");
        CHECK(rig.api(http::verb::get, "/api/v1/status", reader).status == 200);
    }

    TEST_CASE("api: the remote CLI prints what the local one prints, with the same exit codes")
    {
        backend_rig rig(
            {.domains = {{"www.customer.test", "www"}, {"api.customer.test", "api"}}, .api = true}
        );
        const auto ci = rig.make_token("ci", "renew");
        const auto admin = rig.make_token("admin", "admin");
        rig.start_serve();
        const std::vector<std::string> remote{
            "--server", rig.api_url(), "--token", admin, "--ca-fingerprint", rig.api_fingerprint()};
        auto with = [](std::vector<std::string> args, const std::vector<std::string>& extra) {
            args.insert(args.end(), extra.begin(), extra.end());
            return args;
        };
        // Added remotely, seen locally.
        REQUIRE(
            run_certfleet(with({"cert", "add", "--name", "www.customer.test"}, remote)).exit_code ==
            0
        );
        REQUIRE(rig.wait_all_valid(1, std::chrono::seconds(60)));
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"domain", "list"},
                 {"cert", "list"},
                 {"cert", "show", "1"},
                 {"status"},
                 {"token", "list"}}) {
            const auto local = rig.certfleet(args);
            const auto over_api = run_certfleet(with(args, remote));
            CAPTURE(args.front());
            CHECK(over_api.exit_code == local.exit_code);
            CHECK(over_api.out == local.out);
        }
        // Failures too: the same message and exit code.
        const auto local_missing = rig.certfleet({"cert", "show", "42"});
        const auto remote_missing = run_certfleet(with({"cert", "show", "42"}, remote));
        CHECK(remote_missing.exit_code == local_missing.exit_code);
        CHECK(remote_missing.err == local_missing.err);
        const auto local_bad = rig.certfleet({"domain", "add", "*.x.customer.test"});
        const auto remote_bad = run_certfleet(with({"domain", "add", "*.x.customer.test"}, remote));
        CHECK(remote_bad.exit_code == 2);
        CHECK(remote_bad.exit_code == local_bad.exit_code);

        // The CI sweep with a renew token: same JSON shape, JUnit and exit code as the local one.
        REQUIRE(rig.certfleet({"cert", "add", "--name", "api.customer.test"}).exit_code == 0);
        const auto junit_remote = rig.dir().path() / "remote.xml";
        const std::vector<std::string> as_ci{"--server", rig.api_url(),      "--token",
                                             ci,         "--ca-fingerprint", rig.api_fingerprint()};
        const auto swept = run_certfleet(
            with({"renew", "--all", "--json", "--junit", junit_remote.string()}, as_ci),
            {.timeout = std::chrono::seconds(120)}
        );
        CHECK_MESSAGE(swept.exit_code == 0, swept.err);
        const auto remote_report = nlohmann::json::parse(swept.out, nullptr, false);
        REQUIRE(remote_report.is_object());
        const auto junit_local = rig.dir().path() / "local.xml";
        const auto local =
            rig.certfleet({"renew", "--all", "--json", "--junit", junit_local.string()});
        CHECK(local.exit_code == 0);
        const auto local_report = nlohmann::json::parse(local.out, nullptr, false);
        REQUIRE(local_report.is_object());
        std::set<std::string> remote_keys, local_keys;
        for (const auto& [k, _] : remote_report.items()) {
            remote_keys.insert(k);
        }
        for (const auto& [k, _] : local_report.items()) {
            local_keys.insert(k);
        }
        CHECK(remote_keys == local_keys);
        CHECK(remote_report["results"].size() == 2);
        CHECK(std::filesystem::file_size(junit_remote) > 0);
        const auto junit_text = read_text_file(junit_remote);
        CHECK(junit_text.find("<testcase") != std::string::npos);
        // A read token may not renew: refused remotely with exit 1 and the reason.
        const auto reader = rig.make_token("reader", "read");
        const auto refused = run_certfleet(
            {"renew", "--all", "--server", rig.api_url(), "--token", reader, "--ca-fingerprint",
             rig.api_fingerprint()}
        );
        CHECK(refused.exit_code == 1);
        CHECK(refused.err.find("does not allow") != std::string::npos);
        // A wrong pin is refused before anything is sent.
        const auto unpinned = run_certfleet(
            {"status", "--server", rig.api_url(), "--token", admin, "--ca-fingerprint",
             std::string(64, '0')}
        );
        CHECK(unpinned.exit_code == 1);
        CHECK(unpinned.err.find("pinned") != std::string::npos);
    }

    TEST_CASE("api: tls = acme serves the API's own certificate, issued through our zone, after "
              "the self-signed one")
    {
        backend_rig rig(
            {.domains = {{"api.customer.test", "api"}},
             .api = true,
             .api_tls = "acme",
             .api_config = "name = \"api.customer.test\""}
        );
        rig.start_serve();
        auto served_serial = [&] {
            const auto r = run(
                {"sh", "-c",
                 "openssl s_client -connect " + rig.api_url().substr(8) +
                     " </dev/null 2>/dev/null | openssl x509 -noout -serial"}
            );
            return r.out;
        };
        // The certificate was added by the server itself and is issued like any other.
        REQUIRE(rig.wait_all_valid(1, std::chrono::seconds(60)));
        const auto show = rig.certfleet_json({"cert", "show", "1"});
        CHECK(show["names"] == nlohmann::json::array({"api.customer.test"}));
        std::string serial = show["serial"].get<std::string>();
        std::transform(serial.begin(), serial.end(), serial.begin(), [](unsigned char c) {
            return std::toupper(c);
        });
        bool switched = false;
        for (int i = 0; i < 50 && !switched; ++i) {
            switched = served_serial().find(serial) != std::string::npos;
            if (!switched) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
        CHECK_MESSAGE(switched, served_serial());
        // And after a restart it is served from the store at once.
        rig.start_serve();
        CHECK(served_serial().find(serial) != std::string::npos);
    }

    TEST_CASE("api: lists page by cursor, events filter by certificate and time, the chain comes "
              "without the key")
    {
        backend_rig rig(
            {.domains = {{"www.customer.test", "www"}, {"api.customer.test", "api"}}, .api = true}
        );
        const auto admin = rig.make_token("admin", "admin");
        rig.start_serve();
        using v = http::verb;
        for (const char* name : {"www.customer.test", "api.customer.test"}) {
            const auto body = std::string("{\"names\": [\"") + name + "\"]}";
            REQUIRE(rig.api(v::post, "/api/v1/certificates", admin, body).status == 201);
        }
        REQUIRE(rig.wait_all_valid(2, std::chrono::seconds(60)));

        auto first = rig.api(v::get, "/api/v1/certificates?limit=1", admin).json();
        REQUIRE(first["items"].size() == 1);
        REQUIRE(first["next_cursor"].is_string());
        auto second =
            rig.api(
                   v::get,
                   "/api/v1/certificates?limit=1&cursor=" + first["next_cursor"].get<std::string>(),
                   admin
            )
                .json();
        REQUIRE(second["items"].size() == 1);
        CHECK(second["items"][0]["id"] != first["items"][0]["id"]);
        CHECK(second["next_cursor"].is_null());

        // Events: every page follows the last, and nothing is seen twice.
        std::set<long> seen;
        std::string cursor;
        for (int pages = 0; pages < 100; ++pages) {
            auto page =
                rig.api(
                       v::get,
                       "/api/v1/events?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), admin
                )
                    .json();
            for (const auto& e : page["items"]) {
                CHECK(seen.insert(e["id"].get<long>()).second);
            }
            if (page["next_cursor"].is_null()) {
                break;
            }
            cursor = page["next_cursor"].get<std::string>();
        }
        CHECK(seen.size() >= 4);
        const auto mine = rig.api(v::get, "/api/v1/events?certificate=2&limit=1000", admin).json();
        REQUIRE_FALSE(mine["items"].empty());
        for (const auto& e : mine["items"]) {
            CHECK(e["certificate_id"] == 2);
        }
        const auto future =
            rig.api(v::get, "/api/v1/events?since=2100-01-01T00:00:00Z", admin).json();
        CHECK(future["items"].empty());
        CHECK(rig.api(v::get, "/api/v1/events?since=yesterday", admin).status == 400);

        const auto chain = rig.api(v::get, "/api/v1/certificates/1/chain", admin);
        CHECK(chain.status == 200);
        CHECK(chain.header("Content-Type") == "application/pem-certificate-chain");
        CHECK(chain.body.find("BEGIN CERTIFICATE") != std::string::npos);
        CHECK(chain.body.find("PRIVATE KEY") == std::string::npos);
        const auto orders = rig.api(v::get, "/api/v1/certificates/1/orders", admin).json();
        REQUIRE(orders["items"].size() >= 1);
        CHECK(orders["items"].back()["state"] == "issued");
        const auto versions = rig.api(v::get, "/api/v1/certificates/1/versions", admin).json();
        CHECK(versions["items"].size() == 1);
    }
}

} // namespace certfleet::test
