#include "app/rest_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/control.hpp"
#include "app/deploy_service.hpp"
#include "app/rest_api.hpp"
#include "net/http_client.hpp"
#include "net/url.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace {

std::string env_or(const std::string& given, const char* name)
{
    if (!given.empty()) {
        return given;
    }
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

rest_reply reply_of(unsigned status, std::string text)
{
    rest_reply r;
    r.status = status;
    r.text = std::move(text);
    r.body = json::parse(r.text, nullptr, false);
    if (r.body.is_discarded()) {
        r.body = nullptr;
    }
    if (!r.ok()) {
        if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()) {
            r.message = r.body["error"].value("message", std::string());
        }
        if (r.message.empty()) {
            r.message = "the server answered HTTP " + std::to_string(status);
        }
    }
    return r;
}

// Runs one awaitable to completion on `io`.
template <class T> T run_blocking(asio::io_context& io, asio::awaitable<T> work)
{
    std::optional<T> out;
    asio::co_spawn(io, std::move(work), [&out](const std::exception_ptr& e, T value) {
        if (e) {
            std::rethrow_exception(e);
        }
        out = std::move(value);
    });
    io.restart();
    io.run();
    return std::move(*out);
}

net::server_request
local_request(http::verb method, const std::string& target, const std::optional<json>& body)
{
    net::server_request r;
    r.method = method;
    r.method_text = std::string(http::to_string(method));
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
    if (body) {
        r.body = body->dump();
        r.headers.emplace_back("Content-Type", "application/json");
    }
    r.peer = asio::ip::make_address("127.0.0.1");
    return r;
}

// The local store through the same routes, as an administrator.
class local_client final : public rest_client
{
public:
    local_client(const server_settings& settings, state& st)
        : deploy_(settings, st),
          context_{io_.get_executor(), settings, st, hooks(settings), &deploy_},
          router_(make_rest_router(context_))
    {}

    rest_reply
    call(http::verb method, const std::string& target, const std::optional<json>& body) override
    {
        auto response =
            run_blocking(io_, router_->serve_trusted(local_request(method, target, body)));
        return reply_of(response.status, std::move(response.body));
    }

    [[nodiscard]] bool remote() const noexcept override { return false; }

private:
    static rest_hooks hooks(const server_settings& settings)
    {
        rest_hooks h;
        // A running server on this store plans the certificate at once.
        h.reschedule = [socket = settings.control_socket](core::row_id id) {
            if (auto running = control_client::connect(socket)) {
                (void)running->reschedule({id});
            }
        };
        return h;
    }

    asio::io_context io_{1};
    deploy_service deploy_;
    rest_context context_;
    std::unique_ptr<api_router> router_;
};

class remote_client final : public rest_client
{
public:
    remote_client(std::string base, std::string token, net::http_client_options options)
        : base_(std::move(base)), token_(std::move(token)),
          http_(io_.get_executor(), std::move(options))
    {
        while (!base_.empty() && base_.back() == '/') {
            base_.pop_back();
        }
    }

    rest_reply
    call(http::verb method, const std::string& target, const std::optional<json>& body) override
    {
        net::http_request request;
        request.method = method;
        request.url = base_ + target;
        if (body) {
            request.body = body->dump();
            request.content_type = "application/json";
        }
        request.headers.emplace_back("Authorization", "Bearer " + token_);
        request.headers.emplace_back("Accept", "application/json");
        auto result = run_blocking(io_, http_.request_detailed(std::move(request)));
        if (!result) {
            rest_reply r;
            r.message = "cannot reach " + base_ + ": " + result.error().message();
            return r;
        }
        return reply_of(result->status, std::move(result->body));
    }

    [[nodiscard]] bool remote() const noexcept override { return true; }

private:
    std::string base_;
    std::string token_;
    asio::io_context io_{1};
    net::http_client http_;
};

} // namespace

void add_remote_options(CLI::App& cmd, remote_options& o)
{
    cmd.add_option(
        "--server", o.server,
        "A certfleet server's API URL (default: $CERTFLEET_SERVER; none: the local store)"
    );
    cmd.add_option("--token", o.token, "The API token for --server (default: $CERTFLEET_TOKEN)");
    cmd.add_option(
        "--ca-fingerprint", o.ca_fingerprint,
        "Trust the server's certificate by its SHA-256 (as certfleet init printed it)"
    );
    cmd.add_option(
        "--ca-file", o.ca_file, "Trust the server's certificate through this CA bundle (PEM)"
    );
}

bool remote_requested(const remote_options& o)
{
    return !env_or(o.server, "CERTFLEET_SERVER").empty();
}

std::optional<json> rest_client::list_all(const std::string& target, rest_reply& failure)
{
    json items = json::array();
    std::string cursor;
    const char separator = target.find('?') == std::string::npos ? '?' : '&';
    for (;;) {
        auto reply = call(
            http::verb::get, target + separator + "limit=1000" +
                                 (cursor.empty() ? std::string() : "&cursor=" + cursor)
        );
        if (!reply.ok() || !reply.body.is_object() || !reply.body["items"].is_array()) {
            if (reply.ok()) {
                reply.message = "the server's answer is not a list";
            }
            failure = std::move(reply);
            return std::nullopt;
        }
        for (auto& item : reply.body["items"]) {
            items.push_back(std::move(item));
        }
        if (!reply.body["next_cursor"].is_string()) {
            return items;
        }
        cursor = reply.body["next_cursor"].get<std::string>();
    }
}

int with_rest(
    const std::string& config_file,
    const remote_options& remote,
    const std::function<int(rest_client&)>& body
)
{
    const auto server = env_or(remote.server, "CERTFLEET_SERVER");
    if (server.empty()) {
        return with_state(config_file, [&](const server_settings& s, state& st) {
            local_client client(s, st);
            return body(client);
        });
    }
    const auto token = env_or(remote.token, "CERTFLEET_TOKEN");
    if (token.empty()) {
        std::cerr << "certfleet: --server needs an API token: pass --token or set CERTFLEET_TOKEN "
                     "(make one on the server with `certfleet token create`).\n";
        return exit_usage;
    }
    auto target = net::parse_url(server);
    if (!target || (target->scheme != "https" && target->scheme != "http")) {
        std::cerr << "certfleet: --server '" << server
                  << "' is not an http(s) URL such as https://certfleet.example.net:8443\n";
        return exit_usage;
    }
    net::http_client_options options;
    options.request_timeout = std::chrono::hours(1); // a sweep answers when its renewals finish
    options.max_body_bytes = std::size_t{256} * 1024 * 1024;
    const auto fingerprint = env_or(remote.ca_fingerprint, "CERTFLEET_CA_FINGERPRINT");
    if (!fingerprint.empty()) {
        options.pinned_sha256 = fingerprint;
    }
    if (!remote.ca_file.empty()) {
        options.ca_file = remote.ca_file;
    }
    try {
        remote_client client(server, token, options);
        return body(client);
    } catch (const std::runtime_error& e) {
        std::cerr << "certfleet: " << e.what() << '\n';
        return exit_usage;
    }
}

std::string url_segment(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

std::string failure_text(const rest_reply& reply)
{
    return reply.message.empty() ? "the request failed" : reply.message;
}

int report_failure(const rest_reply& reply)
{
    std::cerr << "certfleet: " << failure_text(reply) << ".\n";
    if (reply.status == 401) {
        std::cerr << "Check the token (certfleet token list on the server).\n";
    }
    return reply.status == 400 || reply.status == 422 ? exit_usage : exit_failure;
}

} // namespace certfleet::app
