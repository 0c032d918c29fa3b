// certfleet probe HOST[:PORT]: which certificate an endpoint serves on each of its addresses,
// compared with the one expected, and for RRAS whether SSTP answers (DESIGN section 6).
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>

#include "app/commands.hpp"
#include "deploy/errc.hpp"
#include "deploy/probe.hpp"

namespace certfleet::app {
namespace {

struct probe_options
{
    std::string target;
    std::string sni;
    std::string expect_sha256;
    bool sstp = false;
    bool json = false;
    double timeout_seconds = 10;
};

struct host_port
{
    std::string host;
    std::uint16_t port = 443;
};

std::optional<std::uint16_t> port_of(std::string_view text)
{
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || at != end || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// "host", "host:8443", "192.0.2.1:443", "[2001:db8::1]:443", "[::1]", or a bare IPv6 literal.
std::optional<host_port> parse_target(std::string_view text)
{
    host_port target;
    std::string_view rest;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        target.host = std::string(text.substr(1, close - 1));
        rest = text.substr(close + 1);
    } else if (const auto colon = text.find(':');
               colon == std::string_view::npos ||
               text.find(':', colon + 1) != std::string_view::npos) {
        target.host = std::string(text); // a name, or an IPv6 literal without a port
    } else {
        target.host = std::string(text.substr(0, colon));
        rest = text.substr(colon);
    }
    if (!rest.empty()) {
        const auto port = rest.starts_with(':') ? port_of(rest.substr(1)) : std::nullopt;
        if (!port) {
            return std::nullopt;
        }
        target.port = *port;
    }
    if (target.host.empty()) {
        return std::nullopt;
    }
    return target;
}

// What to do about the first failure, for people.
std::string advice(const deploy::probe_result& r)
{
    using deploy::errc;
    const deploy::probe_address_result* first = nullptr;
    for (const auto& a : r.addresses) {
        if (a.failure && (first == nullptr || first->failure == errc::probe_connect_failed)) {
            first = &a;
        }
    }
    const auto port = std::to_string(r.port);
    if (first == nullptr) {
        return "check the host name and its DNS records (dig " + r.host + " A, AAAA).";
    }
    if (first->failure == errc::probe_connect_failed) {
        return "check that the service runs and listens on port " + port +
               " of that address, and that no firewall drops the connection.";
    }
    if (first->failure == errc::probe_tls_failed) {
        return "the port answers but TLS fails: check that a certificate is bound to it (on "
               "Windows: netsh http show sslcert ipport=0.0.0.0:" +
               port + ").";
    }
    if (first->failure == errc::probe_mismatch) {
        return "the endpoint serves another certificate than the expected one: bind the new "
               "certificate and restart the service (RRAS: SstpSvc's SHA256CertificateHash, the "
               "HTTP.SYS binding, Restart-Service SstpSvc), then probe again.";
    }
    return "TLS works but SSTP does not: check that Routing and Remote Access runs with SSTP "
           "enabled and owns port " +
           port + " (Get-Service RemoteAccess, SstpSvc; netsh http show sslcert).";
}

void print_address(const deploy::probe_address_result& a)
{
    std::cout << "  " << a.address << ": ";
    if (!a.sha256_hex.empty()) {
        std::cout << "serves CN " << (a.subject.empty() ? "(none)" : a.subject);
        if (!a.issuer.empty()) {
            std::cout << ", issued by " << a.issuer;
        }
        if (!a.names.empty()) {
            std::cout << ", names";
            for (const auto& n : a.names) {
                std::cout << ' ' << n;
            }
        }
        if (!a.not_after.empty()) {
            std::cout << ", not after " << a.not_after;
        }
        std::cout << "\n    SHA-256 " << a.sha256_hex << (a.matches ? "" : " (NOT the expected)");
        if (a.sstp_status) {
            std::cout << "\n    SSTP_DUPLEX_POST: HTTP " << *a.sstp_status;
        }
        std::cout << "\n    ";
    }
    std::cout << (a.error.empty() ? "ok" : a.error) << '\n';
}

void print_report(const deploy::probe_result& r, bool sstp)
{
    std::cout << "probe " << (r.host.find(':') != std::string::npos ? "[" + r.host + "]" : r.host)
              << ":" << r.port << " (SNI " << (r.sni.empty() ? "none" : r.sni) << ")"
              << (sstp ? " with SSTP" : "") << '\n';
    if (r.expected_sha256) {
        std::cout << "  expected SHA-256 " << *r.expected_sha256 << '\n';
    }
    for (const auto& a : r.addresses) {
        print_address(a);
    }
    std::cout << (r.ok ? "OK: " : "FAILED: ") << r.summary << '\n';
    if (!r.ok) {
        std::cout << "What to do: " << advice(r) << '\n';
    }
}

int run_probe_command(const probe_options& o)
{
    const auto target = parse_target(o.target);
    if (!target) {
        std::cerr << "certfleet probe: '" << o.target
                  << "' is not HOST, HOST:PORT or [IPv6]:PORT (port 1 to 65535).\n";
        return exit_usage;
    }
    deploy::probe_request request;
    request.host = target->host;
    request.port = target->port;
    request.sni = o.sni;
    request.sstp = o.sstp;
    if (!o.expect_sha256.empty()) {
        request.expect_sha256 = deploy::normalize_sha256(o.expect_sha256);
        if (!request.expect_sha256) {
            std::cerr << "certfleet probe: --expect-sha256 '" << o.expect_sha256
                      << "' is not 64 hex digits (colons allowed).\n";
            return exit_usage;
        }
    }
    request.timeout = std::chrono::milliseconds{std::llround(o.timeout_seconds * 1000)};
    const auto result = deploy::run_probe(request);
    if (o.json) {
        std::cout << deploy::to_json(result).dump() << '\n';
    } else {
        print_report(result, o.sstp);
    }
    return result.ok ? exit_ok : exit_failure;
}

} // namespace

void add_probe_command(CLI::App& app, command_runner& run)
{
    auto o = std::make_shared<probe_options>();
    auto* probe = app.add_subcommand(
        "probe", "TLS handshake to an endpoint: the certificate each address serves, compared "
                 "with the expected one; with --sstp, whether SSTP (RRAS) answers"
    );
    probe->add_option("target", o->target, "HOST[:PORT] (default port 443), [IPv6]:PORT")
        ->required();
    probe->add_option(
        "--sni", o->sni, "Server name to send (default: the host, unless an address)"
    );
    probe->add_option(
        "--expect-sha256", o->expect_sha256, "SHA-256 of the leaf's DER that must be served (hex)"
    );
    probe->add_flag("--sstp", o->sstp, "Also send SSTP_DUPLEX_POST and require HTTP 200");
    probe->add_flag("--json", o->json, "JSON on stdout");
    probe->add_option("--timeout", o->timeout_seconds, "Seconds for the whole probe (default 10)")
        ->check(CLI::Range(0.1, 3600.0));
    probe->footer("Exit codes: 0 every answering address serves the expected certificate (and "
                  "SSTP), 1 the probe failed, 2 usage error.");
    probe->callback([o, &run] { run = [o] { return run_probe_command(*o); }; });
}

} // namespace certfleet::app
