// run_probe on Linux: Asio and OpenSSL (through boost::asio::ssl and core), one io_context of its
// own, every address of the host probed at the same time under one deadline.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/random.hpp"
#include "core/crypto/tls_session.hpp"
#include "deploy/errc.hpp"
#include "deploy/probe.hpp"

namespace certfleet::deploy {
namespace {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using steady = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Far more than any real response head; SSTP's is about 120 bytes.
constexpr std::size_t max_response_head = 16 * 1024;

// getaddrinfo cannot be interrupted: the lookup runs on a thread of its own and, on timeout, is
// abandoned rather than awaited; the state it writes is shared so that it outlives the caller.
struct lookup_state
{
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    error_code ec;
    std::vector<tcp::endpoint> endpoints;
};

struct resolved
{
    std::vector<tcp::endpoint> endpoints;
    std::string error;
};

resolved resolve(const std::string& host, std::uint16_t port, steady::time_point deadline)
{
    error_code ec;
    const auto literal = asio::ip::make_address(host, ec);
    if (!ec) {
        return {{tcp::endpoint(literal, port)}, {}};
    }
    auto state = std::make_shared<lookup_state>();
    std::thread([state, host, port] {
        asio::io_context io;
        tcp::resolver resolver(io);
        error_code failed;
        // No AI_ADDRCONFIG: every IPv4 and IPv6 address of the name is probed.
        const auto results =
            resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, failed);
        const std::lock_guard lock(state->mutex);
        for (const auto& entry : results) {
            if (std::find(state->endpoints.begin(), state->endpoints.end(), entry.endpoint()) ==
                state->endpoints.end()) {
                state->endpoints.push_back(entry.endpoint());
            }
        }
        state->ec = failed;
        state->done = true;
        state->finished.notify_all();
    }).detach();
    std::unique_lock lock(state->mutex);
    if (!state->finished.wait_until(lock, deadline, [&] { return state->done; })) {
        return {{}, "cannot resolve " + host + ": no answer within the timeout"};
    }
    if (state->ec) {
        return {{}, "cannot resolve " + host + ": " + state->ec.message()};
    }
    if (state->endpoints.empty()) {
        return {{}, "cannot resolve " + host + ": it has no address"};
    }
    return {state->endpoints, {}};
}

// One address's connection. The deadline's timer closes the socket, which ends whatever
// operation is pending; both hold the attempt.
struct attempt
{
    attempt(asio::io_context& io, ssl::context& tls) : stream(io, tls), deadline(io) {}

    ssl::stream<tcp::socket> stream;
    asio::steady_timer deadline;
    bool timed_out = false;
    bool finished = false;
};

void arm(const std::shared_ptr<attempt>& a, steady::time_point deadline)
{
    a->deadline.expires_at(deadline);
    a->deadline.async_wait([a](const error_code& ec) {
        if (!ec && !a->finished) {
            a->timed_out = true;
            error_code ignored;
            a->stream.lowest_layer().close(ignored); // NOLINT(bugprone-unused-return-value)
        }
    });
}

std::string reason(const attempt& a, const error_code& ec, const probe_request& request)
{
    if (a.timed_out) {
        return "no answer within " + std::to_string(request.timeout.count()) + " ms";
    }
    return ec.message();
}

void fail(probe_address_result& out, errc failure, std::string text)
{
    out.failure = failure;
    out.error = std::move(text);
}

// RFC 3339 in UTC, to the second.
std::string rfc3339(std::chrono::system_clock::time_point t)
{
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day)};
    const auto two = [](long v) { return (v < 10 ? "0" : "") + std::to_string(v); };
    return std::to_string(static_cast<int>(ymd.year())) + "-" +
           two(static_cast<unsigned>(ymd.month())) + "-" + two(static_cast<unsigned>(ymd.day())) +
           "T" + two(hms.hours().count()) + ":" + two(hms.minutes().count()) + ":" +
           two(hms.seconds().count()) + "Z";
}

void read_leaf(attempt& a, probe_address_result& out)
{
    const auto der = core::peer_certificate_der(a.stream.native_handle());
    if (der.empty()) {
        fail(out, errc::probe_tls_failed, "the server presented no certificate");
        return;
    }
    out.sha256_hex = core::to_hex(core::sha256(der));
    // Structure only; a leaf that does not parse is still compared by its hash.
    if (const auto info = core::parse_der_certificate(der)) {
        out.subject = info->subject_cn;
        out.issuer = info->issuer_cn;
        out.names = info->dns_names;
        out.not_after = rfc3339(info->not_after);
    }
}

// The Host header: the name the client asked for, with the port unless it is 443.
std::string host_header(const probe_request& request)
{
    auto host = request.sni.empty() ? request.host : request.sni;
    if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
    }
    return request.port == 443 ? host : host + ":" + std::to_string(request.port);
}

// The first line of what the server sent, printable ASCII only, for messages.
std::string first_line(std::string_view head)
{
    std::string line;
    for (const char c : head.substr(0, std::min<std::size_t>(head.find('\r'), 80))) {
        line += c >= 0x20 && c < 0x7f ? c : '?';
    }
    return line;
}

asio::awaitable<void>
sstp_exchange(std::shared_ptr<attempt> a, const probe_request* request, probe_address_result* out)
{
    auto id = core::random_uuid();
    std::string correlation = "{" + (id ? *id : "00000000-0000-4000-8000-000000000000") + "}";
    std::transform(correlation.begin(), correlation.end(), correlation.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    const auto text = sstp_duplex_post(host_header(*request), correlation);
    const auto [wec, written] =
        co_await asio::async_write(a->stream, asio::buffer(text), use_tuple);
    if (wec) {
        fail(
            *out, errc::sstp_refused,
            "SSTP: sending SSTP_DUPLEX_POST failed: " + reason(*a, wec, *request)
        );
        co_return;
    }
    // The head only: a 200 is followed by SSTP packets, never by a body to wait for.
    std::string head;
    const auto [rec, read] = co_await asio::async_read_until(
        a->stream, asio::dynamic_buffer(head, max_response_head), "\r\n\r\n", use_tuple
    );
    if (rec) {
        const bool closed = rec == asio::error::eof || rec == ssl::error::stream_truncated;
        fail(
            *out, errc::sstp_refused,
            "SSTP is not answering: " +
                (closed ? "the server closed the connection without answering SSTP_DUPLEX_POST"
                        : "no answer to SSTP_DUPLEX_POST: " + reason(*a, rec, *request))
        );
        co_return;
    }
    out->sstp_status = http_status_of(head);
    if (!out->sstp_status) {
        fail(
            *out, errc::sstp_refused,
            "SSTP is not answering: the answer to SSTP_DUPLEX_POST is not HTTP (\"" +
                first_line(head) + "\")"
        );
    } else if (*out->sstp_status != 200) {
        fail(
            *out, errc::sstp_refused,
            "SSTP is not answering: SSTP_DUPLEX_POST got HTTP " +
                std::to_string(*out->sstp_status) + " (\"" + first_line(head) + "\"), not 200"
        );
    }
}

asio::awaitable<void> probe_address(
    std::shared_ptr<attempt> a,
    tcp::endpoint endpoint,
    const probe_request* request,
    probe_address_result* out
)
{
    const auto [cec] = co_await a->stream.lowest_layer().async_connect(endpoint, use_tuple);
    if (cec) {
        fail(*out, errc::probe_connect_failed, "cannot connect: " + reason(*a, cec, *request));
    } else if (!request->sni.empty() && !core::set_server_name(a->stream.native_handle(), request->sni)) {
        fail(*out, errc::probe_tls_failed, "the server name \"" + request->sni + "\" is refused");
    } else if (const auto [hec] =
                   co_await a->stream.async_handshake(ssl::stream_base::client, use_tuple);
               hec) {
        fail(*out, errc::probe_tls_failed, "TLS handshake failed: " + reason(*a, hec, *request));
    } else {
        read_leaf(*a, *out);
        if (request->sstp && !out->failure) {
            co_await sstp_exchange(a, request, out);
        }
    }
    a->finished = true;
    a->deadline.cancel();
    error_code ignored;
    a->stream.lowest_layer().close(ignored); // NOLINT(bugprone-unused-return-value)
}

bool is_address(const std::string& host)
{
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

} // namespace

probe_result run_probe(const probe_request& request)
{
    auto effective = request;
    if (effective.sni.empty() && !is_address(effective.host)) {
        effective.sni = effective.host; // RFC 6066 section 3: no SNI for an address
    }
    const auto deadline = steady::now() + request.timeout;
    const auto found = resolve(request.host, request.port, deadline);
    if (!found.error.empty()) {
        auto result = judge(effective, {});
        result.summary = found.error;
        return result;
    }
    asio::io_context io;
    // No chain or name verification: the probe reports what is served and compares its hash.
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_none);
    std::vector<probe_address_result> results(found.endpoints.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        results[i].address = found.endpoints[i].address().to_string();
        auto a = std::make_shared<attempt>(io, tls);
        arm(a, deadline);
        asio::co_spawn(
            io, probe_address(a, found.endpoints[i], &effective, &results[i]), asio::detached
        );
    }
    io.run();
    return judge(effective, std::move(results));
}

} // namespace certfleet::deploy
