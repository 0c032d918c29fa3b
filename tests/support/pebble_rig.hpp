#pragma once
// Pebble, the ACME test CA (Debian package `pebble`), started on loopback for integration tests
// and benchmarks: a throw-away CA for its HTTPS listener, its JSON configuration, its
// environment knobs (DESIGN section 8), and the roots it issues under (fetched from its
// management listener; they change at every start).

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "support/rig.hpp"

namespace certfleet::test {

struct pebble_options
{
    std::string dns_server;       // "127.0.0.1:PORT": the resolver Pebble's VA asks
    int nonce_reject_percent = 0; // PEBBLE_WFE_NONCEREJECT
    int authz_reuse_percent = 0;  // PEBBLE_AUTHZREUSE
    bool eab_required = false;
    std::map<std::string, std::string> eab_keys; // kid → base64url HMAC key
    std::optional<int> chain_length;             // PEBBLE_CHAIN_LENGTH
    std::optional<int> alternate_roots;          // PEBBLE_ALTERNATE_ROOTS
};

class pebble_ca
{
public:
    pebble_ca(const temp_dir& dir, pebble_options options);
    ~pebble_ca();
    pebble_ca(const pebble_ca&) = delete;
    pebble_ca& operator=(const pebble_ca&) = delete;

    [[nodiscard]] std::string directory_url() const;
    // The PEM file that signed Pebble's HTTPS certificate: what the ACME client must trust.
    [[nodiscard]] const std::filesystem::path& https_ca_file() const noexcept { return https_ca_; }
    // The root the issued certificates chain to (index > 0: the alternate roots).
    [[nodiscard]] std::string issuance_root_pem(int index = 0) const;
    [[nodiscard]] std::string issuance_intermediate_pem(int index = 0) const;
    [[nodiscard]] child_process& process() noexcept { return *process_; }

private:
    [[nodiscard]] std::string management_get(const std::string& path) const;

    std::filesystem::path https_ca_;
    std::uint16_t port_ = 0;
    std::uint16_t management_port_ = 0;
    std::unique_ptr<child_process> process_;
};

// GET over HTTPS with certfleet's own client, trusting `ca_file`. Throws rig_error on failure.
[[nodiscard]] std::string https_get(const std::string& url, const std::filesystem::path& ca_file);

} // namespace certfleet::test
