// QCLASS ANY (255), which certfleet used to refuse, answered as NSD answers it: the same zone in
// both, the same queries to both, the same rcode, flags and section sizes back.

#include <doctest/doctest.h>

#include "support/dns_messages.hpp"
#include "support/rig.hpp"
#include "support/rig_authority.hpp"
#include "support/rig_dns_servers.hpp"
#include "support/rig_net.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
using dns::rr_type;

namespace {

constexpr std::string_view nsd_text = R"zone($ORIGIN acme.class.test.
$TTL 300
@      IN SOA ns1 hostmaster 1 3600 600 1209600 10
@      IN NS  ns1
ns1    IN A   127.0.0.1
multi  IN TXT "v1"
multi  IN TXT "v2"
)zone";

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("class ANY: certfleet answers QCLASS 255 as NSD does")
    {
        temp_dir dir("certfleet-class-any");
        nsd_server nsd(dir, {.zones = {{"acme.class.test", std::string(nsd_text)}}});
        in_process_authority certfleet({make_zone(
            {.apex = "acme.class.test", .records = "multi TXT v1\nmulti TXT v2\n", .ttl = 300}
        )});
        struct question
        {
            std::string name;
            rr_type type;
        };
        const std::vector<question> questions{
            {"multi.acme.class.test", rr_type::txt}, {"missing.acme.class.test", rr_type::txt},
            {"acme.class.test", rr_type::ns},        {"multi.acme.class.test", rr_type::a},
            {"acme.class.test", rr_type::soa},       {"other.test", rr_type::txt},
            {"ns1.acme.class.test", rr_type::a},
        };
        for (const std::uint16_t qclass : {dns::class_any, dns::class_in}) {
            for (const auto& q : questions) {
                const int type = static_cast<int>(q.type);
                INFO("class ", qclass, " ", q.name, " type ", type);
                const query_spec spec{.name = q.name, .type = q.type, .flags = 0, .qclass = qclass};
                const auto theirs = udp_query(nsd.port(), spec);
                const auto ours = udp_query(certfleet.port(), spec);
                REQUIRE(theirs);
                REQUIRE(ours);
                CHECK(ours->rcode() == theirs->rcode());
                CHECK(ours->flag(dns::flag::aa) == theirs->flag(dns::flag::aa));
                CHECK(ours->answer.size() == theirs->answer.size());
                // For IN, NSD (as configured by the rig) adds the NS RRset and its glue to
                // positive answers, where certfleet is minimal: compare those sections for
                // class ANY and for negative answers only.
                if (qclass == dns::class_any || theirs->answer.empty()) {
                    CHECK(ours->authority.size() == theirs->authority.size());
                    CHECK(ours->additional.size() == theirs->additional.size());
                }
                for (std::size_t i = 0; i < ours->answer.size() && i < theirs->answer.size(); ++i) {
                    CHECK(ours->answer[i].klass == theirs->answer[i].klass);
                }
            }
        }
    }
}
