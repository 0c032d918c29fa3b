#include "agent_sim.hpp"

#include <netinet/in.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

#include "core/crypto/encoding.hpp"
#include "deploy/bundle.hpp"
#include "net/tls_context.hpp"

namespace certfleet::bench {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

struct agent_sim::connection
{
    explicit connection(asio::io_context& io, asio::ssl::context& tls) : stream(io, tls) {}
    asio::ssl::stream<tcp::socket> stream;
    boost::beast::flat_buffer buffer;
};

namespace {

// 127.1.x.y: one address per group of agents.
asio::ip::address_v4 source_address(std::size_t index, std::size_t per_source)
{
    const auto group = static_cast<std::uint32_t>(index / per_source);
    return asio::ip::address_v4((127u << 24) | (1u << 16) | (group + 1));
}

} // namespace

agent_sim::agent_sim(asio::io_context& io, sim_options options, std::vector<std::string> tokens)
    : io_(io), options_(std::move(options)), gate_(io, steady::time_point::max())
{
    agents_.resize(tokens.size());
    std::string pin;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        auto token = deploy::decode_join_token(tokens[i]);
        auto key = crypto_.generate_p256();
        if (!token || !key) {
            throw std::runtime_error("join token " + std::to_string(i) + " does not decode");
        }
        auto& a = agents_[i];
        a.index = i;
        a.token = std::move(tokens[i]);
        a.name = token->agent;
        a.tls_sha256 = token->tls_sha256;
        a.signing_sha256 = token->signing_key_sha256;
        a.key = std::move(*key);
        pin = token->tls_sha256;
    }
    tls_ =
        std::make_shared<asio::ssl::context>(net::make_tls_client_context(std::nullopt, true, pin));
    // Ten thousand idle connections in one process: no read and write buffers while idle.
    SSL_CTX_set_mode(tls_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
}

agent_sim::~agent_sim() = default;

void agent_sim::start()
{
    for (std::size_t i = 0; i < options_.parallel && next_ < agents_.size(); ++i) {
        spawn(next_++);
    }
}

void agent_sim::spawn(std::size_t index)
{
    asio::co_spawn(io_, life(index), asio::detached);
}

void agent_sim::open_gate()
{
    gate_open_ = true;
    gate_.cancel();
}

void agent_sim::renewal(std::int64_t above, steady::time_point at)
{
    renewal_above_ = above;
    renewal_at_ = at;
}

bool agent_sim::run_until(const std::function<bool()>& done, steady::duration limit)
{
    const auto until = steady::now() + limit;
    while (!done()) {
        if (steady::now() >= until) {
            return false;
        }
        io_.run_one_for(std::chrono::milliseconds{50});
    }
    return true;
}

void agent_sim::fail(sim_agent& a, const std::string& what)
{
    if (counters_.problem.empty()) {
        counters_.problem = "agent " + a.name + ": " + what;
    }
    ++counters_.failed;
}

namespace {

asio::awaitable<std::optional<http::response<http::string_body>>> exchange(
    asio::ssl::stream<tcp::socket>& stream,
    boost::beast::flat_buffer& buffer,
    std::string_view path,
    std::string body
)
{
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, "certfleet");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, req, tuple);
    if (wec) {
        co_return std::nullopt;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(deploy::max_bundle_bytes * 4);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, tuple);
    if (rec) {
        co_return std::nullopt;
    }
    co_return parser.release();
}

} // namespace

asio::awaitable<bool> agent_sim::enroll(sim_agent& a, connection& c)
{
    auto& socket = c.stream.next_layer();
    socket.open(tcp::v4());
    const int on = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    socket.bind({source_address(a.index, options_.per_source), 0});
    const tcp::endpoint server{asio::ip::make_address(options_.host), options_.port};
    if (auto [ec] = co_await socket.async_connect(server, tuple); ec) {
        fail(a, "connect: " + ec.message());
        co_return false;
    }
    if (auto [ec] = co_await c.stream.async_handshake(asio::ssl::stream_base::client, tuple); ec) {
        fail(a, "TLS handshake: " + ec.message());
        co_return false;
    }
    const nlohmann::json body{
        {"token", a.token},
        {"public_key", core::base64url_encode(a.key.public_point)},
        {"version", "bench"},
        {"hostname", a.name}};
    auto r = co_await exchange(c.stream, c.buffer, deploy::enroll_path, body.dump());
    if (!r || r->result_int() != 201) {
        fail(a, "enrollment: " + (r ? r->body() : std::string("connection lost")));
        co_return false;
    }
    const auto j = nlohmann::json::parse(r->body(), nullptr, false);
    const auto key = j.is_object() ? j.value("signing_key", std::string{}) : std::string{};
    auto point = core::base64url_decode(key);
    if (!point || core::to_hex(deploy::p256_spki_sha256(*point, crypto_)) != a.signing_sha256) {
        fail(a, "the server's signing key is not the pinned one");
        co_return false;
    }
    a.signing_point = std::move(*point);
    co_return true;
}

asio::awaitable<bool> agent_sim::poll_once(sim_agent& a, connection& c)
{
    deploy::poll_request request;
    request.wait = options_.poll_wait;
    request.version = "bench";
    if (a.assignment != 0) {
        request.assignments.push_back({a.assignment, a.held, std::nullopt});
    }
    auto signed_body = deploy::sign_request(
        a.crypto, a.name, a.key.private_scalar.view(), deploy::poll_path, deploy::to_json(request),
        std::chrono::system_clock::now()
    );
    if (!signed_body) {
        fail(a, "cannot sign");
        co_return false;
    }
    if (a.held && !a.waiting_counted) {
        a.waiting_counted = true;
        ++counters_.waiting;
    }
    auto r = co_await exchange(c.stream, c.buffer, deploy::poll_path, std::move(*signed_body));
    if (!r || r->result_int() != 200) {
        fail(a, "poll: " + (r ? r->body() : std::string("connection lost")));
        co_return false;
    }
    auto response =
        deploy::poll_response_from_json(nlohmann::json::parse(r->body(), nullptr, false));
    if (!response) {
        fail(a, "the poll's answer does not parse");
        co_return false;
    }
    if (!response->assignments.empty()) {
        a.assignment = response->assignments.front().id;
    }
    for (const auto& text : response->bundles) {
        deploy::open_bundle_options o;
        o.agent = a.name;
        o.agent_private_scalar = a.key.private_scalar.view();
        o.signing_public_point = a.signing_point;
        o.deployed_version = std::nullopt;
        auto opened = deploy::open_bundle(text, o, a.crypto);
        if (!opened) {
            fail(a, "bundle refused: " + opened.error().message());
            co_return false;
        }
        ++counters_.bundles;
        a.assignment = opened->assignment;
        a.held = opened->version;
        if (opened->version > renewal_above_ && !a.renewed_at) {
            a.renewed_at = steady::now();
            ++counters_.renewed;
        }
        if (options_.report) {
            deploy::report rep;
            rep.assignment = opened->assignment;
            rep.version = opened->version;
            rep.status = "staged";
            auto body = deploy::sign_request(
                a.crypto, a.name, a.key.private_scalar.view(), deploy::report_path,
                deploy::to_json(rep), std::chrono::system_clock::now()
            );
            // (no co_await inside ?: — GCC 12 destroys its result twice)
            std::optional<http::response<http::string_body>> rr;
            if (body) {
                rr = co_await exchange(c.stream, c.buffer, deploy::report_path, std::move(*body));
            }
            if (!rr || rr->result_int() != 204) {
                fail(a, "report: " + (rr ? rr->body() : std::string("connection lost")));
                co_return false;
            }
        }
    }
    co_return true;
}

asio::awaitable<void> agent_sim::life(std::size_t index)
{
    auto& a = agents_[index];
    connection c(io_, *tls_);
    const bool enrolled = co_await enroll(a, c);
    if (next_ < agents_.size()) {
        spawn(next_++);
    }
    if (!enrolled) {
        co_return;
    }
    ++counters_.enrolled;
    if (!gate_open_) {
        (void)co_await gate_.async_wait(tuple);
    }
    while (!a.renewed_at) {
        if (!co_await poll_once(a, c)) {
            co_return;
        }
    }
    boost::system::error_code ignored;
    c.stream.next_layer().close(ignored);
}

} // namespace certfleet::bench
