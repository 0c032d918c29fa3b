#pragma once
// The agent's transport on Linux: net::http_client (Beast, OpenSSL) with the server's TLS
// certificate pinned by its SHA-256; the system's CAs are not trusted for this connection. Each
// post() runs its own io_context to completion on the calling thread (the agent is
// synchronous), with a fresh client so that the call's timeout applies.

#include <atomic>
#include <string>

#include "deploy/agent_transport.hpp"

namespace certfleet::deploy {

class https_transport final : public agent_transport
{
public:
    // `tls_sha256`: lower-case hex, 64 characters (as the join token carries it).
    // `stop`, when given, ends an exchange in flight once it is set (post() then fails with
    // io_error): the long-poll does not hold up a stopping agent.
    https_transport(
        std::string server_url,
        std::string tls_sha256,
        std::string user_agent,
        const std::atomic<bool>* stop = nullptr
    );

    [[nodiscard]] boost::system::result<agent_reply> post(
        std::string_view path,
        std::string_view body,
        std::chrono::milliseconds timeout,
        std::string* detail = nullptr
    ) override;

private:
    std::string base_;
    std::string pin_;
    std::string user_agent_;
    const std::atomic<bool>* stop_;
};

// A transport_factory making https_transport objects.
[[nodiscard]] transport_factory
https_transport_factory(std::string user_agent, const std::atomic<bool>* stop = nullptr);

} // namespace certfleet::deploy
