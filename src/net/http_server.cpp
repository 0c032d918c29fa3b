#include "net/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "net/http_query.hpp"
#include "net/lean_tls_stream.hpp"

namespace certfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The key a connection counts against in the per-source cap: the address, IPv4-mapped IPv6
// folded to IPv4 so one client cannot double its share.
std::string source_key(const asio::ip::address& a)
{
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
    }
    return a.to_string();
}

} // namespace

std::optional<std::string_view> server_request::header(std::string_view name) const
{
    for (const auto& [key, value] : headers) {
        if (beast::iequals(key, name)) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::optional<std::string> server_request::query_parameter(std::string_view name) const
{
    return net::query_parameter(query, name);
}

server_response
json_error_response(unsigned status, std::string_view code, std::string_view message)
{
    server_response r;
    r.status = status;
    r.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
    return r;
}

namespace {

std::shared_ptr<asio::ssl::context> new_server_context()
{
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(
        asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use
    );
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    return ctx;
}

} // namespace

std::shared_ptr<asio::ssl::context>
make_tls_server_context_from_pem(std::string_view chain_pem, std::string_view key_pem)
{
    auto ctx = new_server_context();
    error_code ec;
    ctx->use_certificate_chain(asio::buffer(chain_pem.data(), chain_pem.size()), ec);
    if (!ec) {
        ctx->use_private_key(
            asio::buffer(key_pem.data(), key_pem.size()), asio::ssl::context::pem, ec
        );
    }
    if (ec || SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        throw std::runtime_error("the TLS certificate chain and key cannot be used together");
    }
    return ctx;
}

std::shared_ptr<asio::ssl::context>
make_tls_server_context(const std::string& chain_file, const std::string& key_file)
{
    auto ctx = new_server_context();
    error_code ec;
    ctx->use_certificate_chain_file(chain_file, ec);
    if (ec) {
        throw std::runtime_error(
            "cannot use the TLS certificate chain in " + chain_file + ": " + ec.message()
        );
    }
    ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error(
            "cannot use the TLS private key in " + key_file + ": " + ec.message()
        );
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        throw std::runtime_error(
            "the TLS private key in " + key_file + " does not match the certificate in " +
            chain_file
        );
    }
    return ctx;
}

// One open connection, as the server sees it from outside its coroutine: whether it waits for
// a request (and may be closed without losing work) and how to close it.
struct connection_slot
{
    std::uint64_t id = 0;
    std::string source;
    bool idle = true;                 // waiting for (the first byte of) a request
    beast::tcp_stream* tcp = nullptr; // plain HTTP
    lean_tls_stream* tls = nullptr;   // HTTPS
    bool closed = false;

    void close()
    {
        if (closed) {
            return;
        }
        if (tcp != nullptr) {
            closed = true;
            error_code ignored;
            tcp->socket().shutdown(tcp::socket::shutdown_both, ignored);
            tcp->close();
        } else if (tls != nullptr) {
            closed = true;
            tls->close();
        }
    }
};

struct http_server::state : std::enable_shared_from_this<http_server::state>
{
    state(asio::any_io_executor ex, http_server_options o, request_handler h)
        : executor(std::move(ex)), options(std::move(o)), handler(std::move(h))
    {}

    asio::any_io_executor executor;
    http_server_options options;
    request_handler handler;
    std::vector<tcp::acceptor> acceptors;
    std::vector<tcp::endpoint> bound;
    // Oldest first: eviction takes the front-most idle one.
    std::list<connection_slot> connections;
    std::map<std::string, std::size_t> per_source;
    std::uint64_t next_id = 1;
    bool stopping = false;
    http_server_stats stats;

    asio::awaitable<void> accept_loop(std::size_t index);
    asio::awaitable<void> serve(tcp::socket socket);
    asio::awaitable<void> serve_tls(
        tcp::socket socket,
        std::shared_ptr<asio::ssl::context> context,
        connection_slot& slot,
        beast::flat_buffer& buffer
    );
    template <class Stream>
    asio::awaitable<void>
    session(Stream& stream, connection_slot& slot, beast::flat_buffer& buffer);
    asio::awaitable<void> refuse(tcp::socket socket);
    bool evict_oldest_idle();
    void close_all(bool idle_only);
};

namespace {

// The first bytes of the next request into `buffer` (empty), within the stream's deadline.
asio::awaitable<error_code> await_request(beast::tcp_stream& stream, beast::flat_buffer& buffer)
{
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
    buffer.commit(n);
    co_return ec;
}

// Over TLS an idle connection holds no buffer while it waits: the last request's goes, and
// the stream waits for the socket before a read needs one (10,000 long-polling agents).
asio::awaitable<error_code> await_request(lean_tls_stream& stream, beast::flat_buffer& buffer)
{
    buffer.shrink_to_fit();
    auto [wait_ec] = co_await stream.async_wait_readable(use_tuple);
    if (wait_ec) {
        co_return wait_ec;
    }
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
    buffer.commit(n);
    co_return ec;
}

http::response<http::string_body>
to_beast(server_response&& r, const http_server_options& options, bool keep_alive, bool head)
{
    http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
    res.set(http::field::server, options.server_header);
    if (!r.body.empty() || r.status != 204) {
        res.set(http::field::content_type, r.content_type);
    }
    for (auto& [name, value] : r.headers) {
        res.insert(name, value);
    }
    res.keep_alive(keep_alive);
    const auto size = r.body.size();
    if (head) {
        res.content_length(size);
    } else {
        res.body() = std::move(r.body);
        res.prepare_payload();
    }
    return res;
}

// The request as the handler sees it; the parsed message (its fields) goes with this call.
server_request to_request(http::request<http::string_body>&& message)
{
    server_request request;
    request.method = message.method();
    request.method_text = std::string(message.method_string());
    request.target = std::string(message.target());
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) {
        request.query = request.target.substr(question + 1);
    }
    for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    return request;
}

// The server's own refusal for a request that did not parse or is too large.
server_response refusal(const http_server_options& options, const error_code& ec)
{
    if (ec == http::error::body_limit) {
        return options.render_error(
            413, "body_too_large",
            "the request body exceeds " + std::to_string(options.max_body_bytes) + " bytes"
        );
    }
    if (ec == http::error::header_limit) {
        return options.render_error(
            431, "header_too_large",
            "the request header exceeds " + std::to_string(options.max_header_bytes) + " bytes"
        );
    }
    return options.render_error(400, "bad_request", "the request is not valid HTTP/1.1");
}

} // namespace

bool http_server::state::evict_oldest_idle()
{
    for (auto& slot : connections) {
        if (slot.idle && !slot.closed) {
            slot.close();
            return true;
        }
    }
    return false;
}

void http_server::state::close_all(bool idle_only)
{
    for (auto& slot : connections) {
        if (!idle_only || slot.idle) {
            slot.close();
        }
    }
}

asio::awaitable<void> http_server::state::accept_loop(std::size_t index)
{
    auto self = shared_from_this();
    auto& acceptor = acceptors[index];
    asio::steady_timer backoff(executor);
    while (!stopping && acceptor.is_open()) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec == asio::error::operation_aborted || stopping) {
            break;
        }
        if (ec) {
            // EMFILE, ENFILE, ENOBUFS: retrying at once would spin; give closes time to happen.
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        asio::co_spawn(executor, self->serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> http_server::state::refuse(tcp::socket socket)
{
    ++stats.connections_refused;
    if (options.tls) {
        // A refusal over TLS would cost a handshake per flooding connection: close at once.
        error_code ignored;
        socket.close(ignored);
        co_return;
    }
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(2));
    auto res = to_beast(
        options.render_error(
            503, "too_many_connections", "the server is at its connection limit; retry later"
        ),
        options, false, false
    );
    co_await http::async_write(stream, res, use_tuple);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> http_server::state::serve(tcp::socket socket)
{
    auto self = shared_from_this();
    error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) {
        co_return;
    }
    const auto source = source_key(peer.address());
    auto& from_source = per_source[source];
    if (from_source >= options.max_connections_per_source ||
        (connections.size() >= options.max_connections && !evict_oldest_idle())) {
        if (from_source == 0) {
            per_source.erase(source);
        }
        co_await refuse(std::move(socket));
        co_return;
    }
    ++from_source;
    ++stats.connections_accepted;
    socket.set_option(tcp::no_delay(true), ec);

    connections.push_back(connection_slot{next_id++, source});
    auto slot = std::prev(connections.end());
    beast::flat_buffer buffer;
    buffer.max_size(options.max_header_bytes + options.max_body_bytes + 4096);

    if (auto context = options.tls) { // this connection's copy: set_tls may replace it
        co_await serve_tls(std::move(socket), std::move(context), *slot, buffer);
    } else {
        beast::tcp_stream tcp_stream(std::move(socket));
        slot->tcp = &tcp_stream;
        co_await session(tcp_stream, *slot, buffer);
        slot->close();
    }
    connections.erase(slot);
    if (auto it = per_source.find(source); it != per_source.end() && --it->second == 0) {
        per_source.erase(it);
    }
}

asio::awaitable<void> http_server::state::serve_tls(
    tcp::socket socket,
    std::shared_ptr<asio::ssl::context> context,
    connection_slot& slot,
    beast::flat_buffer& buffer
)
{
    lean_tls_stream tls(std::move(socket), *context);
    slot.tls = &tls;
    tls.expires_after(options.handshake_timeout);
    auto [hs] = co_await tls.async_handshake(use_tuple);
    if (hs) {
        ++stats.tls_failures;
    } else {
        co_await session(tls, slot, buffer);
        if (!slot.closed) {
            tls.expires_after(std::chrono::seconds(1));
            co_await tls.async_shutdown(use_tuple);
        }
    }
    slot.close(); // while the stream it points to lives
}

template <class Stream>
asio::awaitable<void>
http_server::state::session(Stream& stream, connection_slot& slot, beast::flat_buffer& buffer)
{
    const bool tls_used = options.tls != nullptr;
    error_code ec;
    const auto peer = stream.socket().remote_endpoint(ec).address();
    for (std::size_t served = 0; served < options.max_requests_per_connection; ++served) {
        if (stopping || slot.closed) {
            co_return;
        }
        // Between requests the connection is idle: it may wait idle_timeout for the next one
        // (read_timeout for the first), and shutdown or eviction may close it.
        slot.idle = true;
        if (buffer.size() == 0) {
            stream.expires_after(served == 0 ? options.read_timeout : options.idle_timeout);
            if (const auto wait_ec = co_await await_request(stream, buffer)) {
                if (wait_ec == beast::error::timeout) {
                    ++stats.timeouts;
                }
                co_return;
            }
        }
        slot.idle = false;

        http::request_parser<http::string_body> parser;
        parser.header_limit(options.max_header_bytes);
        parser.body_limit(options.max_body_bytes);
        // The whole request, header and body, within read_timeout: a client trickling bytes is
        // cut off when it elapses, however steadily it sends.
        stream.expires_after(options.read_timeout);
        auto [header_ec, header_bytes] =
            co_await http::async_read_header(stream, buffer, parser, use_tuple);
        if (!header_ec && parser.get()[http::field::expect] == "100-continue" &&
            !parser.is_done()) {
            http::response<http::empty_body> go_on{http::status::continue_, 11};
            auto [continue_ec, continue_bytes] =
                co_await http::async_write(stream, go_on, use_tuple);
            header_ec = continue_ec;
        }
        error_code read_ec = header_ec;
        if (!read_ec && !parser.is_done()) {
            auto [body_ec, body_bytes] =
                co_await http::async_read(stream, buffer, parser, use_tuple);
            read_ec = body_ec;
        }
        if (read_ec) {
            if (read_ec == beast::error::timeout) {
                ++stats.timeouts;
                co_return;
            }
            if (read_ec == http::error::end_of_stream || read_ec == asio::error::eof ||
                read_ec == asio::error::connection_reset ||
                read_ec == asio::error::operation_aborted || slot.closed) {
                co_return;
            }
            ++stats.bad_requests;
            auto res = to_beast(refusal(options, read_ec), options, false, false);
            stream.expires_after(options.write_timeout);
            co_await http::async_write(stream, res, use_tuple);
            co_return;
        }

        ++stats.requests;
        const bool wants_keep_alive = parser.get().keep_alive();
        auto request = to_request(parser.release());
        request.peer = peer;
        request.tls = tls_used;
        const bool head = request.method == http::verb::head;
        // A request held by its handler (an agent's long-poll) keeps no read buffer; bytes of a
        // pipelined next request stay.
        if (buffer.size() == 0) {
            buffer.shrink_to_fit();
        }

        // Disarm the read timer while the handler works (it may wait on the issuer); a closed
        // connection still ends the session through the write that follows.
        stream.expires_never();
        server_response response;
        try {
            response = co_await handler(std::move(request));
        } catch (const std::exception&) {
            response = options.render_error(
                500, "internal_error", "the server failed to handle the request"
            );
        }
        if (slot.closed) {
            co_return;
        }
        const bool keep_alive =
            wants_keep_alive && !stopping && served + 1 < options.max_requests_per_connection;
        auto res = to_beast(std::move(response), options, keep_alive, head);
        stream.expires_after(options.write_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
        if (write_ec) {
            if (write_ec == beast::error::timeout) {
                ++stats.timeouts;
            }
            co_return;
        }
        if (!keep_alive) {
            co_return;
        }
    }
}

http_server::http_server(
    asio::any_io_executor executor, http_server_options options, request_handler handler
)
    : state_(std::make_shared<state>(std::move(executor), std::move(options), std::move(handler)))
{}

http_server::~http_server()
{
    stop();
}

error_code http_server::start()
{
    auto& st = *state_;
    for (const auto& endpoint : st.options.listen) {
        tcp::acceptor acceptor(st.executor);
        error_code ec;
        acceptor.open(endpoint.protocol(), ec);
        if (!ec) {
            acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        }
        if (!ec && endpoint.address().is_v6()) {
            // [::] must not also claim IPv4: an IPv4 listen address is configured on its own.
            acceptor.set_option(asio::ip::v6_only(true), ec);
        }
        if (!ec) {
            acceptor.bind(endpoint, ec);
        }
        if (!ec) {
            acceptor.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            for (auto& a : st.acceptors) {
                a.close();
            }
            st.acceptors.clear();
            st.bound.clear();
            return ec;
        }
        st.bound.push_back(acceptor.local_endpoint());
        st.acceptors.push_back(std::move(acceptor));
    }
    for (std::size_t i = 0; i < st.acceptors.size(); ++i) {
        asio::co_spawn(st.executor, state_->accept_loop(i), asio::detached);
    }
    return {};
}

void http_server::set_tls(std::shared_ptr<asio::ssl::context> tls)
{
    if (tls) {
        state_->options.tls = std::move(tls);
    }
}

std::vector<tcp::endpoint> http_server::local_endpoints() const
{
    return state_->bound;
}

asio::awaitable<void> http_server::shutdown(std::chrono::milliseconds grace)
{
    auto st = state_;
    st->stopping = true;
    for (auto& a : st->acceptors) {
        error_code ignored;
        a.close(ignored);
    }
    st->close_all(true);
    asio::steady_timer timer(st->executor);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!st->connections.empty() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(use_tuple);
        st->close_all(true);
    }
    st->close_all(false);
}

void http_server::stop()
{
    if (!state_) {
        return;
    }
    state_->stopping = true;
    for (auto& a : state_->acceptors) {
        error_code ignored;
        a.close(ignored);
    }
    state_->close_all(false);
}

http_server_stats http_server::stats() const noexcept
{
    auto s = state_->stats;
    s.open_connections = state_->connections.size();
    return s;
}

} // namespace certfleet::net
