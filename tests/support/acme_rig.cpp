#include "support/acme_rig.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "core/challenge_name.hpp"

namespace certfleet::test {
namespace {

std::string customer_zone_text(const std::map<std::string, std::string>& cnames)
{
    std::string text = "$ORIGIN customer.test.\n$TTL 1\n"
                       "@ IN SOA ns1.customer.test. hostmaster.customer.test. 1 3600 600 86400 1\n"
                       "@ IN NS ns1.customer.test.\n"
                       "ns1 IN A 127.0.0.1\n"
                       "www IN A 127.0.0.1\n" +
                       core::challenge_name_for("plain") + " IN TXT \"not a cname\"\n";
    for (const auto& [name, label] : cnames) {
        text += core::challenge_name_for(name) + ". IN CNAME " + label + "." +
                std::string(delegated_zone) + ".\n";
    }
    return text;
}

} // namespace

std::optional<std::string> delegated_target(std::string_view challenge_fqdn)
{
    const auto name = core::managed_name_of(challenge_fqdn);
    if (!name) {
        return std::nullopt;
    }
    const std::string& managed = *name;
    const std::string suffix = "." + std::string(customer_zone);
    std::string label;
    if (managed == customer_zone) {
        label = "apex";
    } else if (managed.ends_with(suffix)) {
        label = managed.substr(0, managed.size() - suffix.size());
    } else {
        return std::nullopt;
    }
    return label + "." + std::string(delegated_zone);
}

acme_rig::acme_rig(acme_rig_options options)
    : authority_({make_zone(zone_spec{.apex = std::string(delegated_zone), .ttl = 1})}),
      customer_(
          dir_,
          nsd_options{
              .zones = {nsd_zone{std::string(customer_zone), customer_zone_text(options.cnames)}}}
      ),
      resolver_(
          dir_,
          unbound_options{
              .stubs =
                  {stub_zone{std::string(customer_zone), {customer_.port()}},
                   stub_zone{std::string(delegated_zone), {authority_.port()}}}}
      ),
      board_(authority_.challenges(), delegated_target)
{
    options.pebble.dns_server = resolver_.address();
    pebble_ = std::make_unique<pebble_ca>(dir_, std::move(options.pebble));
}

void acme_rig::run(std::function<boost::asio::awaitable<void>()> body, std::chrono::seconds limit)
{
    boost::asio::io_context io;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, body(), [&](std::exception_ptr e) {
        failure = e;
        done = true;
    });
    io.run_for(limit);
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!done) {
        throw rig_error(
            "the ACME exchange did not finish within " + std::to_string(limit.count()) + " s"
        );
    }
}

run_result acme_rig::verify(const std::string& chain_pem, int root_index) const
{
    const auto chain = dir_.write("verify/chain.pem", chain_pem);
    const auto root = dir_.write("verify/root.pem", pebble_->issuance_root_pem(root_index));
    // The leaf is the first certificate; the rest are untrusted intermediates.
    const auto end = chain_pem.find("-----END CERTIFICATE-----");
    const auto leaf = dir_.write("verify/leaf.pem", chain_pem.substr(0, end + 25) + "\n");
    return test::run(
        {"openssl", "verify", "-CAfile", root.string(), "-untrusted", chain.string(), leaf.string()}
    );
}

} // namespace certfleet::test
