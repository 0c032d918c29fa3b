#pragma once
// A SQLite store in a fresh temporary directory, and certificates put into it as the issuer
// leaves them (an order, then versions stored with add_version, then the state), for tests that
// read a real store.

#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/store.hpp"

namespace certfleet::test {

// Removed with everything in it when the object goes away.
struct temp_database
{
    temp_database()
    {
        std::random_device random;
        dir = std::filesystem::temp_directory_path() /
              ("certfleet-store-" + std::to_string(random()) + std::to_string(random()));
        std::filesystem::create_directories(dir);
    }
    ~temp_database() { std::filesystem::remove_all(dir); }
    temp_database(const temp_database&) = delete;
    temp_database& operator=(const temp_database&) = delete;
    [[nodiscard]] std::filesystem::path file() const { return dir / "certfleet.db"; }
    std::filesystem::path dir;
};

struct stored_certificate
{
    std::vector<std::string> names;
    core::certificate_state state = core::certificate_state::pending;
    std::vector<core::time_point> not_after; // one version each, oldest first
    std::string ca = "default";
    bool alert = false;
};

// Adds the certificate with its versions (each through an order) and leaves it in `c.state`.
inline core::row_id
store_certificate(core::store& store, const stored_certificate& c, core::time_point now)
{
    core::certificate_spec spec;
    spec.names = c.names;
    spec.ca = c.ca;
    const auto id = store.add_certificate(spec, now).value();
    auto cert = store.get_certificate(id).value();
    for (std::size_t i = 0; i < c.not_after.size(); ++i) {
        core::order_record o;
        o.certificate_id = id;
        o.created_at = o.updated_at = now;
        o.id = store.create_order(o).value();
        core::certificate_version v;
        v.certificate_id = id;
        v.chain_pem = "PEM";
        v.key_sealed = "sealed";
        v.serial_hex = std::to_string(id) + "0" + std::to_string(i);
        v.sha256_hex = "ab";
        v.not_before = c.not_after[i] - std::chrono::hours(24 * 90);
        v.not_after = c.not_after[i];
        cert.state = core::certificate_state::valid;
        REQUIRE(store.add_version(v, o.id, cert, now).has_value());
    }
    cert.state = c.state;
    cert.alert = c.alert;
    REQUIRE(store.update_certificate(cert).has_value());
    return id;
}

} // namespace certfleet::test
