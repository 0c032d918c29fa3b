#include "deploy/target.hpp"

#include <doctest/doctest.h>

#include "deploy/posix_process.hpp"
#include "deploy/target_support.hpp"
#include "support/bundle_fixture.hpp"

namespace certfleet::deploy {

TEST_SUITE("deploy")
{
    TEST_CASE("target: apply_target dispatches on the bundle's target")
    {
        testing::scratch_dir d;
        const posix_process_runner runner;
        const target_context context{.processes = runner, .probe = nullptr, .work_dir = d.path};
        auto b = testing::make_bundle("dispatch.test", "files", {{"dir", d.path.string()}});
        CHECK(apply_target(b, context).ok);
        CHECK(std::filesystem::exists(d.path / "key.pem"));
        b.target = "exec";
        b.target_options = {{"command", {"sh", "-c", "echo ran exec"}}};
        CHECK(apply_target(b, context).details["output"] == "ran exec");
        b.target = "rras";
        b.target_options = nlohmann::json::object();
        auto rras = apply_target(b, context);
        CHECK_FALSE(rras.ok);
        CHECK(rras.stage == "options");
        CHECK(rras.message.find("\"endpoint\"") != std::string::npos);
        b.target = "ftp";
        CHECK(apply_target(b, context).message.find("\"ftp\"") != std::string::npos);
        CHECK(
            check_target_options("ftp", nlohmann::json::object()).find("unknown target") !=
            std::string::npos
        );
        CHECK(check_target_options("rras", {{"endpoint", "vpn.example.com"}}).empty());
        CHECK(
            check_target_options("rras", nlohmann::json::object()).find("\"endpoint\"") !=
            std::string::npos
        );
    }

    TEST_CASE("target: pfx_protection is the server's option, valid beside every target")
    {
        for (const auto* target : {"files", "exec", "rras"}) {
            CAPTURE(target);
            nlohmann::json options = std::string(target) == "files"
                                         ? nlohmann::json{{"dir", "/etc/tls"}}
                                         : nlohmann::json{{"command", {"true"}}};
            if (std::string(target) == "rras") {
                options = {{"endpoint", "vpn.example.com"}};
            }
            for (const auto* value : {"legacy", "aes"}) {
                options["pfx_protection"] = value;
                CHECK(check_target_options(target, options).empty());
            }
            options["pfx_protection"] = "des";
            CHECK(
                check_target_options(target, options).find("pfx_protection") != std::string::npos
            );
            options["pfx_protection"] = 1;
            CHECK_FALSE(check_target_options(target, options).empty());
        }
        // A target applies such a bundle (the option is the server's, not the target's).
        testing::scratch_dir d;
        const posix_process_runner runner;
        const target_context context{.processes = runner, .probe = nullptr, .work_dir = d.path};
        auto b = testing::make_bundle(
            "aes.test", "files", {{"dir", d.path.string()}, {"pfx_protection", "aes"}}
        );
        CHECK(apply_target(b, context).ok);
    }

    TEST_CASE("target: the result as JSON")
    {
        target_result r{.ok = false, .stage = "reload", .message = "m", .rolled_back = true};
        r.details["reload"] = {{"exit_code", 1}};
        const auto j = to_json(r);
        CHECK(j["ok"] == false);
        CHECK(j["stage"] == "reload");
        CHECK(j["message"] == "m");
        CHECK(j["rolled_back"] == true);
        CHECK(j["details"]["reload"]["exit_code"] == 1);
    }

    TEST_CASE("target: the chain is cut into the leaf, the intermediates and both")
    {
        const std::string leaf = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        const std::string mid = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----";
        const auto parts = split_chain_pem("junk\n" + leaf + "\r\ntext\n" + mid);
        CHECK(parts.cert == leaf + "\n");
        CHECK(parts.chain == mid + "\n");
        CHECK(parts.fullchain == leaf + "\n" + mid + "\n");
        CHECK(split_chain_pem(leaf + "\n").chain.empty());
        CHECK(split_chain_pem("no pem here").fullchain.empty());
        CHECK(split_chain_pem("-----BEGIN CERTIFICATE-----\ncut").fullchain.empty());
    }

    TEST_CASE("target: program output is trimmed, cut at the front and made valid UTF-8")
    {
        CHECK(trimmed_output("  \n ok: done \n\n") == "ok: done");
        CHECK(trimmed_output("a\x1b[31mred\tb\nc") == "a?[31mred\tb\nc");
        CHECK(trimmed_output("caf\xc3\xa9 \xff\xfe x \xc3") == "caf\xc3\xa9 ?? x ?");
        CHECK(trimmed_output("\xed\xa0\x80") == "???"); // a UTF-16 surrogate
        CHECK(trimmed_output("0123456789", 4) == "...6789");
        // Whatever comes out serializes.
        std::string noise;
        for (int i = 0; i < 256; ++i) {
            noise += static_cast<char>(i);
        }
        CHECK_NOTHROW(static_cast<void>(nlohmann::json(trimmed_output(noise)).dump()));
    }

    TEST_CASE("target: times in RFC 3339 UTC")
    {
        CHECK(utc_text(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00Z");
        CHECK(
            utc_text(std::chrono::system_clock::time_point{std::chrono::seconds{1767225599}}) ==
            "2025-12-31T23:59:59Z"
        );
    }
}

} // namespace certfleet::deploy
