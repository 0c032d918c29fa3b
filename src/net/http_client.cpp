#include "net/http_client.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/http/field.hpp>
#include <stdexcept>
#include <unordered_map>

#include "net/connection.hpp"
#include "net/errc.hpp"
#include "net/tls_context.hpp"
#include "net/url.hpp"

namespace certfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using std::chrono::steady_clock;

namespace {

// RFC 9110 §5.6.2: token = 1*tchar.
bool valid_header_name(std::string_view name) noexcept
{
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

// RFC 9110 §5.5: no CR, LF or NUL, which would let a value start a new header or request.
bool valid_header_value(std::string_view value) noexcept
{
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

boost::system::result<std::shared_ptr<const request_message>, http_error>
build_message(const http_request& req, const url& target, const http_client_options& options)
{
    auto msg = std::make_shared<request_message>(req.method, target.target, 11);
    msg->set(http::field::host, target.host_header());
    if (!options.user_agent.empty()) {
        msg->set(http::field::user_agent, options.user_agent);
    }
    if (!req.content_type.empty()) {
        if (!valid_header_value(req.content_type)) {
            return http_error{errc::bad_request, {}, "invalid Content-Type"};
        }
        msg->set(http::field::content_type, req.content_type);
    }
    // Defaults a caller's header of the same name replaces (all its values are kept).
    std::array<std::pair<http::field, bool>, 3> defaults{{
        {http::field::host, false},
        {http::field::user_agent, false},
        {http::field::content_type, false},
    }};
    for (const auto& [name, value] : req.headers) {
        if (!valid_header_name(name) || !valid_header_value(value)) {
            return http_error{errc::bad_request, {}, "invalid header " + name};
        }
        const auto field = http::string_to_field(name);
        if (field == http::field::content_length || field == http::field::transfer_encoding) {
            return http_error{errc::bad_request, {}, name + " is set by the client"};
        }
        for (auto& [default_field, replaced] : defaults) {
            if (field == default_field && !replaced) {
                msg->erase(field);
                replaced = true;
            }
        }
        msg->insert(name, value);
    }
    msg->body() = req.body;
    msg->prepare_payload();
    return msg;
}

asio::awaitable<boost::system::result<http_response>>
code_only(asio::awaitable<boost::system::result<http_response, http_error>> detailed)
{
    auto result = co_await std::move(detailed);
    if (!result) {
        co_return result.error().code;
    }
    co_return std::move(*result);
}

struct idle_connection
{
    std::unique_ptr<connection> conn;
    steady_clock::time_point since;
};

} // namespace

struct http_client::state
{
    state(asio::any_io_executor ex, http_client_options opts)
        : executor(std::move(ex)), options(std::move(opts)),
          tls(make_tls_client_context(options.ca_file, options.verify_peer, options.pinned_sha256))
    {
        if (!valid_header_value(options.user_agent)) {
            throw std::runtime_error("user_agent contains CR, LF or NUL");
        }
    }

    // The most recently used idle connection that is still usable, or null.
    std::unique_ptr<connection> take_idle(const std::string& origin)
    {
        const auto it = idle.find(origin);
        if (it == idle.end()) {
            return nullptr;
        }
        auto& list = it->second;
        const auto oldest_allowed = steady_clock::now() - options.idle_timeout;
        std::unique_ptr<connection> found;
        while (!list.empty() && !found) {
            auto entry = std::move(list.back());
            list.pop_back();
            if (entry.since >= oldest_allowed && entry.conn->reusable()) {
                found = std::move(entry.conn);
            }
        }
        if (list.empty()) {
            idle.erase(it);
        }
        return found;
    }

    void release(const std::string& origin, std::unique_ptr<connection> conn)
    {
        if (closed || options.max_idle_connections_per_host == 0) {
            return;
        }
        prune();
        auto& list = idle[origin];
        if (list.size() >= options.max_idle_connections_per_host) {
            list.erase(list.begin());
        }
        list.push_back({std::move(conn), steady_clock::now()});
    }

    // Closes the idle connections older than idle_timeout, across all origins.
    void prune()
    {
        const auto oldest_allowed = steady_clock::now() - options.idle_timeout;
        for (auto it = idle.begin(); it != idle.end();) {
            auto& list = it->second;
            std::erase_if(list, [&](const idle_connection& c) { return c.since < oldest_allowed; });
            it = list.empty() ? idle.erase(it) : std::next(it);
        }
    }

    asio::any_io_executor executor;
    http_client_options options;
    asio::ssl::context tls;
    std::unordered_map<std::string, std::vector<idle_connection>> idle;
    std::uint64_t opened = 0;
    bool closed = false;
};

http_client::http_client(asio::any_io_executor executor, http_client_options options)
    : state_(std::make_shared<state>(std::move(executor), std::move(options)))
{}

http_client::~http_client()
{
    if (state_) {
        state_->closed = true;
        state_->idle.clear();
    }
}

http_client::http_client(http_client&& other) noexcept = default;

http_client& http_client::operator=(http_client&& other) noexcept
{
    if (this != &other) {
        if (state_) {
            state_->closed = true;
            state_->idle.clear();
        }
        state_ = std::move(other.state_);
    }
    return *this;
}

std::size_t http_client::idle_connections() const
{
    std::size_t n = 0;
    for (const auto& [origin, list] : state_->idle) {
        n += list.size();
    }
    return n;
}

std::uint64_t http_client::connections_opened() const
{
    return state_->opened;
}

// A static member holding the state, never the client's this: a request may outlive the client
// that started it (see the header).
asio::awaitable<boost::system::result<http_response, http_error>>
http_client::run_request(std::shared_ptr<state> st, http_request req)
{
    const auto target = parse_url(req.url);
    if (!target) {
        co_return http_error{errc::bad_url, {}, "cannot send to this URL"};
    }
    auto msg = build_message(req, *target, st->options);
    if (!msg) {
        co_return msg.error();
    }
    const exchange_limits limits{
        .timeout = st->options.request_timeout,
        .max_body_bytes = st->options.max_body_bytes,
        .max_header_bytes = st->options.max_header_bytes,
        .head = req.method == http::verb::head,
    };
    const auto origin = target->origin();
    auto* tls = target->scheme == "https" ? &st->tls : nullptr;

    for (int attempt = 0;; ++attempt) {
        // The retry always opens a fresh connection (see the retry rule in the header).
        auto conn = attempt == 0 ? st->take_idle(origin) : nullptr;
        const bool reused = conn != nullptr;
        if (!conn) {
            auto opened =
                co_await connection::open(st->executor, *target, tls, st->options.connect_timeout);
            if (!opened) {
                co_return opened.error();
            }
            conn = std::move(*opened);
            ++st->opened;
        }
        auto outcome = co_await conn->exchange(*msg, limits);
        if (outcome.response) {
            if (outcome.keep_alive) {
                st->release(origin, std::move(conn));
            }
            co_return std::move(*outcome.response);
        }
        if (!(reused && outcome.stale && attempt == 0)) {
            co_return std::move(outcome.error);
        }
    }
}

asio::awaitable<boost::system::result<http_response>> http_client::request(http_request req)
{
    return code_only(run_request(state_, std::move(req)));
}

asio::awaitable<boost::system::result<http_response, http_error>>
http_client::request_detailed(http_request req)
{
    return run_request(state_, std::move(req));
}

} // namespace certfleet::net
