#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <cctype>
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

boost::asio::ssl::context make_tls_client_context(
    const std::optional<std::string>& ca_file,
    bool verify_peer,
    const std::optional<std::string>& pinned_sha256
)
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
    ctx.set_verify_mode(verify_peer || pinned_sha256 ? ssl::verify_peer : ssl::verify_none);
    if (pinned_sha256) {
        // The pinned leaf is the whole trust decision: its chain and names are not consulted
        // (a self-signed certificate for an address is what pins are for).
        std::string pin;
        for (const char c : *pinned_sha256) {
            if (c != ':') {
                pin += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        }
        ctx.set_verify_callback([pin](bool, ssl::verify_context& vc) {
            auto* store = vc.native_handle();
            if (X509_STORE_CTX_get_error_depth(store) > 0) {
                return true;
            }
            X509* leaf = X509_STORE_CTX_get_current_cert(store);
            unsigned char digest[EVP_MAX_MD_SIZE];
            unsigned int size = 0;
            if (leaf == nullptr || X509_digest(leaf, EVP_sha256(), digest, &size) != 1) {
                return false;
            }
            static constexpr char hex[] = "0123456789abcdef";
            std::string seen;
            for (unsigned i = 0; i < size; ++i) {
                seen += hex[digest[i] >> 4];
                seen += hex[digest[i] & 0xf];
            }
            if (seen != pin) {
                X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
                return false;
            }
            X509_STORE_CTX_set_error(store, X509_V_OK);
            return true;
        });
    }
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
    if (result == X509_V_ERR_APPLICATION_VERIFICATION) {
        return "the server's certificate does not match the pinned SHA-256";
    }
    return X509_verify_cert_error_string(result);
}

} // namespace certfleet::net
