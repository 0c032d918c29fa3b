#pragma once
// What users of boost::asio::ssl need from OpenSSL's connection object (the stream's
// native_handle()) that Asio does not offer: the server name to send, and the certificate the
// peer presented. Kept here so that only core touches OpenSSL.

#include <openssl/types.h>

#include <string>

namespace certfleet::core {

// Sets the server_name extension (SNI, RFC 6066 section 3) of a client connection before its
// handshake; OpenSSL copies the name. False when OpenSSL refuses it (empty or over 255 bytes).
[[nodiscard]] bool set_server_name(SSL* ssl, const std::string& name) noexcept;

// The DER of the leaf certificate the peer presented in a completed handshake, whether or not it
// was verified; empty when the peer sent none.
[[nodiscard]] std::string peer_certificate_der(const SSL* ssl);

} // namespace certfleet::core
