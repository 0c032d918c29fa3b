#pragma once
// OpenSSL set-up for the HTTP client (internal to the net module).
//
// make_tls_client_context builds the context every TLS connection of one http_client shares:
// TLS 1.2 or later, peer verification against ca_file (a PEM bundle, trusted instead of the
// system roots) or the system roots (SSL_CTX_set_default_verify_paths). Throws
// std::runtime_error naming the file when ca_file cannot be loaded: a start-up failure.
//
// prepare_tls_stream readies one connection before its handshake: SNI with the host name (not
// for IP literals, RFC 6066 §3) and the identity to verify: DNS SANs for a name (RFC 6125, no
// partial wildcards), IP SANs for an IP literal.
//
// verify_failure describes why the peer's certificate was rejected ("certificate has expired",
// "hostname mismatch"), or returns an empty string when verification did not fail.

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string>

#include "net/url.hpp"

namespace certfleet::net {

// pinned_sha256 (hex, colons allowed): the server's leaf certificate must have this SHA-256
// (of its DER), and then nothing else about it is checked.
[[nodiscard]] boost::asio::ssl::context make_tls_client_context(
    const std::optional<std::string>& ca_file,
    bool verify_peer,
    const std::optional<std::string>& pinned_sha256 = std::nullopt
);

[[nodiscard]] boost::system::error_code prepare_tls_stream(SSL* ssl, const url& target);

[[nodiscard]] std::string verify_failure(const SSL* ssl);

} // namespace certfleet::net
