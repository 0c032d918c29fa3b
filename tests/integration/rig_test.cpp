// The test rig itself: processes, their exit statuses and timeouts, and the messages a failed
// start gives, so that a broken environment shows up as a clear failure and never as a hang.

#include "support/rig.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <set>
#include <thread>

#include "support/rig_certfleet.hpp"
#include "support/rig_dig.hpp"
#include "support/rig_dns_servers.hpp"
#include "support/rig_net.hpp"

using namespace certfleet::test;
using namespace std::chrono_literals;

namespace {

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("rig: run() captures output and exit code, and kills what outlives its timeout")
    {
        auto r = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
        CHECK(r.exit_code == 3);
        CHECK(r.out == "out\n");
        CHECK(r.err == "err\n");
        CHECK_FALSE(r.timed_out);

        r =
            run({"sh", "-c", "echo \"$RIG_TEST_VALUE\""},
                {.env = {"RIG_TEST_VALUE=from the test"}});
        CHECK(r.out == "from the test\n");

        const auto start = std::chrono::steady_clock::now();
        r = run({"sleep", "30"}, {.timeout = 200ms});
        CHECK(r.timed_out);
        CHECK(r.exit_code == 128 + SIGKILL);
        CHECK(std::chrono::steady_clock::now() - start < 5s);

        CHECK_THROWS_AS((void)run({"certfleet-no-such-program"}), rig_error);
        CHECK_THROWS_AS((void)find_program("certfleet-no-such-program"), rig_error);
        CHECK(find_program("nsd").is_absolute()); // found in /usr/sbin whatever PATH says
    }

    TEST_CASE("rig: child_process stops its own PID, with SIGKILL when SIGTERM is ignored")
    {
        temp_dir dir("certfleet-rig");
        child_process polite({.argv = {"sleep", "30"}, .log_file = dir.path() / "sleep.log"});
        CHECK(polite.running());
        CHECK(polite.stop() == 128 + SIGTERM);
        CHECK_FALSE(polite.running());
        CHECK(polite.stop() == 128 + SIGTERM); // idempotent

        child_process stubborn({
            .argv = {"sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.05; done"},
            .log_file = dir.path() / "stubborn.log",
            .stop_timeout = 200ms,
        });
        // Wait until the trap is set, then check that stop() escalates.
        for (int i = 0; i < 200 && !contains(stubborn.log(), "started"); ++i) {
            std::this_thread::sleep_for(5ms);
        }
        CHECK(stubborn.stop() == 128 + SIGKILL);

        child_process quick({.argv = {"sh", "-c", "exit 7"}, .log_file = dir.path() / "quick.log"});
        CHECK(quick.wait(5s) == 7);
    }

    TEST_CASE("rig: a server that cannot start fails with its log")
    {
        temp_dir dir("certfleet-rig");
        try {
            certfleet_process bad(
                dir, {.config = "[dns]\nlisten = [\"127.0.0.1:{port}\"]\n", .ready_name = "x.test"}
            );
            FAIL("certfleet started without a zone");
        } catch (const rig_error& e) {
            CHECK(contains(e.what(), "exited with status 2"));
            CHECK(contains(e.what(), "dns.zone"));
        }
        try {
            nsd_server bad(dir, {.zones = {{"broken.test", "this is not a zone file\n"}}});
            FAIL("nsd started with a broken zone");
        } catch (const rig_error& e) {
            CHECK(contains(e.what(), "nsd-checkzone"));
        }
    }

    TEST_CASE("rig: dig and kdig output parse the same way")
    {
        // A header with every section, as each tool prints it.
        const std::string dig_text = R"(;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 4242
;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;Www.Example.Test.		IN	TXT

;; ANSWER SECTION:
Www.Example.Test.	60	IN	TXT	"a b" "c"

;; AUTHORITY SECTION:
example.test.		5	IN	SOA	ns1.example.test. hostmaster.example.test. 1 2 3 4 5

;; ADDITIONAL SECTION:
ns1.example.test.	60	IN	A	127.0.0.1

;; Query time: 0 msec
)";
        const std::string kdig_text = R"(;; ->>HEADER<<- opcode: QUERY; status: NXDOMAIN; id: 4242
;; Flags: qr aa rd; QUERY: 1; ANSWER: 1; AUTHORITY: 1; ADDITIONAL: 1

;; EDNS PSEUDOSECTION:
;; Version: 0; flags: ; UDP size: 1232 B; ext-rcode: NOERROR

;; QUESTION SECTION:
;; www.example.test.        		IN	TXT

;; ANSWER SECTION:
www.example.test.	60	IN	TXT	"a b" "c"

;; AUTHORITY SECTION:
example.test.	5	IN	SOA	ns1.example.test. hostmaster.example.test. 1 2 3 4 5

;; ADDITIONAL SECTION:
ns1.example.test.	60	IN	A	127.0.0.1

;; Received 123 B
)";
        for (const auto& text : {dig_text, kdig_text}) {
            const auto r = parse_dig_output({.exit_code = 0, .out = text});
            CHECK(r.parsed);
            CHECK(r.opcode == "QUERY");
            CHECK(r.status == "NXDOMAIN");
            CHECK(r.id == 4242);
            CHECK(r.flags == std::set<std::string>{"qr", "aa", "rd"});
            CHECK(r.edns_version == 0);
            CHECK(r.edns_udp_size == 1232);
            REQUIRE(r.question.size() == 1);
            CHECK(r.question[0].type == "TXT");
            REQUIRE(r.answer.size() == 1);
            CHECK(r.answer[0].ttl == 60);
            CHECK(r.answer[0].data == "\"a b\" \"c\"");
            CHECK(r.txt_answers() == std::vector<std::string>{"a bc"});
            REQUIRE(r.authority.size() == 1);
            CHECK(r.authority[0].type == "SOA");
            REQUIRE(r.additional.size() == 1);
            CHECK(r.additional[0].data == "127.0.0.1");
        }
        CHECK_FALSE(parse_dig_output({.exit_code = 9, .out = ";; connection timed out\n"}).parsed);
    }
}
