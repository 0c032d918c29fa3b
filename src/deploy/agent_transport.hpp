#pragma once
// The agent's transport port (DESIGN section 6): one HTTPS POST to the certfleet server, trusting
// only the TLS certificate pinned at enrollment. Linux implements it on net::http_client
// (https_transport.hpp); Windows on WinHTTP. Tests script it.
//
// Contract: post() sends `body` as application/json to the server's base URL followed by `path`
// and returns the server's answer whatever its status (a 4xx is a reply, not an error). It fails
// only when no answer came: pin_mismatch when the server presented another certificate than the
// pinned one (nothing was sent then), or a net::errc code (cannot connect, timeout, TLS, a reply
// that is not HTTP). `detail`, when given, receives one line for humans saying what failed; it
// never contains data sent by the server. `timeout` bounds the whole exchange, connect included.
//
// Thread safety: one call at a time per object.

#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace certfleet::deploy {

struct agent_reply
{
    int status = 0;
    std::string body;
    std::optional<std::chrono::seconds> retry_after; // Retry-After in delta-seconds, if sent
};

class agent_transport
{
public:
    virtual ~agent_transport() = default;
    [[nodiscard]] virtual boost::system::result<agent_reply> post(
        std::string_view path,
        std::string_view body,
        std::chrono::milliseconds timeout,
        std::string* detail = nullptr
    ) = 0;
};

// A Retry-After value as delta-seconds (RFC 9110 10.2.3); nothing for anything else (our server
// never sends the date form).
[[nodiscard]] std::optional<std::chrono::seconds> parse_retry_after(std::string_view value
) noexcept;

// Makes a transport for a server: its base URL ("https://host:8443") and the lower-case hex
// SHA-256 of its TLS certificate. Throws std::runtime_error when the platform cannot set up TLS.
using transport_factory = std::function<
    std::unique_ptr<agent_transport>(const std::string& server_url, const std::string& tls_sha256)>;

} // namespace certfleet::deploy
