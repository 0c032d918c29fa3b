#include "app/acmedns_service.hpp"

#include <iostream>
#include <sstream>

#include "app/log.hpp"

namespace certfleet::app {
namespace {

// Often enough that an expired value or a registration deleted from the command line leaves
// the zone soon; each pass is two small queries.
constexpr std::chrono::seconds sync_interval{5};

// Small bodies only: a registration's allowfrom list or one TXT value.
constexpr std::uint64_t max_body_bytes = 64 * 1024;

level level_of(dns::acmedns_log_level l)
{
    switch (l) {
    case dns::acmedns_log_level::debug:
        return level::debug;
    case dns::acmedns_log_level::info:
        return level::info;
    case dns::acmedns_log_level::warning:
        return level::warn;
    case dns::acmedns_log_level::error:
        return level::error;
    }
    return level::error;
}

// A free coroutine: GCC 12 mishandles the captures of coroutine lambdas.
boost::asio::awaitable<net::server_response>
answer(dns::acmedns_api* api, net::server_request request)
{
    auto response = api->handle(request);
    co_return response;
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e)
{
    std::ostringstream s;
    s << e;
    return s.str();
}

} // namespace

acmedns_service::acmedns_service(
    boost::asio::io_context& io,
    const acmedns_settings& settings,
    core::store& store,
    core::challenge_board& board,
    std::function<bool(std::string_view)> may_register
)
    : io_(io), settings_(settings),
      api_(
          settings.api,
          dns::acmedns_ports{
              store, board, [] { return std::chrono::system_clock::now(); },
              std::move(may_register),
              [](dns::acmedns_log_level l, std::string_view line) { log(level_of(l), line); }}
      ),
      timer_(io)
{}

acmedns_service::~acmedns_service() = default;

bool acmedns_service::start()
{
    net::http_server_options options;
    options.listen = settings_.listen;
    options.max_body_bytes = max_body_bytes;
    options.render_error = [](unsigned status, std::string_view code, std::string_view) {
        return dns::acmedns_error(status, code);
    };
    if (!settings_.tls_certificate.empty()) {
        try {
            options.tls = net::make_tls_server_context(
                settings_.tls_certificate.string(), settings_.tls_key.string()
            );
        } catch (const std::runtime_error& e) {
            std::cerr << "certfleet: acmedns: " << e.what()
                      << "\nFix acmedns.tls_certificate and acmedns.tls_key, or remove both for "
                         "plain HTTP.\n";
            return false;
        }
    }
    if (!api_.sync()) {
        return false;
    }
    const char* scheme = options.tls ? " (HTTPS)" : " (HTTP)";
    server_ = std::make_unique<net::http_server>(
        io_.get_executor(), std::move(options),
        [api = &api_](net::server_request r) { return answer(api, std::move(r)); }
    );
    if (auto ec = server_->start()) {
        std::cerr << "certfleet: cannot listen for the acme-dns API: " << ec.message()
                  << "\nAnother server may hold the port: choose other addresses in "
                     "acmedns.listen.\n";
        return false;
    }
    for (const auto& e : server_->local_endpoints()) {
        log(level::info, "acme-dns API listening on " + endpoint_text(e) + scheme);
    }
    sync_later();
    return true;
}

void acmedns_service::sync_later()
{
    timer_.expires_after(sync_interval);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        (void)api_.sync();
        sync_later();
    });
}

void acmedns_service::stop()
{
    timer_.cancel();
    if (server_) {
        server_->stop();
    }
}

} // namespace certfleet::app
