#pragma once
// The acme-dns API over an in-memory store, a board that records what it serves, a clock the
// test moves and a log it reads.

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/sqlite_store.hpp"
#include "dns/acmedns_api.hpp"

namespace certfleet::dns::test {

using namespace std::chrono_literals;

inline const core::time_point t0 = core::time_point(std::chrono::seconds(1'800'000'000));
inline constexpr std::string_view zone = "acme.example.net";
inline constexpr std::string_view good_token = "register-token";
// 43 characters of base64url, as a DNS-01 value is.
inline const std::string txt_a = "a" + std::string(42, 'A');
inline const std::string txt_b = "b" + std::string(42, 'B');

class recording_board final : public core::challenge_board
{
public:
    boost::system::error_code
    present(std::string_view fqdn, std::string_view value, std::chrono::seconds) override
    {
        records.emplace(fqdn, value);
        return {};
    }
    void cleanup(std::string_view fqdn, std::string_view value) override
    {
        records.erase({std::string(fqdn), std::string(value)});
    }
    std::set<std::pair<std::string, std::string>> records;
};

struct request_options
{
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string peer = "127.0.0.1";
    boost::beast::http::verb method = boost::beast::http::verb::post;
};

struct credentials
{
    std::string username;
    std::string password;
    std::string subdomain;
    std::string fulldomain;
};

class acmedns_fixture
{
public:
    explicit acmedns_fixture(acmedns_options options = open_options())
        : store(core::open_sqlite_store(":memory:"))
    {
        start(std::move(options));
    }

    [[nodiscard]] static acmedns_options open_options()
    {
        acmedns_options o;
        o.zone = std::string(zone);
        o.registration = acmedns_registration_policy::open;
        return o;
    }

    // A new API over the same store and a new board: a restart.
    void start(acmedns_options options)
    {
        board = std::make_unique<recording_board>();
        api = std::make_unique<acmedns_api>(
            std::move(options),
            acmedns_ports{
                *store, *board, [this] { return now; },
                [](std::string_view token) { return token == good_token; },
                [this](acmedns_log_level, std::string_view line) { log.emplace_back(line); }}
        );
    }

    net::server_response call(std::string_view path, const request_options& o)
    {
        net::server_request r;
        r.method = o.method;
        r.path = std::string(path);
        r.target = r.path;
        r.body = o.body;
        r.headers = o.headers;
        r.peer = boost::asio::ip::make_address(o.peer);
        return api->handle(r);
    }

    credentials register_account(const std::string& body = "")
    {
        const auto r = call("/register", {.body = body});
        REQUIRE(r.status == 201);
        const auto j = nlohmann::json::parse(r.body);
        return {j["username"], j["password"], j["subdomain"], j["fulldomain"]};
    }

    net::server_response
    update(const credentials& c, const std::string& txt, const std::string& peer = "127.0.0.1")
    {
        const nlohmann::json body{{"subdomain", c.subdomain}, {"txt", txt}};
        return call(
            "/update", {.body = body.dump(),
                        .headers = {{"X-Api-User", c.username}, {"X-Api-Key", c.password}},
                        .peer = peer}
        );
    }

    [[nodiscard]] bool serves(const credentials& c, const std::string& txt) const
    {
        return board->records.contains({c.fulldomain, txt});
    }

    // True when some log line holds `text`.
    [[nodiscard]] bool logged(std::string_view text) const
    {
        for (const auto& line : log) {
            if (line.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

    std::unique_ptr<core::store> store;
    std::unique_ptr<recording_board> board;
    core::time_point now = t0;
    std::vector<std::string> log;
    std::unique_ptr<acmedns_api> api;
};

} // namespace certfleet::dns::test
