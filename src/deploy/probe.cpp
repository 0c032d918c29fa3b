// The probe's pure parts: the MS-SSTP request, reading a status line, the verdict and its JSON.
#include "deploy/probe.hpp"

#include <algorithm>
#include <cctype>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

// "[::1]:443", "vpn.example.com:443"
std::string endpoint_text(std::string_view host, std::uint16_t port)
{
    const bool v6 = host.find(':') != std::string_view::npos;
    return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

std::string plural(std::size_t n, std::string_view word)
{
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "es");
}

const char* failure_name(const boost::system::error_code& failure) noexcept
{
    if (failure == errc::probe_connect_failed) {
        return "connect_failed";
    }
    if (failure == errc::probe_tls_failed) {
        return "tls_failed";
    }
    if (failure == errc::probe_mismatch) {
        return "mismatch";
    }
    if (failure == errc::sstp_refused) {
        return "sstp_refused";
    }
    return "other";
}

// Sets `matches` and, for a served leaf that is not the expected one, probe_mismatch (which
// outranks an SSTP failure on the same address: the wrong certificate is the thing to fix).
void compare(probe_address_result& a, const std::optional<std::string>& expected)
{
    if (a.sha256_hex.empty()) {
        return; // no handshake, nothing served
    }
    a.matches = !expected || *expected == a.sha256_hex;
    if (!a.matches) {
        const auto text = "serves SHA-256 " + a.sha256_hex + ", expected " + *expected;
        a.error = a.error.empty() ? text : text + "; " + a.error;
        a.failure = errc::probe_mismatch;
    }
}

std::string success_summary(const probe_result& r, const probe_request& request)
{
    std::vector<const probe_address_result*> answered;
    std::vector<std::string> silent;
    for (const auto& a : r.addresses) {
        if (a.failure) {
            silent.push_back(a.address);
        } else {
            answered.push_back(&a);
        }
    }
    const auto& first = *answered.front();
    const bool same = std::all_of(answered.begin(), answered.end(), [&](const auto* a) {
        return a->sha256_hex == first.sha256_hex;
    });
    auto text = endpoint_text(r.host, r.port);
    if (same) {
        text += " serves " + (first.subject.empty() ? "a certificate without CN" : first.subject) +
                " (SHA-256 " + first.sha256_hex + ") on " + plural(answered.size(), "address") +
                (r.expected_sha256 ? ", as expected" : "");
    } else {
        text += " serves different certificates on its " + plural(answered.size(), "address");
    }
    if (request.sstp) {
        text += "; SSTP answers 200";
    }
    if (!silent.empty()) {
        std::string list;
        for (const auto& s : silent) {
            list += (list.empty() ? "" : ", ") + s;
        }
        text += "; no answer from " + list;
    }
    return text;
}

std::string failure_summary(const probe_result& r)
{
    const auto where = endpoint_text(r.host, r.port);
    const bool any_answered =
        std::any_of(r.addresses.begin(), r.addresses.end(), [](const auto& a) {
            return a.failure != errc::probe_connect_failed;
        });
    if (r.addresses.empty()) {
        return where + ": no address to probe";
    }
    if (!any_answered) {
        return "no answer from " + where + ": " + r.addresses.front().error;
    }
    std::size_t failed = 0;
    const probe_address_result* first = nullptr;
    for (const auto& a : r.addresses) {
        if (a.failure && a.failure != errc::probe_connect_failed) {
            ++failed;
            first = first != nullptr ? first : &a;
        }
    }
    auto text = where + " on " + first->address + ": " + first->error;
    if (failed > 1) {
        text += " (and " + std::to_string(failed - 1) + " more failing)";
    }
    return text;
}

} // namespace

std::optional<std::string> normalize_sha256(std::string_view text)
{
    std::string hex;
    for (const char c : text) {
        if (c == ':' || c == ' ') {
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return std::nullopt;
        }
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (hex.size() != 64) {
        return std::nullopt;
    }
    return hex;
}

probe_result judge(const probe_request& request, std::vector<probe_address_result> addresses)
{
    probe_result r;
    r.host = request.host;
    r.port = request.port;
    r.sni = request.sni;
    if (request.expect_sha256) {
        // A malformed expectation matches nothing rather than everything.
        r.expected_sha256 =
            normalize_sha256(*request.expect_sha256).value_or(*request.expect_sha256);
    }
    r.addresses = std::move(addresses);
    bool any_answered = false;
    bool all_good = true;
    for (auto& a : r.addresses) {
        compare(a, r.expected_sha256);
        if (a.failure != errc::probe_connect_failed) {
            any_answered = true;
            all_good = all_good && !a.failure;
        }
    }
    r.ok = any_answered && all_good;
    r.summary = r.ok ? success_summary(r, request) : failure_summary(r);
    return r;
}

// MS-SSTP 2.2.2 and 3.2.5.1: the method, the well-known URI, HTTP/1.1, a Content-Length of
// ULONGLONG_MAX (the connection then carries SSTP both ways), the host and a correlation id. No
// body follows the head.
std::string sstp_duplex_post(std::string_view host, std::string_view correlation_id)
{
    std::string request =
        "SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\n";
    request += "Host: " + std::string(host) + "\r\n";
    request += "SSTPCORRELATIONID: " + std::string(correlation_id) + "\r\n";
    request += "Content-Length: 18446744073709551615\r\n\r\n";
    return request;
}

// "HTTP/1.1 200\r\n" (SSTP servers send no reason phrase) or "HTTP/1.1 404 Not Found\r\n".
std::optional<int> http_status_of(std::string_view head) noexcept
{
    constexpr std::string_view prefix = "HTTP/1.";
    if (head.size() < prefix.size() + 5 || head.substr(0, prefix.size()) != prefix ||
        (head[7] != '0' && head[7] != '1') || head[8] != ' ') {
        return std::nullopt;
    }
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (head[i] < '0' || head[i] > '9') {
            return std::nullopt;
        }
        status = status * 10 + (head[i] - '0');
    }
    if (head.size() > 12 && head[12] != ' ' && head[12] != '\r') {
        return std::nullopt; // a fourth digit or garbage
    }
    return status < 100 ? std::nullopt : std::optional<int>{status};
}

nlohmann::json to_json(const probe_result& result)
{
    const auto text_or_null = [](const std::string& s) {
        return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
    };
    auto addresses = nlohmann::json::array();
    for (const auto& a : result.addresses) {
        addresses.push_back({
            {"address", a.address},
            {"ok", !a.failure},
            {"error", text_or_null(a.error)},
            {"failure", a.failure ? nlohmann::json(failure_name(a.failure)) : nullptr},
            {"subject", text_or_null(a.subject)},
            {"issuer", text_or_null(a.issuer)},
            {"names", a.names},
            {"not_after", text_or_null(a.not_after)},
            {"sha256", text_or_null(a.sha256_hex)},
            {"matches", a.matches},
            {"sstp_status", a.sstp_status ? nlohmann::json(*a.sstp_status) : nullptr},
        });
    }
    return {
        {"host", result.host},
        {"port", result.port},
        {"sni", text_or_null(result.sni)},
        {"expected_sha256",
         result.expected_sha256 ? nlohmann::json(*result.expected_sha256) : nullptr},
        {"ok", result.ok},
        {"summary", result.summary},
        {"addresses", std::move(addresses)},
    };
}

} // namespace certfleet::deploy
