// POST /update: authentication as acme-dns does it, the values served, their limit and expiry.
#include <doctest/doctest.h>

#include "core/errc.hpp"
#include "dns/acmedns_api.hpp"
#include "unit/dns/acmedns_fixture.hpp"

namespace certfleet::dns::test {
namespace {

std::string error_body(std::string_view code)
{
    return "{\"error\": \"" + std::string(code) + "\"}";
}

request_options with_credentials(const credentials& c, std::string body)
{
    return {
        .body = std::move(body),
        .headers = {{"X-Api-User", c.username}, {"X-Api-Key", c.password}}};
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("acme-dns: an update is served at once and answered with its value")
    {
        acmedns_fixture f;
        const auto c = f.register_account();
        const auto r = f.update(c, txt_a);
        CHECK(r.status == 200);
        CHECK(r.content_type == "application/json");
        CHECK(r.body == "{\"txt\": \"" + txt_a + "\"}");
        CHECK(f.serves(c, txt_a));
        CHECK(f.api->stats().updates_ok == 1);
        const auto values = f.store->acmedns_values().value();
        REQUIRE(values.size() == 1);
        CHECK(values[0].expires_at == t0 + 1h);

        // goacmedns's field names, an upper-case user, and a proxy's Basic auth: all fine.
        auto upper = c.username;
        for (auto& ch : upper) {
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        const auto goacmedns = f.call(
            "/update", {.body = nlohmann::json{{"SubDomain", c.subdomain}, {"Txt", txt_b}}.dump(),
                        .headers =
                            {{"X-Api-User", upper},
                             {"X-Api-Key", c.password},
                             {"Authorization", "Basic dXNlcjpwYXNz"}}}
        );
        CHECK(goacmedns.status == 200);
        CHECK(f.serves(c, txt_a));
        CHECK(f.serves(c, txt_b)); // acme-dns keeps two; so do we, and more
        for (const auto& line : f.log) {
            CHECK(line.find(c.password) == std::string::npos);
        }
    }

    TEST_CASE("acme-dns: every refused caller gets 401 forbidden, the log names the reason")
    {
        acmedns_fixture f;
        const auto c = f.register_account();
        const auto other = f.register_account();
        const auto body = nlohmann::json{{"subdomain", c.subdomain}, {"txt", txt_a}}.dump();
        auto wrong_key = c.password;
        wrong_key[0] = wrong_key[0] == 'A' ? 'B' : 'A';
        const std::string stranger = "0b3ae2c1-8d4f-4a8e-9d3c-3f1e2a4b5c6d";
        const struct
        {
            request_options request;
            std::string reason;
        } cases[] = {
            {{.body = body, .headers = {{"X-Api-Key", c.password}}}, "X-Api-User is missing"},
            {{.body = body, .headers = {{"X-Api-User", "admin"}, {"X-Api-Key", c.password}}},
             "X-Api-User is missing or not a UUID"},
            {{.body = body, .headers = {{"X-Api-User", c.username}}}, "missing or malformed"},
            {{.body = body, .headers = {{"X-Api-User", c.username}, {"X-Api-Key", "short"}}},
             "missing or malformed"},
            {{.body = body, .headers = {{"X-Api-User", stranger}, {"X-Api-Key", c.password}}},
             "unknown user " + stranger},
            {{.body = body, .headers = {{"X-Api-User", c.username}, {"X-Api-Key", wrong_key}}},
             "wrong key for user " + c.username},
            {with_credentials(other, body), "subdomain mismatch for user " + other.username},
            {with_credentials(c, R"({"txt": ")" + txt_a + "\"}"), "subdomain mismatch"},
            {with_credentials(c, "{not json"), "(the body is not a JSON object)"},
            {with_credentials(c, std::string(60'000, '{')), "(the body is not a JSON object)"},
            {with_credentials(c, R"({"subdomain": 5, "txt": ")" + txt_a + "\"}"),
             "subdomain mismatch"},
        };
        for (const auto& k : cases) {
            INFO(k.reason);
            f.log.clear();
            const auto r = f.call("/update", k.request);
            CHECK(r.status == 401);
            CHECK(r.body == error_body("forbidden"));
            CHECK(f.logged(k.reason));
            CHECK_FALSE(f.logged(c.password));
            CHECK_FALSE(f.logged(wrong_key));
        }
        CHECK(f.api->stats().updates_forbidden == std::size(cases));
        CHECK(f.api->stats().updates_ok == 0);
        CHECK(f.board->records.empty());
    }

    TEST_CASE("acme-dns: a subdomain that is no label is bad_subdomain, a bad value bad_txt")
    {
        acmedns_fixture f;
        const auto c = f.register_account();
        const auto bad_subdomain = f.call(
            "/update", with_credentials(
                           c, nlohmann::json{{"subdomain", "not a label!"}, {"txt", txt_a}}.dump()
                       )
        );
        CHECK(bad_subdomain.status == 400);
        CHECK(bad_subdomain.body == error_body("bad_subdomain"));
        for (const auto& txt : std::vector<nlohmann::json>{
                 nlohmann::json(txt_a.substr(1)), nlohmann::json(txt_a + "A"),
                 nlohmann::json(txt_a.substr(1) + "="), nlohmann::json(txt_a.substr(1) + "+"),
                 nlohmann::json(""), nlohmann::json(5), nlohmann::json(nullptr),
                 nlohmann::json(std::string(60'000, 'A'))}) {
            INFO(txt.dump().substr(0, 50));
            const auto r = f.call(
                "/update",
                with_credentials(c, nlohmann::json{{"subdomain", c.subdomain}, {"txt", txt}}.dump())
            );
            CHECK(r.status == 400);
            CHECK(r.body == error_body("bad_txt"));
        }
        CHECK(f.api->stats().updates_bad_request == 9);
        CHECK(f.board->records.empty());
        CHECK(f.store->acmedns_values().value().empty());
    }

    TEST_CASE("acme-dns: allowfrom is enforced on the TCP peer: IPv4, IPv6 and IPv4-mapped")
    {
        acmedns_fixture f;
        const auto c = f.register_account(R"({"allowfrom": ["192.0.2.0/24", "2001:db8::/32"]})");
        CHECK(f.update(c, txt_a, "192.0.2.9").status == 200);
        CHECK(f.update(c, txt_a, "::ffff:192.0.2.9").status == 200);
        CHECK(f.update(c, txt_a, "2001:db8::1").status == 200);
        CHECK(f.update(c, txt_a, "198.51.100.1").status == 401);
        CHECK(f.update(c, txt_a, "::1").status == 401);
        CHECK(f.logged("source not allowed for user " + c.username));

        const auto mapped = f.register_account(R"({"allowfrom": ["::ffff:192.0.2.0/120"]})");
        CHECK(f.update(mapped, txt_a, "192.0.2.200").status == 200);
        CHECK(f.update(mapped, txt_a, "192.0.3.1").status == 401);
    }

    TEST_CASE("acme-dns: a proxy header counts only when configured, and only its last address")
    {
        acmedns_fixture f;
        const auto c = f.register_account(R"({"allowfrom": ["192.0.2.0/24"]})");
        auto forwarded = [&](const std::string& value) {
            auto o = with_credentials(
                c, nlohmann::json{{"subdomain", c.subdomain}, {"txt", txt_a}}.dump()
            );
            o.headers.emplace_back("X-Forwarded-For", value);
            return f.call("/update", o).status;
        };
        CHECK(forwarded("192.0.2.1") == 401); // not trusted: the peer is 127.0.0.1

        auto o = acmedns_fixture::open_options();
        o.proxy_header = "X-Forwarded-For";
        f.start(o);
        CHECK(forwarded("192.0.2.1") == 200);
        CHECK(forwarded("203.0.113.5, 192.0.2.1") == 200);
        CHECK(forwarded("192.0.2.1, 203.0.113.5") == 401); // the client wrote the first one
        CHECK(forwarded("not an address") == 401);
        CHECK(f.call("/update", with_credentials(c, "{}")).status == 401); // no header at all
    }

    TEST_CASE("acme-dns: a registration keeps max_values values, the least recently updated go")
    {
        auto o = acmedns_fixture::open_options();
        o.max_values = 3;
        acmedns_fixture f(o);
        const auto c = f.register_account();
        std::vector<std::string> values;
        for (const char first : std::string("vwxyz")) {
            values.push_back(std::string(1, first) + std::string(42, 'Q'));
        }
        for (int i = 0; i < 3; ++i) {
            REQUIRE(f.update(c, values[static_cast<std::size_t>(i)]).status == 200);
        }
        REQUIRE(f.update(c, values[0]).status == 200); // refreshed: now the newest
        REQUIRE(f.update(c, values[3]).status == 200);
        CHECK(f.board->records.size() == 3);
        CHECK(f.serves(c, values[0]));
        CHECK_FALSE(f.serves(c, values[1]));
        CHECK(f.serves(c, values[2]));
        CHECK(f.serves(c, values[3]));
        CHECK(f.store->acmedns_values().value().size() == 3);
    }

    TEST_CASE("acme-dns: values expire, a restart serves the live ones, deletions leave the zone")
    {
        acmedns_fixture f;
        const auto c = f.register_account();
        const auto d = f.register_account();
        REQUIRE(f.update(c, txt_a).status == 200);
        f.now = t0 + 30min;
        REQUIRE(f.update(c, txt_b).status == 200);
        REQUIRE(f.update(d, txt_a).status == 200);

        f.now = t0 + 1h;
        CHECK(f.api->sync());
        CHECK_FALSE(f.serves(c, txt_a));
        CHECK(f.serves(c, txt_b));
        CHECK(f.api->stats().values_expired == 1);

        // A restart: a new board, filled again from the store.
        f.start(acmedns_fixture::open_options());
        CHECK(f.board->records.empty());
        CHECK(f.api->sync());
        CHECK(f.serves(c, txt_b));
        CHECK(f.serves(d, txt_a));

        // Deleted by another process (the CLI): gone from the zone at the next sync.
        REQUIRE(f.store->remove_acmedns_registration(d.username).has_value());
        CHECK(f.api->sync());
        CHECK_FALSE(f.serves(d, txt_a));
        // Deleted through the API object: gone at once.
        REQUIRE(f.api->remove(c.username).has_value());
        CHECK(f.board->records.empty());
        CHECK(f.api->remove(c.username).error() == core::errc::not_found);
        CHECK(f.update(c, txt_a).status == 401);
    }
}

} // namespace certfleet::dns::test
