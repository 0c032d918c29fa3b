// Zones replaced while the authority answers: SIGHUP to a running `certfleet serve` (by its
// PID), a broken configuration that leaves the running zones alone, challenge records that
// survive a reload; and several server threads answering from one set of records.

#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "support/dns_messages.hpp"
#include "support/rig.hpp"
#include "support/rig_authority.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_net.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
using dns::rr_type;

namespace {

constexpr std::string_view apex = "acme.reload.test";
constexpr zone_names name{apex};

// `records`: the TOML array's items, e.g. "\"one TXT first\"".
std::string reload_config(const std::string& records, std::uint16_t port = 0)
{
    const std::string listen = port == 0 ? "{port}" : std::to_string(port);
    return "[dns]\nlisten = [\"127.0.0.1:" + listen +
           "\"]\n"
           // A steady stream of queries from one address below: not a flood to limit here.
           "[dns.rate_limit]\nenabled = false\n"
           "[[dns.zone]]\napex = \"acme.reload.test\"\n"
           "soa = { mname = \"ns1\", rname = \"hostmaster.acme.reload.test.\", minimum = 1 }\n"
           "ns = [ { name = \"ns1\", addresses = [\"127.0.0.1\"] } ]\n"
           "records = [ " +
           records + " ]\n";
}

// The TXT value at `label`, or "" (NXDOMAIN, no answer, no value).
std::string txt_at(std::uint16_t port, std::string_view label)
{
    const auto r = udp_query(port, {.name = name(label), .type = rr_type::txt}, 1s);
    if (!r || r->answer.empty()) {
        return {};
    }
    return r->answer.front().data;
}

// Queries the apex SOA without pause on another thread, counting the ones left unanswered.
class steady_queries
{
public:
    explicit steady_queries(std::uint16_t port)
        : thread_([this, port] {
              udp_client client(port);
              std::uint16_t id = 0;
              while (!stop_) {
                  const auto q =
                      make_query({.name = std::string(apex), .type = rr_type::soa, .id = ++id});
                  auto answer = client.exchange(q, 1s);
                  ++sent_;
                  if (!answer) {
                      ++lost_;
                  }
              }
          })
    {}
    ~steady_queries() { finish(); }
    steady_queries(const steady_queries&) = delete;
    steady_queries& operator=(const steady_queries&) = delete;

    void finish()
    {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    [[nodiscard]] int sent() const { return sent_; }
    [[nodiscard]] int lost() const { return lost_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<int> sent_{0};
    std::atomic<int> lost_{0};
    std::thread thread_;
};

template <class F> bool eventually(F&& condition, std::chrono::milliseconds timeout = 5s)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE(
        "reload: SIGHUP serves the new zones without losing a query, a broken file changes nothing"
    )
    {
        temp_dir dir("certfleet-reload");
        certfleet_process server(
            dir, {.config = reload_config("\"one TXT first\""), .ready_name = std::string(apex)}
        );
        REQUIRE(txt_at(server.port(), "one") == "first");
        steady_queries traffic(server.port());

        dir.write(
            server.config_file(),
            reload_config("\"one TXT second\", \"two TXT added\"", server.port())
        );
        server.process().signal(SIGHUP);
        CHECK(eventually([&] { return txt_at(server.port(), "one") == "second"; }));
        CHECK(txt_at(server.port(), "two") == "added");

        // A CNAME beside other data: refused, and the zones loaded last stay.
        dir.write(
            server.config_file(),
            reload_config("\"one TXT third\", \"one CNAME elsewhere.test.\"", server.port())
        );
        server.process().signal(SIGHUP);
        CHECK(eventually([&] {
            return server.process().log().find("reload failed") != std::string::npos;
        }));
        CHECK(txt_at(server.port(), "one") == "second");
        CHECK(server.process().running());

        std::this_thread::sleep_for(100ms);
        traffic.finish();
        const int sent = traffic.sent();
        INFO("queries sent during the reloads: ", sent);
        CHECK(sent > 10);
        CHECK(traffic.lost() == 0);
        const auto log = server.process().log();
        CHECK(log.find("received SIGHUP") != std::string::npos);
        CHECK(log.find("dns.zone[0].records[1]") != std::string::npos); // why, naming the place
        CHECK(server.stop() == 0);
    }

    TEST_CASE("reload: challenge records stay across a zone replacement")
    {
        in_process_authority authority(
            {make_zone({.apex = std::string(apex), .records = "static TXT old\n"})}
        );
        REQUIRE_FALSE(authority.challenges().present(name("_x1"), "token-1", 10s));
        REQUIRE(txt_at(authority.port(), "_x1") == "token-1");
        authority.replace_zones(
            {make_zone({.apex = std::string(apex), .records = "static TXT new\n"})}
        );
        CHECK(txt_at(authority.port(), "static") == "new");
        CHECK(txt_at(authority.port(), "_x1") == "token-1");
    }

    TEST_CASE("threads: four server threads answer every query from one set of challenge records")
    {
        dns::server_options options;
        options.threads = 4;
        options.rate_limit.enabled = false;
        in_process_authority authority({make_zone({.apex = std::string(apex)})}, options);
        // Values change all the while: every answer holds one state of the set (one value, or two
        // between a present and the cleanup after it).
        std::atomic<bool> stop{false};
        // The name has its first value before any client asks: the writer below keeps one or two.
        REQUIRE_FALSE(authority.challenges().present(name("_busy"), "v-1-a", 10s));
        std::thread writer([&] {
            for (int i = 0; !stop; ++i) {
                const auto v = "v" + std::to_string(i);
                REQUIRE_FALSE(authority.challenges().present(name("_busy"), v + "-a", 10s));
                authority.challenges().cleanup(name("_busy"), "v" + std::to_string(i - 1) + "-a");
            }
        });
        std::atomic<int> answered{0};
        std::atomic<int> unanswered{0};
        std::vector<std::thread> clients;
        for (int c = 0; c < 4; ++c) {
            clients.emplace_back([&] {
                for (int i = 0; i < 250; ++i) {
                    // A new socket (port) for each query: the kernel spreads them over the
                    // threads by the source port.
                    const auto r = udp_query(
                        authority.port(), {.name = name("_busy"), .type = rr_type::txt}, 2s
                    );
                    if (r && r->rcode() == 0 && !r->answer.empty() && r->answer.size() <= 2) {
                        ++answered;
                    } else {
                        ++unanswered;
                    }
                }
            });
        }
        for (auto& t : clients) {
            t.join();
        }
        stop = true;
        writer.join();
        CHECK(answered == 1000);
        CHECK(unanswered == 0);
        CHECK(authority.stats().udp_queries == 1000);
    }
}
