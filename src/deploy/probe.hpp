#pragma once
// The verification probe (DESIGN section 6): a TLS handshake to an endpoint reports the leaf it
// serves and compares it with the one deployed; with `sstp`, it also sends the MS-SSTP
// SSTP_DUPLEX_POST request (MS-SSTP 2.2.2, 3.2.5.1) and requires "HTTP/1.1 200", so that "TLS
// fine, SSTP dead" is told apart from a working VPN listener.
//
// The host is resolved and every address (IPv4 and IPv6) is probed; the probe is ok when every
// address that answered serves the expected certificate (and SSTP), and at least one answered.

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::deploy {

struct probe_request
{
    std::string host; // name or address literal
    std::uint16_t port = 443;
    std::string sni;                          // empty: the host, unless it is an address
    std::optional<std::string> expect_sha256; // lower-case hex of the leaf's DER SHA-256
    bool sstp = false;
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
};

struct probe_address_result
{
    std::string address; // "127.0.0.1", "::1"
    std::string error;   // empty when the handshake (and SSTP) worked
    // Why it failed: probe_connect_failed (no answer at all), probe_tls_failed, probe_mismatch,
    // sstp_refused; empty when it worked.
    boost::system::error_code failure;
    std::string subject; // the served leaf's subject commonName
    std::string issuer;  // its issuer's commonName
    std::vector<std::string> names;
    std::string not_after; // RFC 3339
    std::string sha256_hex;
    bool matches = false;           // expect_sha256 given and equal (or not given)
    std::optional<int> sstp_status; // the HTTP status SSTP_DUPLEX_POST got
};

struct probe_result
{
    std::string host; // as requested
    std::uint16_t port = 443;
    std::string sni;                            // sent, empty when none
    std::optional<std::string> expected_sha256; // normalised: lower-case hex, no colons
    bool ok = false;
    std::string summary; // one line for humans: what was served, what was expected
    std::vector<probe_address_result> addresses;
};

// Runs the probe (blocking; Asio and OpenSSL on Linux).
[[nodiscard]] probe_result run_probe(const probe_request& request);

[[nodiscard]] nlohmann::json to_json(const probe_result& result);

// Pure parts, for tests and other transports.
// The verdict over what each address gave (address, error and failure for connect, TLS and SSTP
// failures, the leaf's fields, sstp_status): sets `matches` (and probe_mismatch when the leaf is
// not the expected one), ok as the header says, and the summary. Takes host, port, sni and the
// expected hash from `request`.
[[nodiscard]] probe_result
judge(const probe_request& request, std::vector<probe_address_result> addresses);
// Lower-case hex without ':' or spaces; nullopt unless that leaves 64 hex digits.
[[nodiscard]] std::optional<std::string> normalize_sha256(std::string_view text);
// The request bytes of SSTP_DUPLEX_POST for `host` with a correlation id ("{GUID}").
[[nodiscard]] std::string sstp_duplex_post(std::string_view host, std::string_view correlation_id);
// The status of an HTTP/1.1 status line ("HTTP/1.1 200 OK\r\n..."), if it is one.
[[nodiscard]] std::optional<int> http_status_of(std::string_view response_head) noexcept;

} // namespace certfleet::deploy
