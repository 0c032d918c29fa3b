#include "windows/winhttp_transport.hpp"

// clang-format off
#include <windows.h>
#include <winhttp.h>
// clang-format on

#include <atomic>
#include <chrono>
#include <stdexcept>

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

// One request in WinHTTP's asynchronous mode: each operation is started, then awaited in 100 ms
// slices, so that the deadline and the stop flag end it even in the middle of a long-poll (closing
// the handle of a synchronous request does not interrupt it everywhere, Wine among them).
class async_request
{
public:
    enum class outcome
    {
        done,
        failed,
        timed_out,
        stopped,
    };

    async_request(HINTERNET connection, const std::wstring& target)
    {
        handle_ = WinHttpOpenRequest(
            connection, L"POST", target.c_str(), nullptr, WINHTTP_NO_REFERER,
            WINHTTP_DEFAULT_ACCEPT_TYPES, WINHTTP_FLAG_SECURE
        );
        if (handle_ == nullptr) {
            return;
        }
        auto* state = state_;
        WinHttpSetOption(handle_, WINHTTP_OPTION_CONTEXT_VALUE, &state, sizeof state);
        WinHttpSetStatusCallback(
            handle_, on_status,
            WINHTTP_CALLBACK_FLAG_ALL_COMPLETIONS | WINHTTP_CALLBACK_FLAG_HANDLES, 0
        );
    }
    async_request(const async_request&) = delete;
    async_request& operator=(const async_request&) = delete;
    ~async_request()
    {
        if (handle_ != nullptr) {
            WinHttpCloseHandle(handle_);
            // Callbacks use the shared state until the handle has closed; when that does not
            // come in time (an operation cancelled in flight), the state is left to them.
            if (WaitForSingleObject(state_->closed, 5000) != WAIT_OBJECT_0) {
                return;
            }
        }
        delete state_;
    }

    [[nodiscard]] HINTERNET handle() const { return handle_; }
    [[nodiscard]] DWORD_PTR context() const { return reinterpret_cast<DWORD_PTR>(state_); }
    [[nodiscard]] DWORD error() const { return state_->error; }
    [[nodiscard]] DWORD bytes() const { return state_->bytes; }

    // Waits for the operation that `started` (its return value) began.
    outcome await(
        BOOL started, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* stop
    )
    {
        if (!started) {
            state_->error = GetLastError();
            return outcome::failed;
        }
        for (;;) {
            if (WaitForSingleObject(state_->done, 100) == WAIT_OBJECT_0) {
                return state_->error == 0 ? outcome::done : outcome::failed;
            }
            if (stop != nullptr && stop->load()) {
                return outcome::stopped;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                return outcome::timed_out;
            }
        }
    }

private:
    // What the callbacks (on WinHTTP's threads) write.
    struct shared
    {
        HANDLE done = CreateEventW(nullptr, FALSE, FALSE, nullptr);
        HANDLE closed = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        std::atomic<DWORD> error{0};
        std::atomic<DWORD> bytes{0};
        shared() = default;
        shared(const shared&) = delete;
        shared& operator=(const shared&) = delete;
        ~shared()
        {
            CloseHandle(done);
            CloseHandle(closed);
        }
        void finish(DWORD e, DWORD n)
        {
            error = e;
            bytes = n;
            SetEvent(done);
        }
    };

    static void CALLBACK
    on_status(HINTERNET, DWORD_PTR context, DWORD status, void* info, DWORD length)
    {
        auto* state = reinterpret_cast<shared*>(context);
        if (state == nullptr) {
            return;
        }
        switch (status) {
        case WINHTTP_CALLBACK_STATUS_SENDREQUEST_COMPLETE:
        case WINHTTP_CALLBACK_STATUS_HEADERS_AVAILABLE:
            state->finish(0, 0);
            break;
        case WINHTTP_CALLBACK_STATUS_WRITE_COMPLETE:
            state->finish(0, *static_cast<DWORD*>(info));
            break;
        case WINHTTP_CALLBACK_STATUS_READ_COMPLETE:
            state->finish(0, length);
            break;
        case WINHTTP_CALLBACK_STATUS_REQUEST_ERROR:
            state->finish(static_cast<WINHTTP_ASYNC_RESULT*>(info)->dwError, 0);
            break;
        case WINHTTP_CALLBACK_STATUS_HANDLE_CLOSING:
            SetEvent(state->closed);
            break;
        default:
            break;
        }
    }

    HINTERNET handle_ = nullptr;
    shared* state_ = new shared;
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
    return parse_retry_after(narrow(value));
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
        WINHTTP_NO_PROXY_BYPASS, WINHTTP_FLAG_ASYNC
    )};
    if (session.h == nullptr) {
        return fail(net::errc::io_error, "WinHTTP could not open a session");
    }
    const int ms = static_cast<int>(timeout.count());
    WinHttpSetTimeouts(session.h, ms, ms, ms, ms);
    const internet_handle connection{WinHttpConnect(session.h, host_.c_str(), port_, 0)};
    if (connection.h == nullptr) {
        return fail(net::errc::io_error, "WinHTTP could not prepare the connection");
    }
    async_request call{connection.h, base_path_ + widen(path)};
    const HINTERNET request = call.handle();
    if (request == nullptr) {
        return fail(net::errc::io_error, "WinHTTP could not prepare the request");
    }
    // The pin replaces the chain checks (checked below, before the body goes out).
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_DATE_INVALID |
                  SECURITY_FLAG_IGNORE_CERT_CN_INVALID | SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
    WinHttpSetOption(request, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof flags);

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto outcome = async_request::outcome::done;
    std::string problem;
    auto step = [&](BOOL started, const char* what) {
        outcome = call.await(started, deadline, stop_);
        if (outcome != async_request::outcome::done) {
            problem = what;
        }
        return outcome == async_request::outcome::done;
    };
    agent_reply reply;
    const wchar_t* headers = L"Content-Type: application/json\r\nAccept: application/json";
    if (step(
            WinHttpSendRequest(
                request, headers, static_cast<DWORD>(-1L), WINHTTP_NO_REQUEST_DATA, 0,
                static_cast<DWORD>(body.size()), call.context()
            ),
            "could not connect or complete the TLS handshake"
        )) {
        if (presented_sha256(request, crypto_) != pin_) {
            return fail(
                errc::pin_mismatch,
                "the server presented a TLS certificate other than the pinned one"
            );
        }
        if (step(
                WinHttpWriteData(request, body.data(), static_cast<DWORD>(body.size()), nullptr),
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
            std::string chunk(16384, '\0');
            while (step(
                       WinHttpReadData(
                           request, chunk.data(), static_cast<DWORD>(chunk.size()), nullptr
                       ),
                       "the answer broke off"
                   ) &&
                   call.bytes() > 0) {
                reply.body.append(chunk.data(), call.bytes());
                if (reply.body.size() > max_reply_bytes) {
                    return fail(net::errc::body_too_large, "the answer is larger than 8 MiB");
                }
            }
        }
    }
    switch (outcome) {
    case async_request::outcome::done:
        return reply;
    case async_request::outcome::stopped:
        return fail(net::errc::io_error, "the agent is stopping");
    case async_request::outcome::timed_out:
        return fail(
            net::errc::timeout, "no answer within " + std::to_string(timeout.count() / 1000) + " s"
        );
    case async_request::outcome::failed:
        break;
    }
    return fail(
        error_of(call.error()), problem + " (WinHTTP error " + std::to_string(call.error()) + ")"
    );
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
