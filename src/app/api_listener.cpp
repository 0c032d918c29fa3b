#include "app/api_listener.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

#include "app/dashboard_http.hpp"
#include "app/log.hpp"
#include "app/sealed_keys.hpp"
#include "core/challenge_name.hpp"

namespace certfleet::app {
namespace asio = boost::asio;

namespace {

// The dashboard's files, or the API (whose answers are never cached).
asio::awaitable<net::server_response> route_request(api_router* router, net::server_request request)
{
    if (auto page = serve_dashboard(request, dashboard_assets())) {
        co_return std::move(*page);
    }
    auto response = co_await router->serve(std::move(request));
    add_api_response_headers(response);
    co_return response;
}

} // namespace

api_listener::api_listener(
    asio::io_context& io, const server_settings& settings, state& st, rest_hooks hooks
)
    : io_(io), settings_(settings), state_(st),
      deploy_(std::make_unique<deploy_service>(settings, st)),
      agents_(std::make_unique<agent_hub>(
          io.get_executor(),
          [&st]() -> std::optional<std::int64_t> {
              auto g = st.store->deployments().generation();
              return g ? std::optional(*g) : std::nullopt;
          }
      )),
      journal_(std::make_unique<deploy_journal>(io.get_executor(), *st.store)),
      workers_(std::max(1U, std::thread::hardware_concurrency())),
      // A few bundles in flight per sealing thread keep them busy.
      deliveries_(io.get_executor(), 64 * std::max(1U, std::thread::hardware_concurrency())),
      context_{io.get_executor(),       settings,       st,
               std::move(hooks),        deploy_.get(),  agents_.get(),
               workers_.get_executor(), journal_.get(), &deliveries_}
{}

api_listener::~api_listener()
{
    stop();
}

bool api_listener::ensure_own_certificate()
{
    const auto& name = settings_.api.name;
    auto all = state_.store->list_certificates();
    if (!all) {
        std::cerr << "certfleet: cannot read the certificates: " << all.error().message() << '\n';
        return false;
    }
    for (const auto& c : *all) {
        if (c.spec.names == std::vector<std::string>{name} &&
            c.state != core::certificate_state::revoked) {
            own_ = c.id;
            return true;
        }
    }
    if (!state_.store->find_domain(core::managed_name_for(name))) {
        std::cerr << "certfleet: api.tls = \"acme\" issues the API's certificate for " << name
                  << ", which is not a managed domain: run `certfleet domain add "
                  << core::managed_name_for(name) << "` and create the CNAME it prints.\n";
        return false;
    }
    core::certificate_spec spec;
    spec.names = {name};
    auto id = state_.store->add_certificate(spec, std::chrono::system_clock::now());
    if (!id) {
        std::cerr << "certfleet: cannot add the API's certificate: " << id.error().message()
                  << '\n';
        return false;
    }
    own_ = *id;
    if (context_.hooks.reschedule) {
        context_.hooks.reschedule(*id);
    }
    return true;
}

std::shared_ptr<asio::ssl::context> api_listener::context_from_store(core::row_id id)
{
    auto v = state_.store->latest_version(id);
    if (!v || !*v) {
        return nullptr;
    }
    auto key = state_.vault.open((*v)->key_sealed, certificate_key_context(id));
    if (!key) {
        log(level::error,
            "the API certificate's stored key cannot be opened: " + key.error().message());
        return nullptr;
    }
    try {
        return net::make_tls_server_context_from_pem((*v)->chain_pem, key->view());
    } catch (const std::exception& e) {
        log(level::error, std::string("the API certificate cannot be used: ") + e.what());
        return nullptr;
    }
}

bool api_listener::start()
{
    const auto& api = settings_.api;
    net::http_server_options options;
    options.listen = api.listen;
    options.max_connections = api.max_connections;
    options.max_connections_per_source = api.max_connections_per_source;
    options.max_body_bytes = api.max_body_bytes;
    if (api.tls != "off") {
        if (api.tls == "acme" && !ensure_own_certificate()) {
            return false;
        }
        if (own_) {
            options.tls = context_from_store(*own_);
        }
        if (!options.tls) {
            try {
                options.tls =
                    net::make_tls_server_context(api.cert_file.string(), api.key_file.string());
            } catch (const std::exception& e) {
                std::cerr
                    << "certfleet: " << e.what()
                    << (api.tls == "files"
                            ? "\nFix api.cert_file and api.key_file."
                            : "\nRun `certfleet init` to make the API's self-signed certificate, "
                              "or set api.tls = \"files\" with your own.")
                    << '\n';
                return false;
            }
        }
    }
    router_ = make_rest_router(context_);
    agents_->start();
    server_ = std::make_unique<net::http_server>(
        io_.get_executor(), options,
        [router = router_.get()](net::server_request request) {
            return route_request(router, std::move(request));
        }
    );
    if (auto ec = server_->start()) {
        std::cerr << "certfleet: cannot listen for the API on api.listen: " << ec.message()
                  << (ec == boost::system::errc::address_in_use
                          ? "\nAnother program holds the port: stop it or change api.listen."
                          : "")
                  << '\n';
        return false;
    }
    for (const auto& endpoint : server_->local_endpoints()) {
        std::ostringstream text;
        text << endpoint;
        log(level::info, std::string("API listening on ") +
                             (api.tls == "off" ? "http://" : "https://") + text.str());
    }
    return true;
}

void api_listener::stop()
{
    agents_->stop();
    if (server_) {
        server_->stop();
    }
}

asio::awaitable<void> api_listener::shutdown(std::chrono::milliseconds grace)
{
    agents_->stop(); // waiting long-polls answer now instead of holding the drain
    if (server_) {
        co_await server_->shutdown(grace);
    }
}

void api_listener::certificate_issued(core::row_id id)
{
    if (!own_ || id != *own_ || !server_) {
        return;
    }
    if (auto tls = context_from_store(id)) {
        server_->set_tls(std::move(tls));
        log(level::info, "the API now presents its renewed certificate");
    }
}

} // namespace certfleet::app
