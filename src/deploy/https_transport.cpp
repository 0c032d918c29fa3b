#include "deploy/https_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <exception>

#include "deploy/errc.hpp"
#include "net/errc.hpp"
#include "net/http_client.hpp"

namespace certfleet::deploy {
namespace {

namespace asio = boost::asio;
using client_result = boost::system::result<net::http_response, net::http_error>;

std::optional<std::chrono::seconds> retry_after_of(const net::http_response& r)
{
    const auto value = r.header("Retry-After");
    return value ? parse_retry_after(*value) : std::nullopt;
}

// The client reports a pin failure as a verification failure with this reason (tls_context.cpp).
bool is_pin_failure(const net::http_error& e)
{
    return e.code == net::errc::certificate_verification_failed &&
           e.detail.find("pinned SHA-256") != std::string::npos;
}

// Looks at `stop` every 100 ms and ends the exchange when it is set: a long-poll may be held for
// most of a minute, and the agent must not make a service manager wait that long to stop it.
void watch_stop(asio::steady_timer& timer, asio::io_context& io, const std::atomic<bool>& stop)
{
    timer.expires_after(std::chrono::milliseconds{100});
    timer.async_wait([&timer, &io, &stop](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        if (stop) {
            io.stop();
            return;
        }
        watch_stop(timer, io, stop);
    });
}

client_result run_request(
    net::http_client_options options, net::http_request request, const std::atomic<bool>* stop
)
{
    asio::io_context io{1};
    std::optional<client_result> out;
    std::exception_ptr failure;
    {
        asio::steady_timer stop_timer(io);
        net::http_client client(io.get_executor(), std::move(options));
        asio::co_spawn(
            io, client.request_detailed(std::move(request)),
            [&out, &failure, &stop_timer](const std::exception_ptr& e, client_result r) {
                stop_timer.cancel();
                if (e) {
                    failure = e;
                } else {
                    out = std::move(r);
                }
            }
        );
        if (stop != nullptr) {
            watch_stop(stop_timer, io, *stop);
        }
        io.run();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!out) {
        return net::http_error{
            .code = make_error_code(net::errc::io_error),
            .cause = make_error_code(asio::error::operation_aborted),
            .detail = "the agent is stopping"};
    }
    return std::move(*out);
}

} // namespace

https_transport::https_transport(
    std::string server_url,
    std::string tls_sha256,
    std::string user_agent,
    const std::atomic<bool>* stop
)
    : base_(std::move(server_url)), pin_(std::move(tls_sha256)), user_agent_(std::move(user_agent)),
      stop_(stop)
{
    while (!base_.empty() && base_.back() == '/') {
        base_.pop_back();
    }
}

boost::system::result<agent_reply> https_transport::post(
    std::string_view path,
    std::string_view body,
    std::chrono::milliseconds timeout,
    std::string* detail
)
{
    net::http_client_options options;
    options.user_agent = user_agent_;
    options.pinned_sha256 = pin_;
    options.connect_timeout = std::min(timeout, std::chrono::milliseconds{15'000});
    options.request_timeout = timeout;
    options.max_idle_connections_per_host = 0;
    net::http_request request;
    request.method = boost::beast::http::verb::post;
    request.url = base_ + std::string(path);
    request.body = std::string(body);
    request.content_type = "application/json";
    request.headers.emplace_back("Accept", "application/json");
    client_result r = net::http_error{};
    try {
        r = run_request(std::move(options), std::move(request), stop_);
    } catch (const std::exception& e) {
        // Set-up failures (TLS context, user agent): not an answer from the server.
        if (detail != nullptr) {
            *detail = e.what();
        }
        return make_error_code(net::errc::io_error);
    }
    if (!r) {
        if (detail != nullptr) {
            *detail = r.error().message();
        }
        if (is_pin_failure(r.error())) {
            return make_error_code(errc::pin_mismatch);
        }
        return r.error().code;
    }
    agent_reply reply;
    reply.status = static_cast<int>(r->status);
    reply.retry_after = retry_after_of(*r);
    reply.body = std::move(r->body);
    return reply;
}

transport_factory https_transport_factory(std::string user_agent, const std::atomic<bool>* stop)
{
    return
        [user_agent = std::move(user_agent), stop](const std::string& url, const std::string& pin) {
            return std::make_unique<https_transport>(url, pin, user_agent, stop);
        };
}

} // namespace certfleet::deploy
