#include "core/crypto/tls_session.hpp"

#include <openssl/ssl.h>

#include "core/crypto/openssl_support.hpp"

namespace certfleet::core {

bool set_server_name(SSL* ssl, const std::string& name) noexcept
{
    const detail::error_queue_guard guard;
    if (ssl == nullptr || name.empty() || name.size() > 255) {
        return false;
    }
    // SSL_set_tlsext_host_name, without the macro's C-style cast.
    return SSL_ctrl(
               ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()) // NOLINT(cppcoreguidelines-pro-type-const-cast)
           ) == 1;
}

std::string peer_certificate_der(const SSL* ssl)
{
    const detail::error_queue_guard guard;
    if (ssl == nullptr) {
        return {};
    }
    const x509_ptr leaf{SSL_get1_peer_certificate(ssl)};
    if (!leaf) {
        return {};
    }
    return detail::to_der(leaf.get(), i2d_X509);
}

} // namespace certfleet::core
