#include "app/authority.hpp"

#include <iostream>
#include <sstream>

#include "app/log.hpp"

namespace certfleet::app {

authority::authority(boost::asio::io_context& io, const dns::dns_config& config)
    : zones_(config.zones), server_(io, config.server, dns::zone_data{&zones_, &challenges_})
{}

bool authority::start()
{
    if (auto ec = server_.start()) {
        std::cerr << "certfleet: cannot listen for DNS: " << ec.message()
                  << "\nAnother server may hold the port, or binding below 1024 needs privileges: "
                     "choose other addresses in dns.listen (or --listen).\n";
        return false;
    }
    for (const auto& z : zones_.zones()) {
        log(level::info, "serving zone " + dns::name_to_text(z->apex()) + " (" +
                             std::to_string(z->name_count()) + " names)");
    }
    for (const auto& e : server_.local_endpoints()) {
        std::ostringstream s;
        s << e;
        log(level::info, "DNS listening on " + s.str() + " (UDP and TCP)");
    }
    return true;
}

} // namespace certfleet::app
