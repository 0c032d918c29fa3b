#pragma once
// A real nginx on 127.0.0.1 for the deploy tests: in the foreground (daemon off), stopped by its
// PID, with its own prefix, configuration, logs and PID file in a test directory, serving HTTPS
// from <tls>/fullchain.pem and <tls>/key.pem (the names the files target gives them under "dir").

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/rig.hpp"

namespace certfleet::test {

// The SHA-256 (lower-case hex) of the leaf that 127.0.0.1:port serves for `sni`, through the
// openssl command line; empty when no certificate came.
[[nodiscard]] std::string served_sha256(std::uint16_t port, const std::string& sni);

// argv as one line for /bin/sh, every word in single quotes.
[[nodiscard]] std::string shell_line(const std::vector<std::string>& argv);

// A self-signed P-256 certificate and its key as <tls>/fullchain.pem and <tls>/key.pem (openssl
// req), for an nginx that must start before anything was deployed.
void write_placeholder_certificate(const std::filesystem::path& tls);

class nginx_server
{
public:
    // Writes the configuration (dir/nginx.conf) on a free port; start() starts it. `sni`: the
    // name serves() asks for (the one server block answers every name).
    nginx_server(
        const std::filesystem::path& dir,
        const std::filesystem::path& tls,
        std::string sni = "localhost"
    );

    // Starts nginx and waits until it listens; throws rig_error with its logs when it does not.
    void start();

    // The nginx command line for this instance, with `extra` arguments ("-t", "-s reload").
    [[nodiscard]] std::vector<std::string> command_with(std::vector<std::string> extra) const;
    // "nginx -t && nginx -s reload", as a shell line: a reload that refuses a broken set.
    [[nodiscard]] std::string test_and_reload() const;

    // Waits until nginx serves `sha256` (a reload finishes its old workers first).
    [[nodiscard]] bool serves(
        const std::string& sha256,
        std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000)
    ) const;
    // What it serves now (served_sha256 for its SNI).
    [[nodiscard]] std::string serving() const;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] const std::string& sni() const noexcept { return sni_; }
    [[nodiscard]] std::string error_log() const;

private:
    std::filesystem::path dir_;
    std::uint16_t port_;
    std::string program_;
    std::string sni_;
    std::optional<child_process> process_; // stopped by its PID when the test ends
};

} // namespace certfleet::test
