// core::tls_socket_session against an OpenSSL client over a non-blocking socket pair, both
// driven by hand: the handshake, data both ways (more than the socket buffers hold), bytes left
// in OpenSSL, close_notify, a transport that ends without it, a peer that does not speak TLS.
#include "core/crypto/tls_socket_session.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>

#include "core/crypto/handles.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/self_signed.hpp"
#include "core/errc.hpp"

using namespace certfleet;
using core::tls_status;

namespace {

struct ssl_free
{
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

std::unique_ptr<SSL_CTX, ssl_free> server_context()
{
    auto key = core::private_key::generate(core::key_type::ec_p256);
    REQUIRE(key.has_value());
    core::self_signed_request request;
    request.dns_names = {"localhost"};
    auto cert = core::make_self_signed_certificate(key.value(), request);
    REQUIRE(cert.has_value());
    std::unique_ptr<SSL_CTX, ssl_free> ctx(SSL_CTX_new(TLS_server_method()));
    const core::bio_ptr cert_bio(BIO_new_mem_buf(cert.value().data(), -1));
    const core::x509_ptr x509(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    const auto key_pem = key.value().to_pem();
    const core::bio_ptr key_bio(BIO_new_mem_buf(key_pem.data(), -1));
    const core::pkey_ptr pkey(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(SSL_CTX_use_certificate(ctx.get(), x509.get()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), pkey.get()) == 1);
    return ctx;
}

// A server session and an OpenSSL client on the two ends of a non-blocking socket pair.
struct connected_pair
{
    connected_pair() : server_ctx(server_context()), client_ctx(SSL_CTX_new(TLS_client_method()))
    {
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        for (const int fd : fds) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
        auto s = core::tls_socket_session::accept(server_ctx.get(), fds[0]);
        REQUIRE(s.has_value());
        server.emplace(std::move(s.value()));
        client.reset(SSL_new(client_ctx.get()));
        SSL_set_fd(client.get(), fds[1]);
        SSL_set_connect_state(client.get());
    }
    ~connected_pair()
    {
        server.reset();
        client.reset();
        for (const int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }
    connected_pair(const connected_pair&) = delete;
    connected_pair& operator=(const connected_pair&) = delete;

    // Both sides' handshakes, turn by turn; false when either fails or it takes too long.
    bool handshake()
    {
        bool server_done = false;
        bool client_done = false;
        for (int round = 0; round < 100 && !(server_done && client_done); ++round) {
            if (!server_done) {
                const auto o = server->handshake();
                if (o.status == tls_status::failed) {
                    return false;
                }
                server_done = o.status == tls_status::done;
            }
            if (!client_done) {
                client_done = SSL_do_handshake(client.get()) == 1;
            }
        }
        return server_done && client_done;
    }
    // What the client can read now.
    std::string client_reads()
    {
        std::string out;
        char buf[16384];
        std::size_t n = 0;
        while (SSL_read_ex(client.get(), buf, sizeof buf, &n) == 1) {
            out.append(buf, n);
        }
        return out;
    }
    void client_writes(const std::string& text)
    {
        std::size_t n = 0;
        REQUIRE(SSL_write_ex(client.get(), text.data(), text.size(), &n) == 1);
        REQUIRE(n == text.size());
    }

    std::unique_ptr<SSL_CTX, ssl_free> server_ctx;
    std::unique_ptr<SSL_CTX, ssl_free> client_ctx;
    int fds[2] = {-1, -1};
    std::optional<core::tls_socket_session> server;
    std::unique_ptr<SSL, ssl_free> client;
};

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("tls_socket_session: handshake, data both ways, bytes left in OpenSSL, close_notify")
    {
        connected_pair p;
        REQUIRE(p.handshake());
        char buf[64];
        // Nothing sent yet: wait for the socket.
        CHECK(p.server->read(buf, sizeof buf).status == tls_status::want_read);
        CHECK_FALSE(p.server->has_buffered_data());

        p.client_writes("ab");
        p.client_writes("cd");
        const auto first = p.server->read(buf, 1);
        REQUIRE(first.status == tls_status::done);
        CHECK(std::string(buf, first.bytes) == "a");
        CHECK(p.server->has_buffered_data()); // "b" is decrypted and waits
        const auto second = p.server->read(buf, sizeof buf);
        REQUIRE(second.status == tls_status::done);
        CHECK(std::string(buf, second.bytes) == "b");
        const auto third = p.server->read(buf, sizeof buf);
        REQUIRE(third.status == tls_status::done);
        CHECK(std::string(buf, third.bytes) == "cd");
        CHECK_FALSE(p.server->has_buffered_data());

        // More than the socket pair holds: the server is told to wait until the client reads.
        const std::string big(1024 * 1024, 'x');
        std::size_t sent = 0;
        std::string received;
        bool waited = false;
        for (int round = 0; round < 100000 && sent < big.size(); ++round) {
            const auto o = p.server->write(big.data() + sent, big.size() - sent);
            if (o.status == tls_status::want_write) {
                waited = true;
                received += p.client_reads();
                continue;
            }
            REQUIRE(o.status == tls_status::done);
            CHECK(o.bytes > 0);
            sent += o.bytes;
        }
        received += p.client_reads();
        CHECK(waited);
        CHECK(received == big);

        // RFC 8446 section 6.1: the client's close_notify ends the stream; ours answers it.
        CHECK(SSL_shutdown(p.client.get()) == 0);
        CHECK(p.server->read(buf, sizeof buf).status == tls_status::closed);
        CHECK(p.server->shutdown().status == tls_status::done);
        CHECK(SSL_shutdown(p.client.get()) == 1);
    }

    TEST_CASE("tls_socket_session: an end without close_notify is truncated, a non-TLS peer fails")
    {
        {
            connected_pair p;
            REQUIRE(p.handshake());
            ::shutdown(p.fds[1], SHUT_RDWR);
            char buf[16];
            CHECK(p.server->read(buf, sizeof buf).status == tls_status::truncated);
        }
        {
            connected_pair p;
            const std::string plain = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
            REQUIRE(
                ::write(p.fds[1], plain.data(), plain.size()) == static_cast<ssize_t>(plain.size())
            );
            const auto o = p.server->handshake();
            CHECK(o.status == tls_status::failed);
            CHECK(o.ssl_error != 0);
        }
    }

    TEST_CASE("tls_socket_session: writing to a peer that is gone fails without SIGPIPE")
    {
        connected_pair p;
        REQUIRE(p.handshake());
        p.client.reset();
        ::close(p.fds[1]);
        p.fds[1] = -1;
        // With write(2) instead of send(MSG_NOSIGNAL) this would end the test process.
        const std::string data(64 * 1024, 'y');
        core::tls_outcome o{tls_status::done};
        for (int i = 0; i < 4 && o.status != tls_status::failed; ++i) {
            o = p.server->write(data.data(), data.size());
        }
        CHECK(o.status == tls_status::failed);
        CHECK(o.system_error == EPIPE);
    }

    TEST_CASE("tls_socket_session: no session without a context or a descriptor")
    {
        CHECK(core::tls_socket_session::accept(nullptr, 0).error() == core::errc::invalid_argument);
        const auto ctx = server_context();
        CHECK(
            core::tls_socket_session::accept(ctx.get(), -1).error() == core::errc::invalid_argument
        );
    }
}
