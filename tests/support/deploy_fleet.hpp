#pragma once
// What the deploy integration tests (deploy_agents_test.cpp) share: a backend_rig with its API and
// `certfleet serve` running, driven through the operator's commands (join tokens, issuance,
// assignments, agent show), and helpers to read what the agents wrote and to speak the agent
// protocol by hand.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "deploy/agent_protocol.hpp"
#include "deploy/agent_state.hpp"
#include "deploy/openssl_crypto.hpp"
#include "support/backend_rig.hpp"
#include "support/rig_agent.hpp"

namespace certfleet::test::deploy_fleet {

using nlohmann::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// How long a deployed bundle may take to reach an agent that is running.
inline constexpr std::chrono::seconds delivery_limit{15};

inline double seconds_since(steady::time_point start)
{
    return std::chrono::duration<double>(steady::now() - start).count();
}

// Polls `done` every 200 ms until it holds (true) or `limit` passed (false).
template <class F> inline bool wait_until(F done, std::chrono::milliseconds limit)
{
    const auto until = steady::now() + limit;
    while (!done()) {
        if (steady::now() >= until) {
            return false;
        }
        std::this_thread::sleep_for(200ms);
    }
    return true;
}

inline std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

// The SHA-256 of the first certificate in a PEM file; empty when there is none.
inline std::string pem_file_sha256(const std::filesystem::path& file)
{
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        return {};
    }
    auto chain = core::parse_pem_chain(read_text_file(file));
    return chain && !chain->empty() ? core::to_hex(chain->front().sha256_fingerprint) : "";
}

// backend_rig with the API and `certfleet serve` running, and the operator's deploy commands.
class fleet
{
public:
    // The managed names (each one's label: its first one).
    fleet(std::initializer_list<std::string> names)
        : rig({.domains = domains_of(names), .api = true})
    {
        rig.start_serve();
    }

    static std::map<std::string, std::string> domains_of(std::initializer_list<std::string> names)
    {
        std::map<std::string, std::string> out;
        for (const auto& name : names) {
            out[name] = name.substr(0, name.find('.'));
        }
        return out;
    }

    // `certfleet agent token create`: the token (stdout).
    std::string join_token(
        const std::string& name, const std::string& window = {}, const std::string& expires = {}
    ) const
    {
        std::vector<std::string> args{"agent", "token", "create", "--name", name};
        if (!window.empty()) {
            args.insert(args.end(), {"--window", window});
        }
        if (!expires.empty()) {
            args.insert(args.end(), {"--expires", expires});
        }
        const auto r = rig.certfleet(args);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return trimmed(r.out);
    }

    // Adds certificates for `names` and waits until the server issued them all; their ids.
    std::vector<std::int64_t> issue(const std::vector<std::string>& names) const
    {
        for (const auto& name : names) {
            REQUIRE(rig.certfleet({"cert", "add", "--name", name}).exit_code == 0);
        }
        REQUIRE(rig.wait_all_valid(names.size(), 90s));
        std::vector<std::int64_t> ids;
        const auto list = rig.certfleet_json({"cert", "list"});
        for (const auto& name : names) {
            for (const auto& c : list) {
                if (c["names"].front() == name) {
                    ids.push_back(c["id"].get<std::int64_t>());
                }
            }
        }
        REQUIRE(ids.size() == names.size());
        return ids;
    }

    // The SHA-256 of the certificate's newest version.
    std::string newest_sha256(std::int64_t id) const
    {
        for (const auto& c : rig.certfleet_json({"cert", "list"})) {
            if (c["id"] == id) {
                return c["sha256"].is_string() ? c["sha256"].get<std::string>() : "";
            }
        }
        return {};
    }

    json agent_show(const std::string& name) const
    {
        return rig.certfleet_json({"agent", "show", name});
    }

    // The agent's assignment of certificate `id` as `agent show` has it (null when none).
    json assignment_of(const std::string& agent, std::int64_t id) const
    {
        const auto shown = agent_show(agent);
        for (const auto& a : shown["assignments"]) {
            if (a["certificate"] == id) {
                return a;
            }
        }
        return json();
    }

    // `certfleet cert assign ID --agent A --target T --options-json ...`: its id.
    std::int64_t assign(
        std::int64_t id,
        const std::string& agent,
        const json& options,
        const std::string& target = "files"
    ) const
    {
        const auto r = rig.certfleet(
            {"cert", "assign", std::to_string(id), "--agent", agent, "--target", target,
             "--options-json", options.dump(), "--json"}
        );
        REQUIRE_MESSAGE(r.exit_code == 0, (r.out + r.err));
        return json::parse(r.out)["id"].get<std::int64_t>();
    }

    // Whether `agent show` reports the newest version of `id` deployed.
    bool deployed_newest(const std::string& agent, std::int64_t id) const
    {
        const auto a = assignment_of(agent, id);
        return a.is_object() && a["newest_version"].is_number_integer() &&
               a["deployed_version"] == a["newest_version"];
    }

    backend_rig rig;
    temp_dir hosts{"certfleet-agents"};
};

// An enrolled agent host (enroll must succeed).
inline void enroll(const fleet& f, const agent_host& host, const std::string& window = {})
{
    const auto r = host.enroll(f.join_token(host.name(), window));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

// A directory for one files target.
inline std::filesystem::path target_dir(const fleet& f, const std::string& name)
{
    return f.hosts.subdir("targets/" + name);
}

// "Sun" ... "Sat".
inline std::string day_name(std::chrono::weekday d)
{
    static constexpr const char* names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    return names[d.c_encoding()];
}

// "<Day> HH:MM-HH:MM UTC" from `start` to `end` (on the day of `start`).
inline std::string utc_window(std::chrono::sys_seconds start, std::chrono::sys_seconds end)
{
    const auto clock_text = [](std::chrono::sys_seconds t) {
        const auto day = std::chrono::floor<std::chrono::days>(t);
        const std::chrono::hh_mm_ss hms(t - day);
        char text[32];
        std::snprintf(
            text, sizeof text, "%02d:%02d", static_cast<int>(hms.hours().count()),
            static_cast<int>(hms.minutes().count())
        );
        return std::string(text);
    };
    return day_name(std::chrono::weekday(std::chrono::floor<std::chrono::days>(start))) + " " +
           clock_text(start) + "-" + clock_text(end) + " UTC";
}

// The agent's own view of its one assignment (null when it has none).
inline json only_assignment(const agent_host& host)
{
    const auto s = host.status();
    return s["assignments"].empty() ? json() : s["assignments"].front();
}

// The signed poll of `kid`, signed with the key in `signer`'s identity file.
inline std::string signed_poll(const agent_host& signer, const std::string& kid)
{
    const auto identity = deploy::load_identity(signer.state_dir());
    REQUIRE(identity.has_value());
    const deploy::openssl_crypto crypto;
    deploy::poll_request request;
    request.wait = 0s;
    auto body = deploy::sign_request(
        crypto, kid, identity->private_scalar.view(), deploy::poll_path, deploy::to_json(request),
        std::chrono::system_clock::now()
    );
    REQUIRE(body.has_value());
    return *body;
}

// The decoded payloads of the bundles in a poll answer, as text.
inline std::vector<std::string> bundle_payloads(const json& answer)
{
    std::vector<std::string> out;
    for (const auto& b : answer["bundles"]) {
        const auto text = b.get<std::string>();
        auto flattened = json::parse(text, nullptr, false);
        std::string payload;
        if (flattened.is_object() && flattened["payload"].is_string()) {
            payload = flattened["payload"].get<std::string>();
        } else {
            const auto first = text.find('.');
            payload = text.substr(first + 1, text.find('.', first + 1) - first - 1);
        }
        const auto decoded = core::base64url_decode(payload);
        out.push_back(decoded ? *decoded : std::string());
    }
    return out;
}

} // namespace certfleet::test::deploy_fleet
