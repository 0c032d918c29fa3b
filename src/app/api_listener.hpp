#pragma once
// The HTTPS API of `certfleet serve`: the REST routes (rest_api.hpp) on an http_server, with the
// TLS certificate [api] asks for. With tls = "acme" the API's own certificate is one of the
// store's certificates (added at start when missing): the server presents its newest version and
// switches to each renewal as it is issued, and the self-signed one until the first.

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>

#include "app/agent_hub.hpp"
#include "app/deploy_journal.hpp"
#include "app/deploy_service.hpp"
#include "app/rest_api.hpp"
#include "net/http_server.hpp"
#include "net/work_gate.hpp"

namespace certfleet::app {

class api_listener
{
public:
    api_listener(
        boost::asio::io_context& io, const server_settings& settings, state& st, rest_hooks hooks
    );
    ~api_listener();

    // Loads the certificate and listens; false after printing what is wrong and what to do.
    [[nodiscard]] bool start();
    void stop();
    // Stops accepting and lets requests in flight finish for up to `grace`.
    [[nodiscard]] boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);

    // A certificate was issued: when it is the API's own, new connections get it.
    void certificate_issued(core::row_id id);

    // The id of the API's own certificate (tls = "acme"), once known.
    [[nodiscard]] std::optional<core::row_id> own_certificate() const noexcept { return own_; }

private:
    [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> context_from_store(core::row_id id);
    [[nodiscard]] bool ensure_own_certificate();

    boost::asio::io_context& io_;
    const server_settings& settings_;
    state& state_;
    std::unique_ptr<deploy_service> deploy_;
    std::unique_ptr<agent_hub> agents_;
    std::unique_ptr<deploy_journal> journal_;
    boost::asio::thread_pool workers_; // joined before deploy_ goes
    net::work_gate deliveries_;
    rest_context context_;
    std::unique_ptr<api_router> router_;
    std::unique_ptr<net::http_server> server_;
    std::optional<core::row_id> own_;
};

} // namespace certfleet::app
