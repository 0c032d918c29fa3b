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

// One HTTPS request with Python's client, trusting `ca_file`, with a bearer token when one is
// given: "STATUS BODY".
std::string https_call(
    const std::filesystem::path& ca_file,
    const std::string& method,
    const std::string& url,
    const std::string& token = ""
)
{
    const auto r = run(
        {"python3", "-c",
         "import ssl, sys, urllib.request, urllib.error\n"
         "context = ssl.create_default_context(cafile=sys.argv[1])\n"
         "headers = {'Authorization': 'Bearer ' + sys.argv[4]} if sys.argv[4] else {}\n"
         "data = b'' if sys.argv[2] == 'POST' else None\n"
         "request = urllib.request.Request(sys.argv[3], method=sys.argv[2], data=data, "
         "headers=headers)\n"
         "try:\n"
         "    with urllib.request.urlopen(request, context=context, timeout=10) as response:\n"
         "        print(response.status, response.read().decode())\n"
         "except urllib.error.HTTPError as e:\n"
         "    print(e.code, e.read().decode())\n",
         ca_file.string(), method, url, token}
    );
    return r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "failed: " + r.err;
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

    TEST_CASE("acme-dns: the API over HTTPS on IPv4 and IPv6, registration open to register_from")
    {
        temp_dir pki("certfleet-acmedns-tls");
        const auto cert = pki.path() / "api.pem";
        const auto key = pki.path() / "api.key";
        const auto made = run(
            {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "1", "-subj", "/CN=certfleet acme-dns test", "-addext",
             "subjectAltName=IP:127.0.0.1,IP:::1", "-keyout", key.string(), "-out", cert.string()}
        );
        REQUIRE_MESSAGE(made.exit_code == 0, made.err);
        const auto port = std::to_string(free_port());
        backend_rig rig(
            {.extra_config = "[acmedns]\nlisten = [\"127.0.0.1:" + port + "\", \"[::1]:" + port +
                             "\"]\ntls_certificate = \"" + cert.string() + "\"\ntls_key = \"" +
                             key.string() + "\"\nregister_from = [\"::1/128\"]\n"}
        );
        rig.start_serve();
        REQUIRE(wait_for_tcp(
            static_cast<std::uint16_t>(std::stoi(port)), std::chrono::seconds(10), rig.serve()
        ));

        CHECK(https_call(cert, "GET", "https://127.0.0.1:" + port + "/health") == "200 ");
        const auto v4 = https_call(cert, "POST", "https://127.0.0.1:" + port + "/register");
        CHECK(v4 == "401 {\"error\": \"forbidden\"}");
        const auto v6 = https_call(cert, "POST", "https://[::1]:" + port + "/register");
        REQUIRE(v6.starts_with("201 "));
        const auto created = nlohmann::json::parse(v6.substr(4));
        CHECK(
            created["fulldomain"] ==
            created["subdomain"].get<std::string>() + ".acme.delegated.test"
        );
        // An API token of scope register opens registration from anywhere; one of scope read
        // does not.
        const auto token = [&](const std::string& name, const std::string& scope) {
            const auto r = rig.certfleet({"token", "create", "--name", name, "--scope", scope});
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            return r.out.substr(0, r.out.find('\n'));
        };
        const auto url = "https://127.0.0.1:" + port + "/register";
        CHECK(https_call(cert, "POST", url, token("reader", "read")).starts_with("401 "));
        CHECK(https_call(cert, "POST", url, token("ci", "register")).starts_with("201 "));

        const auto listed = rig.certfleet_json({"acmedns", "list"});
        REQUIRE(listed.size() == 2);
        CHECK(listed[0]["created_by"] == "api from ::1");
        CHECK(listed[1]["created_by"] == "api token from 127.0.0.1");
        CHECK(
            rig.serve()->log().find("acme-dns API listening on [::1]:" + port + " (HTTPS)") !=
            std::string::npos
        );
    }
}

} // namespace certfleet::test
