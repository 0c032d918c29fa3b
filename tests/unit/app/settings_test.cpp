#include "app/settings.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <random>

#include "core/config_error.hpp"

namespace certfleet::app {
namespace {

const std::string base_config = R"(
[store]
database = "certfleet.db"

[dns]
listen = ["127.0.0.1:5353"]
challenge_ttl = 3

[[dns.zone]]
apex = "Acme.Example.Net"
soa = { mname = "ns1", rname = "hostmaster.example.net." }
ns = [ { name = "ns1", addresses = ["127.0.0.1"] } ]
)";

// Loads `text` from a file of its own; returns the settings or the configuration error.
struct loaded
{
    std::optional<server_settings> settings;
    std::string error;
};

loaded load(const std::string& text)
{
    std::random_device random;
    const auto file = std::filesystem::temp_directory_path() /
                      ("certfleet-settings-" + std::to_string(random()) + ".toml");
    std::ofstream(file) << text;
    loaded out;
    try {
        out.settings = load_settings(file.string());
    } catch (const core::config_error& e) {
        out.error = e.what();
    }
    std::filesystem::remove(file);
    return out;
}

} // namespace

TEST_SUITE("app")
{
    TEST_CASE("settings: [acmedns] is off without its section, and its defaults are sensible")
    {
        CHECK_FALSE(load(base_config).settings.value().acmedns.enabled);
        const auto s =
            load(base_config + "[acmedns]\nlisten = [\"127.0.0.1:8053\", \"[::1]:8053\"]\n")
                .settings.value();
        const auto& a = s.acmedns;
        CHECK(a.enabled);
        REQUIRE(a.listen.size() == 2);
        CHECK(a.listen[1].address().is_v6());
        CHECK(a.listen[1].port() == 8053);
        CHECK(a.tls_certificate.empty());
        CHECK(a.api.zone == "acme.example.net");
        CHECK(a.api.ttl == std::chrono::seconds(3));
        CHECK(a.api.registration == dns::acmedns_registration_policy::closed);
        CHECK(a.api.register_from.empty());
        CHECK(a.api.proxy_header.empty());
        CHECK(a.api.value_lifetime == std::chrono::hours(1));
        CHECK(a.api.max_values == 8);
        CHECK_FALSE(
            load(base_config + "[acmedns]\nenabled = false\n").settings.value().acmedns.enabled
        );
    }

    TEST_CASE("settings: [acmedns] reads every key")
    {
        const auto a = load(base_config + R"([acmedns]
listen = ["127.0.0.1:8443"]
tls_certificate = "api.pem"
tls_key = "api.key"
registration = "open"
register_from = ["10.0.0.0/8", "2001:db8::/32"]
proxy_header = "X-Forwarded-For"
value_lifetime_s = 600
max_values = 20
)")
                           .settings.value()
                           .acmedns;
        CHECK(a.tls_certificate.filename() == "api.pem");
        CHECK(a.tls_key.is_absolute());
        CHECK(a.api.registration == dns::acmedns_registration_policy::open);
        REQUIRE(a.api.register_from.size() == 2);
        CHECK(a.api.register_from[1].text() == "2001:db8::/32");
        CHECK(a.api.proxy_header == "X-Forwarded-For");
        CHECK(a.api.value_lifetime == std::chrono::seconds(600));
        CHECK(a.api.max_values == 20);
    }

    TEST_CASE("settings: [acmedns] errors name the key and say what is expected")
    {
        const std::string listen = "[acmedns]\nlisten = [\"127.0.0.1:8053\"]\n";
        const struct
        {
            std::string text;
            std::string error;
        } cases[] = {
            {"[acmedns]\n", "acmedns.listen: missing"},
            {"[acmedns]\nlisten = [\"127.0.0.1\"]\n", "acmedns.listen: '127.0.0.1' is not"},
            {"[acmedns]\nenabled = \"yes\"\n", "acmedns.enabled: expected true or false"},
            {listen + "registration = \"token\"\n", "acmedns.registration: 'token'"},
            {listen + "register_from = [\"10.0.0.1\"]\n", "acmedns.register_from[0]: '10.0.0.1'"},
            {listen + "tls_certificate = \"a.pem\"\n", "go together"},
            {listen + "proxy_header = \"X-Forwarded-For: x\"\n", "acmedns.proxy_header"},
            {listen + "max_values = 0\n", "at least 1"},
            {listen + "value_lifetime_s = -5\n", "acmedns.value_lifetime_s"},
        };
        for (const auto& c : cases) {
            INFO(c.text);
            const auto r = load(base_config + c.text);
            CHECK_FALSE(r.settings.has_value());
            CHECK(r.error.find(c.error) != std::string::npos);
        }
        std::string without_store = base_config;
        without_store.erase(0, without_store.find("[dns]"));
        CHECK(
            load(without_store + listen).error.find("add a [store] section") != std::string::npos
        );
    }
}

TEST_CASE("settings: [acme] account_key is read beside the configuration file")
{
    const std::string acme = "[acme]\ndirectory = \"https://ca.test/dir\"\n";
    const auto without = load(base_config + acme).settings.value();
    CHECK_FALSE(without.account_key_file.has_value());
    CHECK(without.config_dir == std::filesystem::temp_directory_path());
    const auto with =
        load(base_config + acme + "account_key = \"keys/account.key\"\n").settings.value();
    REQUIRE(with.account_key_file.has_value());
    CHECK(*with.account_key_file == std::filesystem::temp_directory_path() / "keys/account.key");
    CHECK_FALSE(load(base_config + acme + "account_key = 3\n").error.empty());
}
} // namespace certfleet::app
