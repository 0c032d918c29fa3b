#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>
#include <stdexcept>

namespace certfleet::net {
namespace {

boost::system::error_code last_ssl_error()
{
    const auto code = ERR_get_error();
    ERR_clear_error();
    return {static_cast<int>(code), boost::asio::error::get_ssl_category()};
}

} // namespace

boost::asio::ssl::context
make_tls_client_context(const std::optional<std::string>& ca_file, bool verify_peer)
{
    namespace ssl = boost::asio::ssl;
    ssl::context ctx(ssl::context::tls_client);
    if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
        throw std::runtime_error("cannot restrict TLS to version 1.2 or later");
    }
    boost::system::error_code ec;
    if (ca_file) {
        ctx.load_verify_file(*ca_file, ec);
        if (ec) {
            throw std::runtime_error("cannot load CA file " + *ca_file + ": " + ec.message());
        }
    } else {
        ctx.set_default_verify_paths(ec);
        if (ec) {
            throw std::runtime_error("cannot load the system's trusted roots: " + ec.message());
        }
    }
    ctx.set_verify_mode(verify_peer ? ssl::verify_peer : ssl::verify_none);
    return ctx;
}

boost::system::error_code prepare_tls_stream(SSL* ssl, const url& target)
{
    if (target.host_is_ip_literal()) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str()) != 1) {
            return last_ssl_error();
        }
        return {};
    }
    // SSL_set_tlsext_host_name, without the macro's C-style cast; OpenSSL copies the name.
    if (SSL_ctrl(
            ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
            const_cast<char*>(target.host.c_str()) // NOLINT(cppcoreguidelines-pro-type-const-cast)
        ) != 1) {
        return last_ssl_error();
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, target.host.c_str()) != 1) {
        return last_ssl_error();
    }
    return {};
}

std::string verify_failure(const SSL* ssl)
{
    // With verify_none OpenSSL still records a verdict, which did not fail the handshake.
    const auto result = SSL_get_verify_result(ssl);
    if (result == X509_V_OK || (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) {
        return {};
    }
    return X509_verify_cert_error_string(result);
}

} // namespace certfleet::net
