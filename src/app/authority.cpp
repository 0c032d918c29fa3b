#include "app/authority.hpp"

#include <iostream>
#include <sstream>

#include "app/log.hpp"
#include "dns/errc.hpp"

namespace certfleet::app {

authority::authority(boost::asio::io_context& io, const dns::dns_config& config)
    : zones_(config.zones), server_(io, config.server, dns::zone_data{&zones_, &challenges_})
{}

namespace {

void log_zones(const dns::catalog& zones)
{
    for (const auto& z : zones.zones()) {
        log(level::info, "serving zone " + dns::name_to_text(z->apex()) + " (" +
                             std::to_string(z->name_count()) + " names)");
    }
}

} // namespace

bool authority::start()
{
    if (auto ec = server_.start(); ec == dns::errc::descriptor_limit) {
        std::cerr << "certfleet: cannot serve DNS: " << ec.message()
                  << "\nRaise the limit (ulimit -n, LimitNOFILE=) or lower "
                     "dns.max_tcp_connections.\n";
        return false;
    } else if (ec) {
        std::cerr << "certfleet: cannot listen for DNS: " << ec.message()
                  << "\nAnother server may hold the port, or binding below 1024 needs privileges: "
                     "choose other addresses in dns.listen (or --listen).\n";
        return false;
    }
    log_zones(zones_);
    for (const auto& e : server_.local_endpoints()) {
        std::ostringstream s;
        s << e;
        log(level::info, "DNS listening on " + s.str() + " (UDP and TCP, " +
                             std::to_string(server_.thread_count()) + " threads)");
    }
    return true;
}

void authority::replace_zones(const dns::dns_config& config)
{
    auto zones = std::make_shared<const dns::catalog>(config.zones);
    log_zones(*zones);
    server_.replace_zones(std::move(zones));
}

} // namespace certfleet::app
