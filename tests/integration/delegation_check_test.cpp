// dns::check_delegation (c-ares) and `certfleet domain check` against a real provider's DNS
// (NSD serving customer.test): a correct CNAME, a missing one, a wrong one, a TXT where the CNAME
// should be, chains, a loop, and a resolver that does not answer.

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "dns/delegation_checker.hpp"
#include "support/rig.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_dns_servers.hpp"
#include "support/rig_net.hpp"
#include "support/rig_provider_dns.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
using dns::delegation_status;

namespace {

// customer.test below its SOA, NS and glue (provider_zone).
constexpr std::string_view customer_records = R"zone(; correct
_acme-challenge.www         IN CNAME x1.acme.delegated.test.
; missing: nothing at _acme-challenge.api
api                         IN A   192.0.2.1
; wrong target
_acme-challenge.shop        IN CNAME elsewhere.example.test.
; a TXT where the CNAME should be
_acme-challenge.txt         IN TXT "not-a-cname"
; a chain that reaches the target, and one that ends elsewhere
_acme-challenge.chain       IN CNAME hop.customer.test.
hop                         IN CNAME x1.acme.delegated.test.
_acme-challenge.stale       IN CNAME hop2.customer.test.
hop2                        IN CNAME gone.customer.test.
; a loop
_acme-challenge.loop        IN CNAME loop1.customer.test.
loop1                       IN CNAME _acme-challenge.loop.customer.test.
)zone";

constexpr std::string_view expected_target = "x1.acme.delegated.test";

dns::delegation_report check(std::string_view name, const std::string& resolver)
{
    return dns::check_delegation({
        .name = std::string(name),
        .expected_target = std::string(expected_target),
        .resolvers = {resolver},
        .timeout = 1000ms,
        .tries = 1,
    });
}

std::string lowered(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return s;
}

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

// The provider's server alone (NSD); a test that needs a recursive resolver starts it.
struct customer_dns : provider_dns
{
    customer_dns()
        : provider_dns(
              "certfleet-delegation",
              {{"customer.test", provider_zone("customer.test", customer_records)}}
          )
    {}
};

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("delegation check: correct, missing, wrong and chained CNAMEs, asked of the "
              "provider's server")
    {
        customer_dns customer;
        const auto resolver = customer.nsd.address();

        SUBCASE("correct")
        {
            for (const std::string name :
                 {"www.customer.test", "WWW.Customer.Test.", "*.www.customer.test"}) {
                INFO("name: ", name);
                const auto r = check(name, resolver);
                INFO(r.detail);
                CHECK(r.status == delegation_status::correct);
                // The report keeps the letter case it was given.
                CHECK(lowered(r.challenge_name) == "_acme-challenge.www.customer.test.");
                CHECK(r.expected_target == "x1.acme.delegated.test.");
                CHECK(r.chain == std::vector<std::string>{"x1.acme.delegated.test."});
                CHECK(contains(r.detail, "reaches x1.acme.delegated.test."));
            }
        }
        SUBCASE("correct through a chain")
        {
            const auto r = check("chain.customer.test", resolver);
            INFO(r.detail);
            CHECK(r.status == delegation_status::correct);
            CHECK(
                r.chain == std::vector<std::string>{"hop.customer.test.", "x1.acme.delegated.test."}
            );
        }
        SUBCASE("missing: no such name")
        {
            const auto r = check("api.customer.test", resolver);
            INFO(r.detail);
            CHECK(r.status == delegation_status::missing);
            CHECK(r.chain.empty());
            CHECK(contains(r.detail, "no such name"));
            // It says exactly which record to add, and where.
            CHECK(contains(
                r.detail, "add `_acme-challenge.api.customer.test. CNAME x1.acme.delegated.test.`"
            ));
            CHECK(contains(r.detail, "DNS provider of api.customer.test"));
        }
        SUBCASE("missing: a TXT but no CNAME")
        {
            const auto r = check("txt.customer.test", resolver);
            INFO(r.detail);
            CHECK(r.status == delegation_status::missing);
            CHECK(r.chain.empty());
            CHECK(contains(r.detail, "has no CNAME"));
            CHECK(contains(
                r.detail, "add `_acme-challenge.txt.customer.test. CNAME x1.acme.delegated.test.`"
            ));
        }
        SUBCASE("a chain that ends elsewhere")
        {
            const auto r = check("stale.customer.test", resolver);
            INFO(r.detail);
            CHECK(r.status == delegation_status::points_elsewhere);
            CHECK(
                r.chain == std::vector<std::string>{"hop2.customer.test.", "gone.customer.test."}
            );
            CHECK(contains(r.detail, "ends at gone.customer.test."));
            CHECK(contains(
                r.detail, "point _acme-challenge.stale.customer.test. at x1.acme.delegated.test."
            ));
        }
        SUBCASE("a loop")
        {
            const auto r = check("loop.customer.test", resolver);
            INFO(r.detail);
            CHECK(r.status == delegation_status::points_elsewhere);
            CHECK(contains(r.detail, "loops"));
        }
    }

    TEST_CASE("delegation check: a CNAME to another target is points_elsewhere, naming that target")
    {
        // _acme-challenge.shop → elsewhere.example.test. The provider's server (NSD) answers the
        // first hop and REFUSES the next one (example.test is not its zone); a recursive resolver
        // answers NXDOMAIN for it. Either way the CNAME is wrong and the report must say where
        // it points, not that the resolver is unreachable.
        customer_dns customer;
        const auto unbound = customer.start_resolver();
        for (const auto& [via, resolver] : {
                 std::pair{std::string("a recursive resolver"), unbound.address()},
                 std::pair{std::string("the provider's server"), customer.nsd.address()},
             }) {
            INFO("asking ", via);
            const auto r = check("shop.customer.test", resolver);
            INFO(r.detail);
            CHECK(r.status == delegation_status::points_elsewhere);
            CHECK(r.chain == std::vector<std::string>{"elsewhere.example.test."});
            CHECK(contains(r.detail, "elsewhere.example.test."));
            CHECK(contains(r.detail, "x1.acme.delegated.test."));
        }
    }

    TEST_CASE("delegation check: lookup_failed naming SERVFAIL when the name's DNS does not answer")
    {
        // broken.test is a lame delegation: its stub server (NSD) does not serve it and REFUSES,
        // so the recursive resolver answers SERVFAIL, which the report must name.
        customer_dns customer;
        const auto unbound = customer.start_resolver({{"broken.test", {customer.nsd.port()}}});
        const auto r = check("www.broken.test", unbound.address());
        INFO(r.detail);
        CHECK(r.status == delegation_status::lookup_failed);
        CHECK(r.chain.empty());
        CHECK(contains(r.detail, "SERVFAIL"));
        CHECK(contains(r.detail, "_acme-challenge.www.broken.test"));
    }

    TEST_CASE("delegation check: lookup_failed when nothing answers")
    {
        const auto port = free_port(); // nothing listens there
        const auto start = std::chrono::steady_clock::now();
        const auto r = dns::check_delegation({
            .name = "www.customer.test",
            .expected_target = std::string(expected_target),
            .resolvers = {loopback(port)},
            .timeout = 300ms,
            .tries = 1,
        });
        const auto took = std::chrono::steady_clock::now() - start;
        INFO(r.detail);
        CHECK(r.status == delegation_status::lookup_failed);
        CHECK(r.chain.empty());
        CHECK(contains(r.detail, "failed"));
        CHECK(took < 3s);

        const auto bad = dns::check_delegation({
            .name = "www.customer.test",
            .expected_target = std::string(expected_target),
            .resolvers = {"not a resolver"},
            .timeout = 300ms,
            .tries = 1,
        });
        CHECK(bad.status == delegation_status::lookup_failed);
        CHECK(contains(bad.detail, "invalid resolver address"));
    }

    TEST_CASE("delegation check: `certfleet domain check --json` exits 0 when correct, 1 otherwise")
    {
        customer_dns customer;
        auto domain_check = [&](std::string_view name) {
            return run_certfleet({
                "domain",
                "check",
                std::string(name),
                "--expect",
                std::string(expected_target),
                "--resolver",
                customer.nsd.address(),
                "--timeout-ms",
                "1000",
                "--json",
            });
        };

        auto r = domain_check("www.customer.test");
        INFO(r.out, r.err);
        CHECK(r.exit_code == 0);
        auto json = nlohmann::json::parse(r.out, nullptr, false);
        REQUIRE_FALSE(json.is_discarded());
        CHECK(json["status"] == "correct");
        CHECK(json["name"] == "www.customer.test");
        CHECK(json["challenge_name"] == "_acme-challenge.www.customer.test.");
        CHECK(json["expected"] == "x1.acme.delegated.test.");
        CHECK(json["chain"] == nlohmann::json::array({"x1.acme.delegated.test."}));

        r = domain_check("shop.customer.test");
        INFO(r.out, r.err);
        CHECK(r.exit_code == 1);
        json = nlohmann::json::parse(r.out, nullptr, false);
        REQUIRE_FALSE(json.is_discarded());
        CHECK(json["status"] != "correct");

        r = domain_check("stale.customer.test");
        CHECK(r.exit_code == 1);
        json = nlohmann::json::parse(r.out, nullptr, false);
        REQUIRE_FALSE(json.is_discarded());
        CHECK(json["status"] == "points_elsewhere");

        r = domain_check("api.customer.test");
        CHECK(r.exit_code == 1);
        json = nlohmann::json::parse(r.out, nullptr, false);
        REQUIRE_FALSE(json.is_discarded());
        CHECK(json["status"] == "missing");
    }
}
