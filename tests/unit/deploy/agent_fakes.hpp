#pragma once
// Fakes for the agent tests: a certfleet server behind a scripted transport (it speaks the real
// agent protocol: verifies signed requests with the enrolled key and builds real bundles with
// seal_and_sign_bundle), a clock that only moves when told, a recording sleep, and a target
// that records what it was asked to apply.

#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/self_signed.hpp"
#include "deploy/agent.hpp"
#include "deploy/bundle.hpp"
#include "deploy/errc.hpp"
#include "deploy/openssl_crypto.hpp"
#include "net/errc.hpp"

namespace certfleet::deploy::test {

using namespace std::chrono_literals;

struct temp_dir
{
    std::filesystem::path path;
    temp_dir()
    {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("certfleet-agent-test-" + std::to_string(::getpid()) + "-" +
                std::to_string(++counter));
        std::filesystem::remove_all(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

inline const openssl_crypto& real_crypto()
{
    static const openssl_crypto instance;
    return instance;
}

// A leaf certificate and its key (self-signed is enough: the agent never checks chains).
struct leaf
{
    std::string chain_pem;
    std::string key_pem;
    core::certificate_info info;
};

inline leaf make_leaf(std::chrono::hours validity)
{
    auto key = core::private_key::generate(core::key_type::ec_p256).value();
    core::self_signed_request request;
    request.common_name = "www.example.net";
    request.dns_names = {"www.example.net"};
    request.validity = validity;
    leaf out;
    out.chain_pem = core::make_self_signed_certificate(key, request).value();
    out.key_pem = key.to_pem();
    out.info = core::parse_pem_chain(out.chain_pem).value().front();
    return out;
}

struct fake_server
{
    std::string url = "https://certfleet.example.net:8443";
    std::string tls_pin = std::string(64, 'a');
    std::string agent_name = "web1";
    p256_key_pair signing = real_crypto().generate_p256().value();
    std::string agent_point; // learnt at enrollment
    std::function<time_point()> clock;

    // enrollment
    int enroll_status = 201;
    std::string enroll_error_body;
    std::optional<std::string> enroll_signing_point; // another key than `signing`
    std::optional<boost::system::error_code> enroll_failure;

    // polls: what the server knows, and what it hands out
    std::vector<opening> openings;
    std::int64_t deploy_now = 0;
    std::vector<assignment_summary> assignments{{3, 7, "files", std::nullopt}};
    struct offered
    {
        std::int64_t assignment;
        std::int64_t version;
        std::string text;
    };
    std::vector<offered> bundles;                  // sent while newer than what the agent has
    std::vector<std::string> send_once;            // sent with the next poll answer only
    std::optional<boost::system::error_code> down; // every request fails with this
    int poll_status = 200;
    std::function<void()> on_poll; // runs at each poll (a test moves the clock here)
    nlohmann::json target_options = {{"directory", "/etc/ssl/www"}}; // of the bundles made
    std::string target = "files";                                    // of the bundles made
    std::string pfx_password = "pfx-pass";                           // of the bundles made

    // what the agent sent
    std::vector<std::string> connected_urls;
    std::vector<std::string> connected_pins;
    nlohmann::json enroll_request;
    std::vector<poll_request> polls;
    std::vector<report> reports;
    int requests = 0;

    // A bundle of `version` for `assignment`, signed by `signer` (default: the server's key) and
    // sealed to `to_point` (default: the enrolled agent) for agent `agent` (default: web1).
    std::string make_bundle(
        std::int64_t assignment,
        std::int64_t version,
        const leaf& cert,
        std::optional<std::string> agent = std::nullopt,
        const p256_key_pair* signer = nullptr
    ) const
    {
        bundle b;
        b.agent = agent.value_or(agent_name);
        b.assignment = assignment;
        b.certificate = 7;
        b.version = version;
        b.target = target;
        b.target_options = target_options;
        b.names = cert.info.dns_names;
        b.chain_pem = cert.chain_pem;
        b.sha1_hex = core::to_hex(cert.info.sha1_fingerprint);
        b.sha256_hex = core::to_hex(cert.info.sha256_fingerprint);
        b.serial_hex = core::to_hex(cert.info.serial);
        b.not_before = cert.info.not_before;
        b.not_after = cert.info.not_after;
        const auto key = core::private_key::from_pem(cert.key_pem).value();
        b.pfx = core::make_pkcs12(key, cert.chain_pem, pfx_password, "www").value();
        b.key_pem = core::secret(cert.key_pem);
        b.pfx_password = core::secret(pfx_password);
        const auto& s = signer != nullptr ? *signer : signing;
        return seal_and_sign_bundle(b, agent_point, s.private_scalar.view(), real_crypto()).value();
    }

    void offer(std::int64_t assignment, std::int64_t version, const leaf& cert)
    {
        bundles.push_back({assignment, version, make_bundle(assignment, version, cert)});
    }

    boost::system::result<agent_reply> handle(std::string_view path, std::string_view body)
    {
        ++requests;
        if (down) {
            return *down;
        }
        if (path == enroll_path) {
            return enroll(body);
        }
        auto request = parse_signed_request(body);
        if (!request || request->agent != agent_name ||
            !verify_signed_request(real_crypto(), *request, agent_point, path, clock())) {
            return agent_reply{
                401, R"({"error":{"code":"unauthorized","message":"bad signature"}})", {}};
        }
        if (path == report_path) {
            reports.push_back(report_from_json(request->payload).value());
            return agent_reply{204, "", {}};
        }
        polls.push_back(poll_request_from_json(request->payload).value());
        if (on_poll) {
            on_poll();
        }
        if (poll_status != 200) {
            return agent_reply{poll_status, "", std::chrono::seconds{120}};
        }
        return agent_reply{200, to_json(answer(polls.back())).dump(), {}};
    }

    poll_response answer(const poll_request& request)
    {
        poll_response r;
        r.openings = openings;
        r.deploy_now = deploy_now;
        r.assignments = assignments;
        for (const auto& b : bundles) {
            std::optional<std::int64_t> have;
            for (const auto& k : request.assignments) {
                if (k.id == b.assignment) {
                    have = std::max(k.staged.value_or(0), k.deployed.value_or(0));
                }
            }
            if (!have || b.version > *have) {
                r.bundles.push_back(b.text);
            }
        }
        r.bundles.insert(r.bundles.end(), send_once.begin(), send_once.end());
        send_once.clear();
        return r;
    }

    boost::system::result<agent_reply> enroll(std::string_view body)
    {
        if (enroll_failure) {
            return *enroll_failure;
        }
        enroll_request = nlohmann::json::parse(body);
        if (enroll_status != 201) {
            return agent_reply{enroll_status, enroll_error_body, {}};
        }
        agent_point =
            core::base64url_decode(enroll_request["public_key"].get<std::string>()).value();
        const auto point = enroll_signing_point.value_or(signing.public_point);
        return agent_reply{
            201,
            nlohmann::json{{"agent", agent_name}, {"signing_key", core::base64url_encode(point)}}
                .dump(),
            {}};
    }

    // The join token an operator would hand over for this server.
    [[nodiscard]] std::string token() const
    {
        join_token t;
        t.server_url = url;
        t.agent = agent_name;
        t.secret = "one-time-secret";
        t.signing_key_sha256 = core::to_hex(p256_spki_sha256(signing.public_point, real_crypto()));
        t.tls_sha256 = tls_pin;
        t.expires = 4'000'000'000;
        return encode_join_token(t);
    }
};

class fake_transport final : public agent_transport
{
public:
    explicit fake_transport(fake_server& server) : server_(server) {}
    boost::system::result<agent_reply> post(
        std::string_view path, std::string_view body, std::chrono::milliseconds, std::string* detail
    ) override
    {
        auto r = server_.handle(path, body);
        if (!r && detail != nullptr) {
            *detail = "connection refused (fake)";
        }
        return r;
    }

private:
    fake_server& server_;
};

struct applied
{
    std::int64_t assignment;
    std::int64_t version;
    std::filesystem::path work_dir;
};

// Everything an agent needs, faked; `make()` builds an agent on `dir`.
struct harness
{
    fake_server server;
    time_point now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::vector<std::chrono::milliseconds> sleeps;
    std::function<void()> on_sleep;
    std::vector<applied> applies;
    bool target_ok = true;
    std::vector<probe_request> probes;
    // What the endpoint serves when the agent probes it; empty: no answer.
    std::string served_sha256;
    probe_result probe(const probe_request& r)
    {
        probes.push_back(r);
        probe_result out;
        if (!served_sha256.empty()) {
            probe_address_result a;
            a.address = "127.0.0.1";
            a.sha256_hex = served_sha256;
            a.subject = "CN=www.example.com";
            a.matches = r.expect_sha256 && *r.expect_sha256 == served_sha256;
            out.addresses.push_back(a);
            out.ok = a.matches;
        }
        return out;
    }
    std::vector<std::string> log_lines;
    std::mt19937_64 rng{42};
    std::function<std::uint64_t()> random = [this] { return rng(); };
    struct no_processes final : process_runner
    {
        boost::system::result<process_outcome> run(process_request) const override
        {
            return make_error_code(errc::process_failed);
        }
    } processes;
    // Real targets (apply_target) run through this runner instead of the recording fake.
    const process_runner* real_processes = nullptr;

    harness()
    {
        server.clock = [this] { return now; };
    }

    agent make(const std::filesystem::path& dir, agent_options options = {})
    {
        options.state_dir = dir;
        options.version = "test";
        agent_ports ports{
            .connect =
                [this](const std::string& url, const std::string& pin) {
                    server.connected_urls.push_back(url);
                    server.connected_pins.push_back(pin);
                    return std::make_unique<fake_transport>(server);
                },
            .crypto = real_crypto(),
            .processes = real_processes != nullptr ? *real_processes : processes,
            .probe = [this](const probe_request& r) { return probe(r); },
            .apply = real_processes != nullptr
                         ? std::function<target_result(const bundle&, const target_context&)>{}
                         : [this](const bundle& b, const target_context& context) {
                    applies.push_back({b.assignment, b.version, context.work_dir});
                    target_result r;
                    r.ok = target_ok;
                    r.stage = target_ok ? "done" : "reload";
                    r.message = target_ok ? "installed" : "nginx -s reload exited with 1";
                    return r;
                },
            .clock = [this] { return now; },
            .sleep =
                [this](std::chrono::milliseconds d) {
                    sleeps.push_back(d);
                    if (on_sleep) {
                        on_sleep();
                    }
                },
            .random = [this] { return random(); },
            .log = [this](log_level, std::string_view line) { log_lines.emplace_back(line); },
        };
        return agent(std::move(ports), std::move(options));
    }
};

} // namespace certfleet::deploy::test
