// The web dashboard of `certfleet serve`, in a real browser: Debian's chromium, headless, driven
// by npm puppeteer-core (tests/tools/dashboard.mjs) against the real server on loopback with
// Pebble as the CA. The browser part asserts what a person sees (states, the CA's problem text,
// a renewal appearing without a reload, scopes, a wrong token's message, no request to another
// host) and writes a screenshot of each page to build/<preset>/test-output/dashboard/. The fleet
// at scale (5,000 certificates, 500 agents) is seeded straight into the store, and the time the
// page takes to load and become interactive is measured with the browser's own timing.
#include <doctest/doctest.h>

#include <iostream>
#include <thread>

#include "app/settings.hpp"
#include "app/state.hpp"
#include "core/crypto/encoding.hpp"
#include "support/backend_rig.hpp"
#include "support/rig_certfleet.hpp"

namespace certfleet::test {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

const std::filesystem::path output_root =
    std::filesystem::path(CERTFLEET_BINARY_DIR) / "test-output" / "dashboard";

// The CA's own words, as a CA refusing a renewal writes them.
constexpr std::string_view rate_limited =
    "urn:ietf:params:acme:error:rateLimited: too many certificates (5) already issued for this "
    "exact set of identifiers in the last 168h0m0s";

struct fleet_shape
{
    int certificates = 0;
    int agents = 0;
    int first_certificate = 1; // assignments point at certificates from this id on
    int assign_over = 0;       // ... spread over this many (0: `certificates`)
};

// `count` certificates with one version each (expiries spread over 100 days, a few expired),
// some failing with a CA's problem, some revoked or pending, none due for the scheduler; then
// agents with windows in several zones, two assignments each and their reports.
void seed(const std::filesystem::path& config, const fleet_shape& shape)
{
    const auto settings = app::load_settings(config.string());
    auto st = app::open_state(settings);
    auto& store = *st.store;
    const auto now = std::chrono::system_clock::now();
    std::vector<core::row_id> versions;
    auto certificates = store.in_transaction([&]() -> core::store_result<void> {
        for (int i = 0; i < shape.certificates; ++i) {
            core::certificate_spec spec;
            spec.names = {"host" + std::to_string(i) + ".fleet.test"};
            spec.profile = i % 3 == 0 ? std::optional<std::string>("tlsserver") : std::nullopt;
            auto id = store.add_certificate(spec, now);
            if (!id) {
                return id.error();
            }
            auto cert = store.get_certificate(*id);
            if (!cert) {
                return cert.error();
            }
            cert->state = i % 97 == 5   ? core::certificate_state::failed
                          : i % 89 == 7 ? core::certificate_state::revoked
                                        : core::certificate_state::valid;
            cert->next_attempt_at = now + 24h * 40; // the scheduler leaves them alone
            if (cert->state == core::certificate_state::failed) {
                cert->last_problem = std::string(rate_limited);
                cert->consecutive_failures = 3;
            }
            core::certificate_version v;
            v.certificate_id = *id;
            v.chain_pem = "-";
            v.key_sealed = "-";
            v.serial_hex = core::to_hex(std::to_string(1'000'000 + i));
            v.sha256_hex = "-";
            v.not_after = now + std::chrono::hours(i % 53 == 0 ? -(i % 5) - 1 : (i * 7) % 2400);
            v.not_before = v.not_after - 24h * 90;
            auto added = store.add_version(v, 0, *cert, now);
            if (!added) {
                return added.error();
            }
            versions.push_back(*added);
        }
        return {};
    });
    REQUIRE_MESSAGE(certificates.has_value(), certificates.error().message());

    const std::array<std::string, 4> windows{
        "Sun 02:00-04:00 Europe/Berlin", "Mon-Fri 22:00-23:30 America/New_York",
        "Sat,Sun 01:00-05:00 Asia/Tokyo", ""};
    auto& deploy = store.deployments();
    for (int i = 0; i < shape.agents; ++i) {
        const auto name = "edge-" + std::to_string(i + 1);
        core::agent_join_token t;
        t.agent_name = name;
        t.secret_sha256 = core::to_hex("join-" + name);
        t.windows = windows[static_cast<std::size_t>(i) % windows.size()];
        t.created_at = now;
        t.expires_at = now + 1h;
        REQUIRE((deploy.add_join_token(t)).has_value());
        std::string point(65, '\x04');
        point.replace(1, name.size(), name);
        const auto enrolled = deploy.enroll_agent(t.secret_sha256, point, "1.0.0", "10.0.0.1", now);
        REQUIRE(enrolled.has_value());
        REQUIRE(enrolled->refused.empty());
        REQUIRE(
            (deploy.record_contact(enrolled->agent.id, "10.0.0.1", "1.0.0", now - 1min)).has_value()
        );
        for (int k = 0; k < 2; ++k) {
            const auto spread = shape.assign_over > 0 ? shape.assign_over : shape.certificates;
            const auto certificate = shape.first_certificate + (i * 2 + k) % spread;
            core::assignment_record a;
            a.agent_id = enrolled->agent.id;
            a.certificate_id = certificate;
            a.target = k == 0 ? "files" : "exec";
            a.options_json = "{}";
            a.created_at = now;
            const auto assignment = deploy.add_assignment(a);
            REQUIRE(assignment.has_value());
            if (versions.empty()) {
                continue;
            }
            core::agent_report r;
            r.assignment_id = *assignment;
            r.version = versions[static_cast<std::size_t>(certificate - shape.first_certificate)];
            r.status = (i + k) % 7 == 3 ? "staged" : "deployed";
            r.result_json = "{}";
            r.drift = i % 50 == 9 && k == 0 ? "serial 0badc0de on 10.0.0.1:443" : "";
            r.at = now - 2min;
            REQUIRE((deploy.record_report(enrolled->agent.id, r)).has_value());
        }
    }
}

// Runs the browser script in `mode` with these parameters; its output is printed.
run_result browse(const std::string& mode, json parameters, const backend_rig& rig)
{
    const auto out = output_root / mode;
    std::filesystem::create_directories(out);
    parameters["url"] = rig.api_url();
    parameters["certificate_file"] = (rig.config().parent_path() / "api-cert.pem").string();
    parameters["out"] = out.string();
    const auto file = rig.dir().write("dashboard-" + mode + ".json", parameters.dump());
    const auto script =
        std::filesystem::path(CERTFLEET_SOURCE_DIR) / "tests" / "tools" / "dashboard.mjs";
    auto r = run({"node", script.string(), mode, file.string()}, {.timeout = 200s});
    std::cout << r.out << std::flush;
    return r;
}

json certificate(const backend_rig& rig, int id)
{
    return rig.certfleet_json({"cert", "show", std::to_string(id)});
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE(
        "dashboard: sign-in and states and the CA problem and renew now and scopes in chromium"
    )
    {
        // The delegation preflight is off, so the name without its CNAME reaches the CA, which
        // refuses it in its own words; failures are retried only after ten minutes.
        backend_rig rig(
            {.domains =
                 {{"www.customer.test", "www"},
                  {"shop.customer.test", "shop"},
                  {"api.customer.test", "api"}},
             .cnames =
                 std::map<std::string, std::string>{
                     {"www.customer.test", "www"}, {"api.customer.test", "api"}},
             .preflight_config = "delegation = false",
             .renewal_config = "first_backoff_s = 600\nmax_backoff_s = 600",
             .api = true}
        );
        const auto admin = rig.make_token("operator", "admin");
        const auto reader = rig.make_token("viewer", "read");
        for (const auto* name : {"www.customer.test", "shop.customer.test"}) {
            REQUIRE(rig.certfleet({"cert", "add", "--name", name}).exit_code == 0);
        }
        seed(
            rig.config(), {.certificates = 0, .agents = 2, .first_certificate = 1, .assign_over = 2}
        );
        rig.start_serve();
        json failing;
        for (auto until = std::chrono::steady_clock::now() + 90s;
             std::chrono::steady_clock::now() < until;) {
            failing = certificate(rig, 2);
            if (certificate(rig, 1)["state"] == "valid" && failing["state"] == "failed") {
                break;
            }
            std::this_thread::sleep_for(500ms);
        }
        REQUIRE(certificate(rig, 1)["state"] == "valid");
        REQUIRE(failing["state"] == "failed");
        const auto problem = failing["last_problem"].get<std::string>();
        INFO(problem);
        // The CA's own words (Pebble's validation authority) are kept.
        CHECK(problem.find("CA says: unauthorized") != std::string::npos);
        CHECK(problem.find("Error retrieving TXT records") != std::string::npos);
        // The customer creates the missing record: "renew now" will succeed.
        rig.set_cname("shop.customer.test", "shop");

        const auto r = browse(
            "functional",
            {{"admin_token", admin},
             {"read_token", reader},
             {"failing_id", 2},
             {"failing_name", "shop.customer.test"},
             {"failing_problem", problem},
             {"live_name", "api.customer.test"},
             {"live_id", 3},
             {"new_domain", "blog.customer.test"}},
            rig
        );
        CHECK_MESSAGE(r.exit_code == 0, (r.out + r.err));
        // What the page did went through the API: the renewal and the added certificate.
        CHECK(certificate(rig, 2)["state"] == "valid");
        CHECK(rig.certfleet_json({"cert", "list"}).size() == 3);
        CHECK(rig.certfleet_json({"domain", "list"}).size() == 4);
        CHECK(certificate(rig, 3)["state"] == "revoked");
        // The read-only token's attempt was refused and changed nothing.
        CHECK(certificate(rig, 1)["versions"].size() == 1);
        const auto log = read_text_file(rig.dir().path() / "certfleet" / "serve.log");
        CHECK(log.find(admin) == std::string::npos);
        CHECK(log.find(reader) == std::string::npos);
    }

    TEST_CASE("dashboard: 5000 certificates and 500 agents load and become interactive in time")
    {
        backend_rig rig({.api = true});
        const auto reader = rig.make_token("viewer", "read");
        seed(rig.config(), {.certificates = 5000, .agents = 500, .first_certificate = 1});
        rig.start_serve();
        const auto r =
            browse("scale", {{"read_token", reader}, {"certificates", 5000}, {"agents", 500}}, rig);
        CHECK_MESSAGE(r.exit_code == 0, (r.out + r.err));
        CHECK(r.out.find("overview ready in") != std::string::npos);
    }
}

} // namespace certfleet::test
