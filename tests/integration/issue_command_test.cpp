// `certfleet issue`, the one-shot path, with real parts (Pebble, NSD, unbound): it runs on the
// issuer of `serve` and `renew` (preflight, step retries), over a temporary store it removes,
// and installs fullchain.pem and key.pem as a pair.
#include <doctest/doctest.h>

#include "support/backend_rig.hpp"
#include "support/rig_certfleet.hpp"

namespace certfleet::test {
namespace {

std::filesystem::perms mode_of(const std::filesystem::path& file)
{
    return std::filesystem::status(file).permissions() & std::filesystem::perms::mask;
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("issue: one certificate through the issuer, installed as a pair, state removed")
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}}, .store = false});
        const auto out = rig.dir().path() / "out";
        const auto tmp = rig.dir().subdir("tmp");
        const auto first = rig.issue("www.customer.test", out, tmp);
        INFO(first.out, first.err);
        REQUIRE(first.exit_code == 0);
        const auto summary = nlohmann::json::parse(first.out);
        CHECK(summary["names"] == nlohmann::json::array({"www.customer.test"}));
        CHECK(summary["certificate"] == (out / "fullchain.pem").string());
        CHECK(summary["order"].get<std::string>().starts_with("https://127.0.0.1:"));
        CHECK(summary["serial"].get<std::string>().size() > 0);
        CHECK(key_matches_certificate(out / "fullchain.pem", out / "key.pem"));
        CHECK(
            (mode_of(out / "key.pem") ==
             (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write))
        );
        // The account key was created beside the configuration; the temporary store is gone.
        const auto account_key = rig.config().parent_path() / "account.key";
        CHECK(std::filesystem::exists(account_key));
        CHECK(std::filesystem::is_empty(tmp));

        // Again: the same account (its key kept), a new pair keeping the key file's mode.
        const auto key_before = read_text_file(account_key);
        const auto key_mode = std::filesystem::perms::owner_read |
                              std::filesystem::perms::owner_write |
                              std::filesystem::perms::group_read;
        std::filesystem::permissions(out / "key.pem", key_mode);
        const auto second = rig.issue("www.customer.test", out, tmp);
        INFO(second.out, second.err);
        REQUIRE(second.exit_code == 0);
        CHECK(nlohmann::json::parse(second.out)["serial"] != summary["serial"]);
        CHECK(read_text_file(account_key) == key_before);
        CHECK(key_matches_certificate(out / "fullchain.pem", out / "key.pem"));
        CHECK((mode_of(out / "key.pem") == key_mode));
        CHECK(std::filesystem::is_empty(tmp));
        CHECK(rig.pebble_orders() == 2);
    }

    TEST_CASE("issue: with a store configured, the certificate is kept there and issued again")
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}}});
        const auto out = rig.dir().path() / "out";
        const auto tmp = rig.dir().subdir("tmp");
        for (int round = 1; round <= 2; ++round) {
            const auto r = rig.issue("www.customer.test", out, tmp);
            INFO(r.out, r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(key_matches_certificate(out / "fullchain.pem", out / "key.pem"));
            const auto show = rig.certfleet_json({"cert", "show", "1"});
            CHECK(show["state"] == "valid");
            CHECK(show["versions"].size() == static_cast<std::size_t>(round));
        }
        CHECK(rig.certfleet_json({"cert", "list"}).size() == 1);
        // No account key file: the store's account is used.
        CHECK(!std::filesystem::exists(rig.config().parent_path() / "account.key"));
    }

    TEST_CASE("issue: a name whose CNAME is missing places no order and prints the reason")
    {
        auto options = preflight_cases();
        options.store = false;
        backend_rig rig(options);
        const auto out = rig.dir().path() / "out";
        const auto tmp = rig.dir().subdir("tmp");
        const auto missing = rig.issue("missing.customer.test", out, tmp);
        CHECK(missing.exit_code == 1);
        CHECK(missing.err.find("no order was placed") != std::string::npos);
        CHECK(missing.err.find("missing.customer.test") != std::string::npos);
        const auto caa = rig.issue("caa.customer.test", out, tmp);
        CHECK(caa.exit_code == 1);
        CHECK(caa.err.find("otherca.example") != std::string::npos);
        CHECK(rig.pebble_orders() == 0);
        CHECK(!std::filesystem::exists(out / "fullchain.pem"));
        CHECK(std::filesystem::is_empty(tmp));

        // A name without a [[domain]] entry is a usage error, before anything runs.
        const auto unmanaged = rig.issue("other.customer.test", out, tmp);
        CHECK(unmanaged.exit_code == 2);
        CHECK(unmanaged.err.find("[[domain]]") != std::string::npos);
    }

    TEST_CASE("issue: a domain target outside the challenge zone is a configuration error")
    {
        backend_rig rig({.domains = {{"www.customer.test", "www"}}, .store = false});
        const auto config = read_text_file(rig.config());
        const auto bad = rig.dir().write(
            "bad.toml", config + "[[domain]]\nname = \"x.customer.test\"\n"
                                 "target = \"x.elsewhere.test\"\n"
        );
        const auto r =
            run_certfleet({"issue", "--config", bad.string(), "--name", "www.customer.test"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("is not a label in the challenge zone") != std::string::npos);
    }

    TEST_CASE("issue: Pebble rejecting 30 % of nonces, 30 of 30 one-shot issuances succeed")
    {
        backend_rig rig(
            {.pebble = {.nonce_reject_percent = 30},
             .domains = {{"www.customer.test", "www"}},
             .store = false}
        );
        const auto tmp = rig.dir().subdir("tmp");
        int issued = 0;
        for (int i = 0; i < 30; ++i) {
            const auto out = rig.dir().path() / ("out" + std::to_string(i));
            const auto r = rig.issue("www.customer.test", out, tmp);
            INFO(r.err);
            CHECK(r.exit_code == 0);
            issued +=
                r.exit_code == 0 && key_matches_certificate(out / "fullchain.pem", out / "key.pem")
                    ? 1
                    : 0;
        }
        CHECK(issued == 30);
    }
}

} // namespace certfleet::test
