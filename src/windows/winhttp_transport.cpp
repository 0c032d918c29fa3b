#include "windows/winhttp_transport.hpp"

// clang-format off
#include <windows.h>
#include <winhttp.h>
// clang-format on

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"
#include "net/errc.hpp"

#include "windows/text.hpp"

namespace certfleet::deploy {
namespace {

// Responses larger than this are refused (a poll answer carries a few bundles of at most 1 MiB).
constexpr std::size_t max_reply_bytes = 8 * 1024 * 1024;

struct internet_handle
{
    HINTERNET h = nullptr;
    explicit internet_handle(HINTERNET handle) : h{handle} {}
    internet_handle(const internet_handle&) = delete;
    internet_handle& operator=(const internet_handle&) = delete;
    ~internet_handle()
    {
        if (h != nullptr) {
            WinHttpCloseHandle(h);
        }
    }
};

// Closes the request when the deadline passes or the stop flag is set, which makes the blocking
// WinHTTP call on the other thread return ERROR_WINHTTP_OPERATION_CANCELLED.
class watchdog
{
public:
    watchdog(HINTERNET& request, std::chrono::milliseconds timeout, const std::atomic<bool>* stop)
        : request_{request}, thread_{[this, timeout, stop] { watch(timeout, stop); }}
    {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog()
    {
        {
            std::lock_guard lock{mutex_};
            done_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    [[nodiscard]] bool timed_out() const { return timed_out_; }
    [[nodiscard]] bool stopped() const { return stopped_; }

private:
    void watch(std::chrono::milliseconds timeout, const std::atomic<bool>* stop)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::unique_lock lock{mutex_};
        while (!done_) {
            if (stop != nullptr && stop->load()) {
                stopped_ = true;
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                timed_out_ = true;
                break;
            }
            wake_.wait_for(lock, std::chrono::milliseconds{100});
        }
        if (!done_) {
            WinHttpCloseHandle(std::exchange(request_, nullptr));
        }
    }

    HINTERNET& request_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::atomic<bool> timed_out_{false};
    std::atomic<bool> stopped_{false};
    std::thread thread_;
};

boost::system::error_code error_of(DWORD error)
{
    switch (error) {
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
        return net::errc::resolve_failed;
    case ERROR_WINHTTP_CANNOT_CONNECT:
        return net::errc::connect_failed;
    case ERROR_WINHTTP_TIMEOUT:
        return net::errc::timeout;
    case ERROR_WINHTTP_SECURE_FAILURE:
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR:
        return net::errc::tls_handshake_failed;
    case ERROR_WINHTTP_CONNECTION_ERROR:
        return net::errc::connection_closed;
    case ERROR_WINHTTP_INVALID_SERVER_RESPONSE:
        return net::errc::bad_response;
    default:
        return net::errc::io_error;
    }
}

std::optional<std::chrono::seconds> retry_after(HINTERNET request)
{
    wchar_t value[64] = {};
    DWORD size = sizeof value;
    if (!WinHttpQueryHeaders(
            request, WINHTTP_QUERY_RETRY_AFTER, WINHTTP_HEADER_NAME_BY_INDEX, value, &size,
            WINHTTP_NO_HEADER_INDEX
        )) {
        return std::nullopt;
    }
    const std::string text = narrow(value);
    long long seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || end != text.data() + text.size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds{seconds};
}

// The SHA-256 (lower-case hex) of the certificate the server presented, or "" when unreadable.
std::string presented_sha256(HINTERNET request, const crypto_port& crypto)
{
    PCCERT_CONTEXT cert = nullptr;
    DWORD size = sizeof cert;
    if (!WinHttpQueryOption(request, WINHTTP_OPTION_SERVER_CERT_CONTEXT, &cert, &size) ||
        cert == nullptr) {
        return {};
    }
    const std::string der(reinterpret_cast<const char*>(cert->pbCertEncoded), cert->cbCertEncoded);
    CertFreeCertificateContext(cert);
    return core::to_hex(crypto.sha256(der));
}

} // namespace

winhttp_transport::winhttp_transport(
    const std::string& server_url,
    std::string tls_sha256,
    const std::string& user_agent,
    const crypto_port& crypto,
    const std::atomic<bool>* stop
)
    : user_agent_{widen(user_agent)}, pin_{std::move(tls_sha256)}, crypto_{crypto}, stop_{stop}
{
    const std::wstring url = widen(server_url);
    URL_COMPONENTS parts{};
    parts.dwStructSize = sizeof parts;
    parts.dwHostNameLength = static_cast<DWORD>(-1);
    parts.dwUrlPathLength = static_cast<DWORD>(-1);
    if (!WinHttpCrackUrl(url.c_str(), static_cast<DWORD>(url.size()), 0, &parts) ||
        parts.nScheme != INTERNET_SCHEME_HTTPS) {
        throw std::runtime_error("the server URL \"" + server_url + "\" is not an https URL");
    }
    host_.assign(parts.lpszHostName, parts.dwHostNameLength);
    port_ = parts.nPort;
    base_path_.assign(parts.lpszUrlPath, parts.dwUrlPathLength);
    while (!base_path_.empty() && base_path_.back() == L'/') {
        base_path_.pop_back();
    }
}

boost::system::result<agent_reply> winhttp_transport::post(
    std::string_view path,
    std::string_view body,
    std::chrono::milliseconds timeout,
    std::string* detail
)
{
    auto fail = [detail](boost::system::error_code ec, const std::string& what) {
        if (detail != nullptr) {
            *detail = what;
        }
        return ec;
    };
    const internet_handle session{WinHttpOpen(
        user_agent_.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, WINHTTP_NO_PROXY_NAME,
        WINHTTP_NO_PROXY_BYPASS, 0
    )};
    if (session.h == nullptr) {
        return fail(net::errc::io_error, "WinHTTP could not open a session");
    }
    const int ms = static_cast<int>(timeout.count());
    WinHttpSetTimeouts(session.h, ms, ms, ms, ms);
    const internet_handle connection{WinHttpConnect(session.h, host_.c_str(), port_, 0)};
    const std::wstring target = base_path_ + widen(path);
    // `owned` is closed by the watchdog (on timeout or stop) or at the end of this call.
    HINTERNET owned = connection.h == nullptr
                          ? nullptr
                          : WinHttpOpenRequest(
                                connection.h, L"POST", target.c_str(), nullptr, WINHTTP_NO_REFERER,
                                WINHTTP_DEFAULT_ACCEPT_TYPES, WINHTTP_FLAG_SECURE
                            );
    if (owned == nullptr) {
        return fail(net::errc::io_error, "WinHTTP could not prepare the request");
    }
    const HINTERNET request = owned;
    struct closer
    {
        HINTERNET& r;
        ~closer()
        {
            if (r != nullptr) {
                WinHttpCloseHandle(r);
            }
        }
    } close_request{owned};
    // The pin replaces the chain checks (checked below, before the body goes out).
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_DATE_INVALID |
                  SECURITY_FLAG_IGNORE_CERT_CN_INVALID | SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
    WinHttpSetOption(request, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof flags);

    agent_reply reply;
    DWORD error = 0;
    std::string problem;
    {
        const watchdog guard{owned, timeout, stop_};
        const wchar_t* headers = L"Content-Type: application/json\r\nAccept: application/json";
        auto step = [&](BOOL done, const char* what) {
            if (!done && error == 0) {
                error = GetLastError();
                problem = what;
            }
            return done != FALSE;
        };
        if (step(
                WinHttpSendRequest(
                    request, headers, static_cast<DWORD>(-1L), WINHTTP_NO_REQUEST_DATA, 0,
                    static_cast<DWORD>(body.size()), 0
                ),
                "could not connect or complete the TLS handshake"
            )) {
            if (presented_sha256(request, crypto_) != pin_) {
                return fail(
                    errc::pin_mismatch,
                    "the server presented a TLS certificate other than the pinned one"
                );
            }
            DWORD written = 0;
            if (step(
                    WinHttpWriteData(
                        request, body.data(), static_cast<DWORD>(body.size()), &written
                    ),
                    "could not send the request"
                ) &&
                step(WinHttpReceiveResponse(request, nullptr), "no answer came")) {
                DWORD status = 0;
                DWORD size = sizeof status;
                WinHttpQueryHeaders(
                    request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                    WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX
                );
                reply.status = static_cast<int>(status);
                reply.retry_after = retry_after(request);
                char chunk[16384];
                DWORD read = 0;
                while (step(
                           WinHttpReadData(request, chunk, sizeof chunk, &read),
                           "the answer broke off"
                       ) &&
                       read > 0) {
                    reply.body.append(chunk, read);
                    if (reply.body.size() > max_reply_bytes) {
                        return fail(net::errc::body_too_large, "the answer is larger than 8 MiB");
                    }
                }
            }
        }
        if (guard.stopped()) {
            return fail(net::errc::io_error, "the agent is stopping");
        }
        if (guard.timed_out()) {
            return fail(
                net::errc::timeout,
                "no answer within " + std::to_string(timeout.count() / 1000) + " s"
            );
        }
    }
    if (error != 0) {
        return fail(error_of(error), problem + " (WinHTTP error " + std::to_string(error) + ")");
    }
    return reply;
}

transport_factory winhttp_transport_factory(
    std::string user_agent, const crypto_port& crypto, const std::atomic<bool>* stop
)
{
    return [user_agent = std::move(user_agent), &crypto,
            stop](const std::string& url, const std::string& pin) {
        return std::make_unique<winhttp_transport>(url, pin, user_agent, crypto, stop);
    };
}

} // namespace certfleet::deploy
