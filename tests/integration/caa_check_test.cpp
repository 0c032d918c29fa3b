// dns::check_caa and dns::check_caa_allows (c-ares) against a provider's DNS (NSD serving
// customer.test and plain.test) through a recursive resolver (unbound), as a CA looks CAA up:
// tree climbing to the closest CAA RRset, a name with its own set, an alias, wildcards,
// accounturi and validationmethods, a critical unknown property, no CAA anywhere, and lookups
// that fail.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "dns/caa_checker.hpp"
#include "support/rig.hpp"
#include "support/rig_dns_servers.hpp"
#include "support/rig_net.hpp"
#include "support/rig_provider_dns.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
using dns::caa_status;

namespace {

// customer.test below its SOA, NS and glue (provider_zone).
constexpr std::string_view customer_records =
    R"zone(; the apex's set applies to every name below without a set of its own
@           IN CAA 0 issue "pebble.test; validationmethods=dns-01"
@           IN CAA 0 iodef "mailto:security@customer.test"
www         IN A   192.0.2.1
deep.sub    IN A   192.0.2.2
; names with their own sets
other       IN CAA 0 issue "otherca.example"
bound       IN CAA 0 issue "pebble.test; accounturi=https://pebble.test/my-account/1"
crit        IN CAA 0 issue "pebble.test"
crit        IN CAA 128 tbs "Unknown"
wild        IN CAA 0 issue "pebble.test"
wild        IN CAA 0 issuewild ";"
http        IN CAA 0 issue "pebble.test; validationmethods=http-01"
; the set of an alias is its target's
alias       IN CNAME other.customer.test.
)zone";

// No CAA anywhere (and none at test., which unbound answers itself).
constexpr std::string_view plain_zone = R"zone($ORIGIN plain.test.
$TTL 1
@           IN SOA ns1.customer.test. hostmaster 1 3600 600 86400 1
@           IN NS  ns1.customer.test.
www         IN A   192.0.2.3
)zone";

constexpr std::string_view account = "https://pebble.test/my-account/1";

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

core::caa_request pebble_request()
{
    core::caa_request r;
    r.ca_domains = {"pebble.test"};
    r.account_uri = std::string(account);
    return r;
}

// The records in presentation form, sorted: an RRset has no order.
std::vector<std::string> texts(const std::vector<core::caa_record>& records)
{
    std::vector<std::string> out;
    for (const auto& r : records) {
        out.push_back(core::to_text(r));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// NSD as the customer's provider, unbound as the CA's resolver. broken.test is a lame
// delegation: its stub server (NSD) does not serve it and REFUSES, so unbound answers SERVFAIL.
struct customer_dns
{
    provider_dns provider{
        "certfleet-caa",
        {{"customer.test", provider_zone("customer.test", customer_records)},
         {"plain.test", std::string(plain_zone)}}};
    unbound_resolver unbound = provider.start_resolver({{"broken.test", {provider.nsd.port()}}});

    [[nodiscard]] dns::caa_check check(std::string_view name) const
    {
        return {
            .name = std::string(name),
            .resolvers = {unbound.address()},
            .timeout = 3000ms,
            .tries = 1,
        };
    }
};

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("caa check: the closest CAA RRset is found by climbing the name tree")
    {
        customer_dns dns_servers;
        const std::vector<std::string> apex_set = {
            R"(0 iodef "mailto:security@customer.test")",
            R"(0 issue "pebble.test; validationmethods=dns-01")",
        };

        SUBCASE("names without a set of their own get the apex's, and the apex its own")
        {
            for (const std::string name :
                 {"www.customer.test", "deep.sub.customer.test", "nothere.customer.test",
                  "WWW.Customer.Test.", "*.www.customer.test", "customer.test"}) {
                INFO("name: ", name);
                const auto r = dns::check_caa(dns_servers.check(name));
                INFO(r.detail);
                CHECK(r.status == caa_status::found);
                CHECK(r.owner == "customer.test.");
                CHECK(texts(r.records) == apex_set);
            }
            const auto r = dns::check_caa(dns_servers.check("deep.sub.customer.test"));
            CHECK(contains(r.detail, "closest parent of deep.sub.customer.test."));
        }
        SUBCASE("a name with its own set")
        {
            const auto r = dns::check_caa(dns_servers.check("other.customer.test"));
            INFO(r.detail);
            CHECK(r.status == caa_status::found);
            CHECK(r.owner == "other.customer.test.");
            CHECK(texts(r.records) == std::vector<std::string>{R"(0 issue "otherca.example")"});
            CHECK(contains(r.detail, R"(`0 issue "otherca.example"`)"));

            const auto crit = dns::check_caa(dns_servers.check("crit.customer.test"));
            CHECK(crit.owner == "crit.customer.test.");
            CHECK(
                texts(crit.records) ==
                std::vector<std::string>{R"(0 issue "pebble.test")", R"(128 tbs "Unknown")"}
            );
        }
        SUBCASE("a wildcard starts at the name below the star")
        {
            const auto r = dns::check_caa(dns_servers.check("*.wild.customer.test"));
            INFO(r.detail);
            CHECK(r.status == caa_status::found);
            CHECK(r.owner == "wild.customer.test.");
            CHECK(r.records.size() == 2);
        }
        SUBCASE("an alias has its target's set, found at the alias")
        {
            const auto r = dns::check_caa(dns_servers.check("alias.customer.test"));
            INFO(r.detail);
            CHECK(r.status == caa_status::found);
            CHECK(r.owner == "alias.customer.test.");
            CHECK(texts(r.records) == std::vector<std::string>{R"(0 issue "otherca.example")"});
            CHECK(contains(r.detail, "alias of other.customer.test."));
        }
        SUBCASE("no CAA anywhere")
        {
            for (const std::string name : {"www.plain.test", "plain.test", "missing.plain.test"}) {
                INFO("name: ", name);
                const auto r = dns::check_caa(dns_servers.check(name));
                INFO(r.detail);
                CHECK(r.status == caa_status::none);
                CHECK(r.owner.empty());
                CHECK(r.records.empty());
                CHECK(contains(r.detail, "no CAA records"));
            }
        }
    }

    TEST_CASE("caa check: verdicts for this CA, its account and dns-01")
    {
        customer_dns dns_servers;
        auto allows = [&](std::string_view name, const core::caa_request& request) {
            return dns::check_caa_allows(dns_servers.check(name), request);
        };
        const auto request = pebble_request();

        SUBCASE("allowed")
        {
            for (const std::string name :
                 {"www.customer.test", "*.www.customer.test", "bound.customer.test",
                  "wild.customer.test", "www.plain.test", "*.plain.test"}) {
                INFO("name: ", name);
                const auto v = allows(name, request);
                INFO(v.reason);
                CHECK(v.allowed);
                CHECK_FALSE(v.reason.empty());
            }
            CHECK(contains(allows("www.plain.test", request).reason, "no CAA records"));
            CHECK(contains(
                allows("www.customer.test", request).reason,
                R"(at customer.test.: CAA record `0 issue "pebble.test; validationmethods=dns-01"` authorizes)"
            ));
        }
        SUBCASE("another CA is named: refused, with the record and the fix")
        {
            for (const std::string name : {"other.customer.test", "alias.customer.test"}) {
                INFO("name: ", name);
                const auto v = allows(name, request);
                INFO(v.reason);
                CHECK_FALSE(v.allowed);
                CHECK(contains(v.reason, R"(`0 issue "otherca.example"`)"));
                CHECK(contains(v.reason, R"(add `0 issue "pebble.test"`)"));
                CHECK(contains(v.reason, "at " + name + ".:"));
            }
        }
        SUBCASE("another account")
        {
            auto stranger = request;
            stranger.account_uri = "https://pebble.test/my-account/2";
            const auto v = allows("bound.customer.test", stranger);
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, std::string(account)));
            CHECK(contains(v.reason, "https://pebble.test/my-account/2"));
        }
        SUBCASE("a critical unknown property")
        {
            const auto v = allows("crit.customer.test", request);
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, R"(`128 tbs "Unknown"`)"));
        }
        SUBCASE("issuewild forbids the wildcard only")
        {
            const auto v = allows("*.wild.customer.test", request);
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, R"(`0 issuewild ";"`)"));
            // The request's flag is not needed: the name says it is a wildcard.
            auto flagged = request;
            flagged.wildcard = true;
            CHECK_FALSE(allows("wild.customer.test", flagged).allowed);
        }
        SUBCASE("another validation method")
        {
            const auto v = allows("http.customer.test", request);
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, "http-01"));
        }
        SUBCASE("the CA's identities are not configured")
        {
            auto unconfigured = request;
            unconfigured.ca_domains.clear();
            const auto v = allows("www.customer.test", unconfigured);
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, "CAA identities"));
            CHECK(allows("www.plain.test", unconfigured).allowed);
        }
    }

    TEST_CASE("caa check: lookup_failed when the resolver or the name's DNS does not answer")
    {
        SUBCASE("no resolver listens")
        {
            const auto start = std::chrono::steady_clock::now();
            const dns::caa_check check{
                .name = "www.customer.test",
                .resolvers = {loopback(free_port())},
                .timeout = 300ms,
                .tries = 1,
            };
            const auto r = dns::check_caa(check);
            INFO(r.detail);
            CHECK(r.status == caa_status::lookup_failed);
            CHECK(r.records.empty());
            CHECK(contains(r.detail, "the CAA lookup of www.customer.test. failed"));
            CHECK(std::chrono::steady_clock::now() - start < 3s);

            const auto v = dns::check_caa_allows(check, pebble_request());
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, "failed"));
        }
        SUBCASE("a lame delegation: the resolver answers SERVFAIL")
        {
            customer_dns dns_servers;
            const auto start = std::chrono::steady_clock::now();
            const auto r = dns::check_caa(dns_servers.check("www.broken.test"));
            INFO(r.detail);
            CHECK(r.status == caa_status::lookup_failed);
            CHECK(contains(r.detail, "the CAA lookup of www.broken.test. failed"));
            // An answer, not the end of our patience.
            CHECK(contains(r.detail, "SERVFAIL"));
            CHECK(std::chrono::steady_clock::now() - start < 3s);
            CHECK_FALSE(
                dns::check_caa_allows(dns_servers.check("www.broken.test"), pebble_request())
                    .allowed
            );
        }
        SUBCASE("bad input")
        {
            const auto bad_resolver = dns::check_caa({
                .name = "www.customer.test",
                .resolvers = {"not a resolver"},
                .timeout = 300ms,
                .tries = 1,
            });
            CHECK(bad_resolver.status == caa_status::lookup_failed);
            CHECK(contains(bad_resolver.detail, "invalid resolver address"));

            const auto bad_name = dns::check_caa({.name = "a..b", .resolvers = {"127.0.0.1:9"}});
            CHECK(bad_name.status == caa_status::lookup_failed);
            CHECK(contains(bad_name.detail, "not a valid domain name"));
        }
    }
}
