// End to end, as a CA sees a DNS-01 challenge: the customer's zone (NSD) holds
// `_acme-challenge.www.customer.test. CNAME x1.acme.delegated.test.`, certfleet's authority
// (in this process) serves acme.delegated.test, and a recursive resolver (unbound, with stub
// zones for both) follows the CNAME to the TXT values presented through challenge_records.

#include <doctest/doctest.h>

#include <algorithm>

#include "support/rig.hpp"
#include "support/rig_authority.hpp"
#include "support/rig_dig.hpp"
#include "support/rig_dns_servers.hpp"
#include "support/rig_net.hpp"
#include "support/rig_provider_dns.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;

namespace {

// customer.test below its SOA, NS and glue (provider_zone).
constexpr std::string_view customer_records = R"zone(www                  IN A   192.0.2.80
_acme-challenge.www  IN CNAME x1.acme.delegated.test.
_acme-challenge.api  IN CNAME x2.acme.delegated.test.
)zone";

constexpr std::string_view challenge_name = "_acme-challenge.www.customer.test";
constexpr std::string_view delegated_name = "x1.acme.delegated.test";

struct resolution_rig
{
    in_process_authority authority{{make_zone({.apex = "acme.delegated.test"})}};
    provider_dns provider{
        "certfleet-resolution",
        {{"customer.test", provider_zone("customer.test", customer_records)}}};
    unbound_resolver unbound =
        provider.start_resolver({{"acme.delegated.test", {authority.port()}}});

    dig_output resolve(dig_tool tool, std::string_view qname, std::string_view type = "TXT") const
    {
        auto out = run_dig(tool, unbound.port(), {std::string(type), std::string(qname)});
        INFO(to_string(tool), " ", type, " ", qname, "\n", out.process.out, out.process.err);
        REQUIRE(out.parsed);
        return out;
    }
};

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

// The CNAME of the customer's challenge name heads the answer of every lookup through it.
void check_cname(const dig_output& r)
{
    const auto cnames = r.answers("CNAME");
    REQUIRE(cnames.size() == 1);
    CHECK(cnames[0].owner == "_acme-challenge.www.customer.test.");
    CHECK(cnames[0].data == "x1.acme.delegated.test.");
}

constexpr std::array<dig_tool, 2> tools{dig_tool::dig, dig_tool::kdig};

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("resolution: a presented TXT is seen through the customer's CNAME, and is gone after "
              "cleanup")
    {
        resolution_rig rig;
        auto& board = rig.authority.challenges();

        // Nothing presented yet: the CNAME leads to a name that does not exist.
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            const auto r = rig.resolve(tool, challenge_name);
            CHECK(r.status == "NXDOMAIN");
            CHECK(r.flag("ra"));
            check_cname(r);
            CHECK(r.answers("TXT").empty());
        }

        REQUIRE_FALSE(board.present(delegated_name, "token-one", 1s));
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            const auto r = rig.resolve(tool, challenge_name);
            CHECK(r.status == "NOERROR");
            check_cname(r);
            CHECK(r.txt_answers() == std::vector<std::string>{"token-one"});
            REQUIRE(r.answers("TXT").size() == 1);
            CHECK(r.answers("TXT")[0].owner == "x1.acme.delegated.test.");
            CHECK(r.answers("TXT")[0].ttl <= 1);
            // Asked directly, the delegated name has the same value.
            CHECK(
                rig.resolve(tool, delegated_name).txt_answers() ==
                std::vector<std::string>{"token-one"}
            );
        }

        // The apex and a wildcard certificate share one challenge name: both values at once.
        REQUIRE_FALSE(board.present(delegated_name, "token-two", 1s));
        REQUIRE_FALSE(board.present(delegated_name, "token-one", 1s)); // idempotent
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            const auto r = rig.resolve(tool, challenge_name);
            CHECK(r.status == "NOERROR");
            check_cname(r);
            CHECK(sorted(r.txt_answers()) == std::vector<std::string>{"token-one", "token-two"});
        }

        // A name that holds TXT only: other types get NODATA through the resolver.
        const auto nodata = rig.resolve(dig_tool::dig, challenge_name, "A");
        CHECK(nodata.status == "NOERROR");
        CHECK(nodata.answers("A").empty());

        board.cleanup(delegated_name, "token-one");
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            CHECK(
                rig.resolve(tool, challenge_name).txt_answers() ==
                std::vector<std::string>{"token-two"}
            );
        }

        board.cleanup(delegated_name, "token-two");
        board.cleanup(delegated_name, "token-two"); // no-op
        for (const auto tool : tools) {
            INFO("tool: ", to_string(tool));
            const auto r = rig.resolve(tool, challenge_name);
            CHECK(r.status == "NXDOMAIN");
            check_cname(r);
            CHECK(r.answers("TXT").empty());
        }
        CHECK(rig.authority.challenges().size() == 0);
        CHECK(rig.authority.stats().udp_queries + rig.authority.stats().tcp_queries > 0);
    }

    TEST_CASE("resolution: challenge names are independent, and case does not matter")
    {
        resolution_rig rig;
        auto& board = rig.authority.challenges();
        REQUIRE_FALSE(board.present("X1.Acme.Delegated.Test.", "for-www", 1s));
        REQUIRE_FALSE(board.present("x2.acme.delegated.test", "for-api", 1s));

        CHECK(
            rig.resolve(dig_tool::dig, challenge_name).txt_answers() ==
            std::vector<std::string>{"for-www"}
        );
        CHECK(
            rig.resolve(dig_tool::dig, "_acme-challenge.api.customer.test").txt_answers() ==
            std::vector<std::string>{"for-api"}
        );

        board.cleanup("x1.acme.delegated.test", "for-www");
        CHECK(rig.resolve(dig_tool::dig, challenge_name).status == "NXDOMAIN");
        CHECK(
            rig.resolve(dig_tool::kdig, "_acme-challenge.api.customer.test").txt_answers() ==
            std::vector<std::string>{"for-api"}
        );
        // The customer's own records still resolve through the same resolver.
        const auto www = rig.resolve(dig_tool::dig, "www.customer.test", "A");
        REQUIRE(www.answers("A").size() == 1);
        CHECK(www.answers("A")[0].data == "192.0.2.80");
    }
}
