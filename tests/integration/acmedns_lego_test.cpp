// The acme-dns compatible API with a real ACME client: lego issues certificates from Pebble, each
// challenge set through certfleet's acme-dns API and answered by certfleet's DNS through the
// customer's CNAME (NSD), as the CA's resolver (unbound) follows it.
//
// Debian's lego is built without its acme-dns provider (its goacmedns dependency is not packaged:
// "unrecognized DNS provider: acme-dns"), so lego runs its exec provider with
// tests/support/acmedns_hook.py, which does what that provider does over the same wire format
// and account file.
#include <doctest/doctest.h>

#include <boost/algorithm/string/predicate.hpp>
#include <fstream>

#include "support/backend_rig.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_net.hpp"

namespace certfleet::test {
namespace {

// certfleet with [acmedns] on a port of its own, and lego pointed at it.
class acmedns_lego
{
public:
    explicit acmedns_lego(const std::string& acmedns_extra)
        : api_port_(free_port()),
          rig_(
              {.extra_config = "[acmedns]\nlisten = [\"127.0.0.1:" + std::to_string(api_port_) +
                               "\"]\n" + acmedns_extra}
          )
    {
        rig_.start_serve();
        const bool listening = wait_for_tcp(api_port_, std::chrono::seconds(10), rig_.serve());
        REQUIRE_MESSAGE(
            listening, "the acme-dns API did not listen; its log:\n"
                           << rig_.serve()->log()
        );
    }

    // `lego run` for these names; its account and certificates live in the rig's directory.
    run_result lego(const std::vector<std::string>& names)
    {
        std::vector<std::string> argv{
            "lego",
            "--server",
            rig_.pebble().directory_url(),
            "--accept-tos",
            "--email",
            "ops@customer.test",
            "--path",
            (rig_.dir().path() / "lego").string(),
            "--key-type",
            "ec256",
            "--dns",
            "exec",
            "--dns.resolvers",
            rig_.resolver(),
            // Our DNS listens on a test port, not on the port 53 its NS records imply: lego
            // checks the TXT value through the resolver only.
            "--dns.disable-cp",
        };
        for (const auto& n : names) {
            argv.push_back("--domains");
            argv.push_back(n);
        }
        argv.push_back("run");
        return run(
            argv, {.timeout = std::chrono::seconds(120),
                   .env =
                       {
                           "ACME_DNS_API_BASE=http://127.0.0.1:" + std::to_string(api_port_),
                           "ACME_DNS_STORAGE_PATH=" + storage().string(),
                           "LEGO_CA_CERTIFICATES=" + rig_.pebble().https_ca_file().string(),
                           std::string("EXEC_PATH=") + CERTFLEET_SOURCE_DIR +
                               "/tests/support/acmedns_hook.py",
                           "EXEC_MODE=RAW",
                           "EXEC_SEQUENCE_INTERVAL=1", // exec solves one name after another
                           "EXEC_POLLING_INTERVAL=1",
                       }}
        );
    }

    // lego's account file (goacmedns's storage): domain → account.
    [[nodiscard]] std::filesystem::path storage() const
    {
        return rig_.dir().path() / "acme-dns-accounts.json";
    }

    // The subject alternative names of the certificate lego saved for `name`.
    [[nodiscard]] std::string certificate_names(const std::string& name) const
    {
        const auto file = rig_.dir().path() / "lego" / "certificates" / (name + ".crt");
        const auto r =
            run({"openssl", "x509", "-in", file.string(), "-noout", "-ext", "subjectAltName"});
        return r.exit_code == 0 ? r.out : "no certificate at " + file.string() + ": " + r.err;
    }

    backend_rig& rig() noexcept { return rig_; }

private:
    std::uint16_t api_port_;
    backend_rig rig_;
};

// A member of an account in goacmedns's file, whatever the case of its key.
std::string account_field(const nlohmann::json& account, std::string_view key)
{
    for (const auto& [k, v] : account.items()) {
        if (boost::algorithm::iequals(k, key) && v.is_string()) {
            return v.get<std::string>();
        }
    }
    return {};
}

std::string lego_output(const run_result& r)
{
    return "exit " + std::to_string(r.exit_code) + "\n" + tail_lines(r.out + r.err, 30);
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("acme-dns: lego registers through the API, then issues through the customer's CNAME")
    {
        acmedns_lego t("register_from = [\"127.0.0.0/8\"]\n");

        // The first run registers and stops: the customer must create the CNAME first.
        const auto first = t.lego({"www.customer.test"});
        INFO(lego_output(first));
        CHECK(first.exit_code != 0);
        CHECK((first.out + first.err).find("CNAME") != std::string::npos);
        const auto accounts = nlohmann::json::parse(read_text_file(t.storage()), nullptr, false);
        REQUIRE(accounts.contains("www.customer.test"));
        const auto& account = accounts["www.customer.test"];
        const auto subdomain = account_field(account, "subdomain");
        REQUIRE(!subdomain.empty());
        CHECK(account_field(account, "fulldomain") == subdomain + ".acme.delegated.test");

        t.rig().set_cname("www.customer.test", subdomain);
        const auto second = t.lego({"www.customer.test"});
        INFO(lego_output(second));
        REQUIRE(second.exit_code == 0);
        CHECK(
            t.certificate_names("www.customer.test").find("DNS:www.customer.test") !=
            std::string::npos
        );

        // The operator sees the registration and the value lego left (acme-dns has no delete).
        const auto listed = t.rig().certfleet_json({"acmedns", "list"});
        REQUIRE(listed.size() == 1);
        CHECK(listed[0]["username"] == account_field(account, "username"));
        CHECK(listed[0]["created_by"] == "api from 127.0.0.1");
        CHECK(listed[0]["values"].size() == 1);
        const auto log = t.rig().serve()->log();
        CHECK(log.find("set a TXT value at " + subdomain) != std::string::npos);
        CHECK(log.find(account_field(account, "password")) == std::string::npos);
    }

    TEST_CASE("acme-dns: closed registration refuses lego, an operator's registration serves "
              "the apex and its wildcard at once")
    {
        acmedns_lego t("");
        const auto refused = t.lego({"customer.test"});
        INFO(lego_output(refused));
        CHECK(refused.exit_code != 0);
        CHECK((refused.out + refused.err).find("forbidden") != std::string::npos);
        CHECK(t.rig().certfleet_json({"acmedns", "list"}).empty());

        // The operator registers the client and hands lego its account file.
        const auto created = t.rig().certfleet_json(
            {"acmedns", "register", "--allowfrom", "127.0.0.0/8", "--allowfrom", "::1/128"}
        );
        REQUIRE(created.contains("password"));
        CHECK(created["allowfrom"].size() == 2);
        std::ofstream(t.storage()) << nlohmann::json{{"customer.test", created}}.dump();
        t.rig().set_cname("customer.test", created["subdomain"]);

        // One registration, two authorizations, two TXT values at one name.
        const auto issued = t.lego({"customer.test", "*.customer.test"});
        INFO(lego_output(issued));
        REQUIRE(issued.exit_code == 0);
        const auto names = t.certificate_names("customer.test");
        CHECK(names.find("DNS:customer.test") != std::string::npos);
        CHECK(names.find("DNS:*.customer.test") != std::string::npos);
        const auto shown =
            t.rig().certfleet_json({"acmedns", "show", created["username"].get<std::string>()});
        CHECK(shown["values"].size() == 2);

        const auto deleted =
            t.rig().certfleet({"acmedns", "delete", created["username"].get<std::string>()});
        CHECK(deleted.exit_code == 0);
        CHECK(t.rig().certfleet_json({"acmedns", "list"}).empty());
        const auto again =
            t.rig().certfleet({"acmedns", "show", created["username"].get<std::string>()});
        CHECK(again.exit_code == 1);
        CHECK(again.err.find("certfleet acmedns list") != std::string::npos);
    }
}

} // namespace certfleet::test
