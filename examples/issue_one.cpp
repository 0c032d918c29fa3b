// Issues one certificate through certfleet's library: an ACME account, a DNS authority for the
// delegated zone in this process, and one order whose DNS-01 value lands in that zone.
//
//   issue_one DIRECTORY_URL CA_BUNDLE NAME DELEGATED_TARGET ZONE_APEX LISTEN
//   issue_one https://127.0.0.1:14000/dir ca.pem www.example.com k3f9.acme.example.net
//             acme.example.net 127.0.0.1:5353
//
// The name's `_acme-challenge` CNAME must point at DELEGATED_TARGET, and the CA's resolver must
// reach LISTEN for ZONE_APEX. Prints the PEM chain, then the key, on stdout.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "acme/client.hpp"
#include "core/challenge_name.hpp"
#include "core/challenge_redirect.hpp"
#include "dns/challenge_records.hpp"
#include "dns/server.hpp"

using namespace certfleet;

int main(int argc, char** argv)
{
    if (argc != 7) {
        std::cerr
            << "usage: issue_one DIRECTORY_URL CA_BUNDLE NAME DELEGATED_TARGET ZONE_APEX LISTEN\n";
        return 2;
    }
    const std::string directory = argv[1], ca_bundle = argv[2], name = argv[3], target = argv[4],
                      apex = argv[5];
    auto listen = dns::parse_endpoint(argv[6], 53);
    if (!listen) {
        std::cerr << "LISTEN must be host:port\n";
        return 2;
    }

    // The delegated zone: SOA, NS and nothing else; TXT values arrive through `records`.
    dns::soa_fields soa{.mname = "ns1", .rname = "hostmaster", .minimum = 1};
    auto zone = dns::zone_builder::start(apex, soa).value();
    if (zone.add("@", dns::rr_type::ns, 60, "ns1") ||
        zone.add("ns1", dns::rr_type::a, 60, "127.0.0.1")) {
        std::cerr << "cannot build the zone\n";
        return 1;
    }
    dns::catalog zones({zone.finish().value()});
    dns::challenge_records records;

    boost::asio::io_context io;
    dns::server authority(
        io, dns::server_options{.listen = {*listen}}, dns::zone_data{&zones, &records}
    );
    if (auto ec = authority.start()) {
        std::cerr << "cannot listen: " << ec.message() << "\n";
        return 1;
    }
    // `_acme-challenge.<name>` is delegated to `target`: present the value there.
    core::challenge_redirect board(
        records,
        [&](std::string_view fqdn) -> std::optional<std::string> {
            if (core::managed_name_of(fqdn) == core::managed_name_for(name)) {
                return target;
            }
            return std::nullopt;
        }
    );

    net::http_client http(io.get_executor(), net::http_client_options{.ca_file = ca_bundle});
    acme::client client(
        http, core::private_key::generate(core::key_type::ec_p256).value(),
        acme::client_options{directory}
    );
    int status = 1;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            acme::account_options options;
            options.agree_to_terms = true;
            acme::order_request request;
            request.names.push_back(name);
            auto account = co_await client.register_account(options);
            if (!account) {
                std::cerr << account.error().message() << "\n";
                authority.stop();
                co_return;
            }
            auto cert = co_await client.issue(std::move(request), board);
            if (!cert) {
                std::cerr << cert.error().message() << "\n";
            } else {
                std::cout << cert->certificate_pem << cert->key.to_pem();
                status = 0;
            }
            authority.stop();
        },
        boost::asio::detached
    );
    io.run();
    return status;
}
