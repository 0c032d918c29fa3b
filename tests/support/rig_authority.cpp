#include "support/rig_authority.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <future>

#include "dns/zone_file.hpp"
#include "support/rig.hpp"
#include "support/rig_net.hpp"

namespace certfleet::test {

std::shared_ptr<const dns::zone> make_zone(const zone_spec& spec)
{
    dns::soa_fields soa;
    soa.mname = spec.ns;
    soa.rname = "hostmaster." + spec.apex + ".";
    soa.minimum = spec.negative_ttl;
    soa.ttl = spec.ttl;
    auto builder = dns::zone_builder::start(spec.apex, soa);
    if (!builder) {
        throw rig_error("zone " + spec.apex + ": " + builder.error().message());
    }
    if (auto ec = builder->add("@", dns::rr_type::ns, spec.ttl, spec.ns)) {
        throw rig_error("zone " + spec.apex + ": NS " + spec.ns + ": " + ec.message());
    }
    if (auto ec = builder->add(spec.ns, dns::rr_type::a, spec.ttl, "127.0.0.1")) {
        throw rig_error("zone " + spec.apex + ": glue for " + spec.ns + ": " + ec.message());
    }
    if (auto error = dns::load_zone_file(spec.records, *builder, spec.ttl)) {
        throw rig_error(
            "zone " + spec.apex + ": records line " + std::to_string(error->line) + ": " +
            error->what
        );
    }
    auto z = builder->finish();
    if (!z) {
        throw rig_error("zone " + spec.apex + ": " + z.error().message());
    }
    return *z;
}

in_process_authority::in_process_authority(
    std::vector<std::shared_ptr<const dns::zone>> zones, dns::server_options options
)
    : io_(1), work_(io_.get_executor()), catalog_(std::move(zones))
{
    const bool pick_port = options.listen.empty();
    // Not port 0: the kernel would pick the UDP port from the ephemeral range, where the same
    // TCP port may be held by a client connection of another test; free_port() stays below it.
    for (int attempt = 1;; ++attempt) {
        if (pick_port) {
            options.listen = {{boost::asio::ip::make_address("127.0.0.1"), free_port()}};
        }
        server_ =
            std::make_unique<dns::server>(io_, options, dns::zone_data{&catalog_, &challenges_});
        const auto ec = server_->start();
        if (!ec) {
            break;
        }
        if (!pick_port || attempt == 3 || ec != boost::asio::error::address_in_use) {
            throw rig_error("in-process DNS authority cannot listen: " + ec.message());
        }
    }
    port_ = server_->local_endpoints().front().port();
    thread_ = std::thread([this] { io_.run(); });
}

in_process_authority::~in_process_authority()
{
    stop();
}

std::string in_process_authority::address() const
{
    return loopback(port_);
}

dns::server_stats in_process_authority::stats()
{
    if (!thread_.joinable()) {
        return server_->stats();
    }
    std::promise<dns::server_stats> result;
    auto future = result.get_future();
    boost::asio::post(io_, [&] { result.set_value(server_->stats()); });
    return future.get();
}

void in_process_authority::post(std::function<void()> f)
{
    boost::asio::post(io_, std::move(f));
}

void in_process_authority::replace_zones(std::vector<std::shared_ptr<const dns::zone>> zones)
{
    server_->replace_zones(std::make_shared<const dns::catalog>(std::move(zones)));
}

void in_process_authority::stop()
{
    if (!thread_.joinable()) {
        return;
    }
    // The server's sockets belong to the io thread: close them there, then let run() return
    // once the aborted operations have completed.
    boost::asio::post(io_, [this] {
        server_->stop();
        work_.reset();
    });
    thread_.join();
}

} // namespace certfleet::test
