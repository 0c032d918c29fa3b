#pragma once
// The agent's transport on Windows: WinHTTP, with the server's TLS certificate pinned by the
// SHA-256 of its DER. Windows' chain checks are switched off for this connection only because the
// pin replaces them: after the handshake the leaf is read with WINHTTP_OPTION_SERVER_CERT_CONTEXT
// and compared with the pin before the body is written (the request line and headers, which
// carry nothing secret, have gone out by then: WinHTTP sends them with the handshake).
//
// Each post() opens its own session and connection, in WinHTTP's asynchronous mode: the call's
// timeout and `stop` end an exchange in flight, a long-poll included (post() then fails with
// net::errc::timeout or io_error).

#include <atomic>
#include <string>

#include "deploy/agent_transport.hpp"
#include "deploy/crypto_port.hpp"

namespace certfleet::deploy {

class winhttp_transport final : public agent_transport
{
public:
    // `server_url`: "https://host[:port]"; `tls_sha256`: lower-case hex of the certificate's
    // SHA-256. Throws std::runtime_error for a URL that is not https.
    winhttp_transport(
        const std::string& server_url,
        std::string tls_sha256,
        const std::string& user_agent,
        const crypto_port& crypto,
        const std::atomic<bool>* stop = nullptr
    );

    [[nodiscard]] boost::system::result<agent_reply> post(
        std::string_view path,
        std::string_view body,
        std::chrono::milliseconds timeout,
        std::string* detail = nullptr
    ) override;

private:
    std::wstring host_;
    unsigned short port_ = 443;
    std::wstring base_path_;
    std::wstring user_agent_;
    std::string pin_;
    const crypto_port& crypto_;
    const std::atomic<bool>* stop_;
};

[[nodiscard]] transport_factory winhttp_transport_factory(
    std::string user_agent, const crypto_port& crypto, const std::atomic<bool>* stop = nullptr
);

} // namespace certfleet::deploy
