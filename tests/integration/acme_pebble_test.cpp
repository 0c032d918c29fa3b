// The ACME client against Pebble, with DNS-01 answered by certfleet's authority through the
// customer's CNAME, resolved by unbound (DESIGN section 8).
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "acme/client.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/jwk.hpp"
#include "support/acme_rig.hpp"

using namespace certfleet;
using namespace certfleet::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// The client's options at the rig's Pebble; its default badNonce retries unless given.
acme::client_options client_options_for(acme_rig& rig, std::optional<int> max_bad_nonce_retries)
{
    acme::client_options options{rig.pebble().directory_url()};
    if (max_bad_nonce_retries) {
        options.max_bad_nonce_retries = *max_bad_nonce_retries;
    }
    return options;
}

// GCC 12 frees a braced temporary holding strings twice when it sits in a full-expression with
// a co_await (`session s(co_await ..., rig)`): the default arguments here hold no string.
struct session
{
    net::http_client http;
    acme::client client;

    session(
        asio::any_io_executor ex,
        acme_rig& rig,
        core::key_type account_key = core::key_type::ec_p256,
        std::optional<int> max_bad_nonce_retries = std::nullopt
    )
        : http(ex, net::http_client_options{.ca_file = rig.pebble().https_ca_file().string()}),
          client(
              http,
              core::private_key::generate(account_key).value(),
              client_options_for(rig, max_bad_nonce_retries)
          )
    {}
};

acme::order_request
order_for(std::vector<std::string> names, core::key_type type = core::key_type::ec_p256)
{
    acme::order_request r;
    r.names = std::move(names);
    r.key_type = type;
    r.timeout = 60s;
    r.challenge_ttl = 1s;
    return r;
}

// Returns once done() holds, looking every 20 ms: for orders spawned on the same io_context.
asio::awaitable<void> poll_until(std::function<bool()> done)
{
    asio::system_timer t(co_await asio::this_coro::executor);
    while (!done()) {
        t.expires_after(20ms);
        co_await t.async_wait(asio::use_awaitable);
    }
}

void check_issued(
    acme_rig& rig, const acme::issued_certificate& cert, const std::vector<std::string>& names
)
{
    const auto verified = rig.verify(cert.certificate_pem);
    CHECK_MESSAGE(verified.exit_code == 0, verified.out << verified.err);
    const auto chain = core::parse_pem_chain(cert.certificate_pem).value();
    REQUIRE(chain.size() >= 2);
    auto sans = chain.front().dns_names;
    auto expected = names;
    std::sort(sans.begin(), sans.end());
    std::sort(expected.begin(), expected.end());
    CHECK(sans == expected);
    CHECK(core::certificate_matches_key(chain.front(), cert.key));
    CHECK(rig.records().size() == 0); // every TXT value cleaned up
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("Pebble issues through the delegated DNS: one name, three names, apex + wildcard, "
              "each key type")
    {
        acme_rig rig;
        rig.run([&]() -> asio::awaitable<void> {
            session s(co_await asio::this_coro::executor, rig);
            acme::account_options options{{"mailto:ops@customer.test"}, true, std::nullopt};
            auto account = co_await s.client.register_account(options);
            REQUIRE_MESSAGE(account.has_value(), (account ? "" : account.error().message()));

            struct variant
            {
                std::vector<std::string> names;
                core::key_type type;
            };
            const std::vector<variant> variants{
                {{"www.customer.test"}, core::key_type::ec_p256},
                {{"www.customer.test", "api.customer.test", "shop.customer.test"},
                 core::key_type::ec_p384},
                {{"customer.test", "*.customer.test"}, core::key_type::rsa_2048},
                {{"api.customer.test"}, core::key_type::rsa_3072},
                {{"shop.customer.test"}, core::key_type::rsa_4096},
            };
            for (const auto& v : variants) {
                CAPTURE(v.names.front());
                auto request = order_for(v.names, v.type);
                auto issued = co_await s.client.issue(std::move(request), rig.board());
                REQUIRE_MESSAGE(issued.has_value(), (issued ? "" : issued.error().message()));
                CHECK(issued->key.type() == v.type);
                check_issued(rig, *issued, v.names);
            }
        });
    }

    TEST_CASE("account: find, contacts, key rollover then a new order, deactivation")
    {
        acme_rig rig;
        rig.run([&]() -> asio::awaitable<void> {
            session s(co_await asio::this_coro::executor, rig);
            auto missing = co_await s.client.find_account();
            REQUIRE_FALSE(missing.has_value());
            REQUIRE(missing.error().ca_problem);
            CHECK(missing.error().ca_problem->is("accountDoesNotExist"));

            acme::account_options options{{"mailto:a@customer.test"}, true, std::nullopt};
            auto created = co_await s.client.register_account(options);
            REQUIRE(created.has_value());
            auto found = co_await s.client.find_account();
            REQUIRE(found.has_value());
            CHECK(found->url == created->url);
            std::vector<std::string> contact{"mailto:b@customer.test"};
            auto updated = co_await s.client.update_contact(contact);
            REQUIRE(updated.has_value());
            CHECK(updated->details.contact == contact);

            const auto old_thumbprint = core::jwk_thumbprint(s.client.account_key());
            auto new_key = core::private_key::generate(core::key_type::ec_p384).value();
            auto rolled = co_await s.client.rollover_key(std::move(new_key));
            REQUIRE_MESSAGE(rolled.has_value(), (rolled ? "" : rolled.error().message()));
            CHECK(core::jwk_thumbprint(s.client.account_key()) != old_thumbprint);
            auto issued_request = order_for({"www.customer.test"});
            auto issued = co_await s.client.issue(std::move(issued_request), rig.board());
            REQUIRE_MESSAGE(issued.has_value(), (issued ? "" : issued.error().message()));
            check_issued(rig, *issued, {"www.customer.test"});

            auto deactivated = co_await s.client.deactivate_account();
            REQUIRE(deactivated.has_value());
            auto after_request = order_for({"www.customer.test"});
            auto after = co_await s.client.issue(std::move(after_request), rig.board());
            CHECK_FALSE(after.has_value());
        });
    }

    TEST_CASE("revocation by the account key and by the certificate key")
    {
        acme_rig rig;
        rig.run([&]() -> asio::awaitable<void> {
            session s(co_await asio::this_coro::executor, rig);
            const acme::account_options plain{{}, true, std::nullopt};
            REQUIRE((co_await s.client.register_account(plain)).has_value());
            auto first_request = order_for({"www.customer.test"});
            auto first = co_await s.client.issue(std::move(first_request), rig.board());
            REQUIRE(first.has_value());
            auto revoked = co_await s.client.revoke(first->certificate_pem, 4);
            REQUIRE_MESSAGE(revoked.has_value(), (revoked ? "" : revoked.error().message()));
            auto again = co_await s.client.revoke(first->certificate_pem, 4);
            REQUIRE_FALSE(again.has_value());
            REQUIRE(again.error().ca_problem);
            CHECK(again.error().ca_problem->is("alreadyRevoked"));

            auto second_request = order_for({"api.customer.test"});
            auto second = co_await s.client.issue(std::move(second_request), rig.board());
            REQUIRE(second.has_value());
            auto by_key =
                co_await s.client.revoke(second->certificate_pem, 1, std::move(second->key));
            CHECK_MESSAGE(by_key.has_value(), (by_key ? "" : by_key.error().message()));
        });
    }

    TEST_CASE("a CNAME to the wrong label: an invalid order with the CA's detail, TXT cleaned up")
    {
        acme_rig rig;
        rig.run([&]() -> asio::awaitable<void> {
            session s(co_await asio::this_coro::executor, rig);
            const acme::account_options plain{{}, true, std::nullopt};
            REQUIRE((co_await s.client.register_account(plain)).has_value());
            auto issued_request = order_for({"wrong.customer.test"});
            auto issued = co_await s.client.issue(std::move(issued_request), rig.board());
            REQUIRE_FALSE(issued.has_value());
            const auto& f = issued.error();
            CHECK(f.code == acme::errc::order_invalid);
            REQUIRE(f.ca_problem);
            CHECK(f.message().find("wrong.customer.test") != std::string::npos);
            MESSAGE(f.message());
            CHECK(rig.records().size() == 0);
        });
    }

    TEST_CASE("30% of nonces rejected: every order still succeeds")
    {
        acme_rig rig(acme_rig_options{.pebble = {.nonce_reject_percent = 30}});
        rig.run([&]() -> asio::awaitable<void> {
            session s(co_await asio::this_coro::executor, rig);
            const acme::account_options plain{{}, true, std::nullopt};
            REQUIRE((co_await s.client.register_account(plain)).has_value());
            for (int i = 0; i < 3; ++i) {
                auto issued_request = order_for({"www.customer.test", "api.customer.test"});
                auto issued = co_await s.client.issue(std::move(issued_request), rig.board());
                REQUIRE_MESSAGE(issued.has_value(), (issued ? "" : issued.error().message()));
            }
            CHECK(s.client.stats().bad_nonce_retries > 0);
        });
    }

    TEST_CASE("30% of nonces rejected: 30 certificates, three names at a time, all issued")
    {
        acme_rig rig(acme_rig_options{.pebble = {.nonce_reject_percent = 30}});
        // With the client's default badNonce retries, then with a single one: badNonce then runs
        // out on about 9% of requests (0.3 × 0.3), at every step of the order, and the order
        // machine's step retries must carry every order through.
        const int default_retries = acme::client_options{}.max_bad_nonce_retries;
        for (const int client_retries : {default_retries, 1}) {
            CAPTURE(client_retries);
            rig.run(
                [&]() -> asio::awaitable<void> {
                    auto ex = co_await asio::this_coro::executor;
                    session s(ex, rig, core::key_type::ec_p256, client_retries);
                    // newAccount is not an order step: with one badNonce retry it may need a few.
                    const acme::account_options plain{{}, true, std::nullopt};
                    bool registered = false;
                    for (int i = 0; i < 10 && !registered; ++i) {
                        registered = (co_await s.client.register_account(plain)).has_value();
                    }
                    REQUIRE(registered);
                    const std::vector<std::string> names{
                        "www.customer.test", "api.customer.test", "shop.customer.test"};
                    constexpr int per_name = 10;
                    int issued = 0;
                    int finished = 0;
                    std::vector<std::string> failures;
                    for (const auto& name : names) {
                        asio::co_spawn(
                            ex,
                            [&, name]() -> asio::awaitable<void> {
                                for (int i = 0; i < per_name; ++i) {
                                    auto request = order_for({name});
                                    auto cert =
                                        co_await s.client.issue(std::move(request), rig.board());
                                    if (!cert) {
                                        failures.push_back(name + ": " + cert.error().message());
                                        continue;
                                    }
                                    const auto chain = core::parse_pem_chain(cert->certificate_pem);
                                    if (chain && chain->front().dns_names ==
                                                     std::vector<std::string>{name}) {
                                        ++issued;
                                    } else {
                                        failures.push_back(name + ": not a certificate for it");
                                    }
                                }
                                ++finished;
                            },
                            asio::detached
                        );
                    }
                    const std::function<bool()> all_finished = [&] {
                        return finished == std::ssize(names);
                    };
                    co_await poll_until(all_finished); // built before the co_await: see session
                    for (const auto& f : failures) {
                        MESSAGE(f);
                    }
                    CHECK(issued == per_name * static_cast<int>(names.size()));
                    CHECK(rig.records().size() == 0);
                    CHECK(s.client.stats().bad_nonce_retries > 0);
                    MESSAGE(
                        issued << " of " << per_name * static_cast<int>(names.size())
                               << " issued with " << client_retries
                               << " badNonce retries per request; badNonce retries "
                               << s.client.stats().bad_nonce_retries << ", requests "
                               << s.client.stats().requests
                    );
                },
                100s // twice, within the 240 s ctest gives an integration test
            );
        }
    }

    TEST_CASE("external account binding: the right MAC works, a wrong one fails clearly")
    {
        const std::string kid = "kid-1";
        const std::string mac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
        acme_rig rig(acme_rig_options{.pebble = {.eab_required = true, .eab_keys = {{kid, mac}}}});
        rig.run([&]() -> asio::awaitable<void> {
            session without(co_await asio::this_coro::executor, rig);
            const acme::account_options plain{{}, true, std::nullopt};
            auto refused = co_await without.client.register_account(plain);
            REQUIRE_FALSE(refused.has_value());
            CHECK(refused.error().message().find("external account binding") != std::string::npos);

            session wrong(co_await asio::this_coro::executor, rig);
            const acme::account_options wrong_mac{
                {},
                true,
                acme::external_account_binding{
                    kid, "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH"}};
            auto bad = co_await wrong.client.register_account(wrong_mac);
            REQUIRE_FALSE(bad.has_value());
            REQUIRE(bad.error().ca_problem);
            MESSAGE(bad.error().message());

            session right(co_await asio::this_coro::executor, rig);
            const acme::account_options right_mac{
                {}, true, acme::external_account_binding{kid, mac}};
            auto good = co_await right.client.register_account(right_mac);
            REQUIRE_MESSAGE(good.has_value(), (good ? "" : good.error().message()));
            auto request = order_for({"www.customer.test"});
            auto issued = co_await right.client.issue(std::move(request), rig.board());
            REQUIRE(issued.has_value());
        });
    }

    TEST_CASE("many orders at once on one io_context share the account and the nonce pool")
    {
        acme_rig rig;
        rig.run([&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            session s(ex, rig);
            const acme::account_options plain{{}, true, std::nullopt};
            REQUIRE((co_await s.client.register_account(plain)).has_value());
            int ok = 0;
            int finished = 0;
            const std::vector<std::string> names{
                "www.customer.test", "api.customer.test", "shop.customer.test", "customer.test"};
            for (const auto& name : names) {
                asio::co_spawn(
                    ex,
                    [&, name]() -> asio::awaitable<void> {
                        auto issued_request = order_for({name});
                        auto issued =
                            co_await s.client.issue(std::move(issued_request), rig.board());
                        ok += issued ? 1 : 0;
                        ++finished;
                    },
                    asio::detached
                );
            }
            const std::function<bool()> all_finished = [&] {
                return finished == std::ssize(names);
            };
            co_await poll_until(all_finished); // built before the co_await: see session
            CHECK(ok == static_cast<int>(names.size()));
            CHECK(rig.records().size() == 0);
        });
    }
}

TEST_SUITE("integration")
{
    TEST_CASE(
        "a preferred chain among Pebble's alternates is chosen by issuer name with an RS256 account"
    )
    {
        acme_rig rig(acme_rig_options{.pebble = {.alternate_roots = 1}});
        const auto alternate_root =
            core::parse_pem_chain(rig.pebble().issuance_root_pem(1)).value().front();
        rig.run([&]() -> asio::awaitable<void> {
            session s(co_await asio::this_coro::executor, rig, core::key_type::rsa_2048);
            const acme::account_options plain{{}, true, std::nullopt};
            REQUIRE((co_await s.client.register_account(plain)).has_value());
            auto request = order_for({"www.customer.test"});
            request.preferred_chain_issuer = alternate_root.subject_cn;
            auto issued = co_await s.client.issue(std::move(request), rig.board());
            REQUIRE_MESSAGE(issued.has_value(), (issued ? "" : issued.error().message()));
            CHECK(issued->alternate_urls.size() == 1);
            const auto chain = core::parse_pem_chain(issued->certificate_pem).value();
            CHECK(chain.back().issuer_cn == alternate_root.subject_cn);
            CHECK(rig.verify(issued->certificate_pem, 1).exit_code == 0);
            CHECK(rig.verify(issued->certificate_pem, 0).exit_code != 0);
        });
    }
}
