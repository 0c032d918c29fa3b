#pragma once
// What the deploy target tests (unit and integration) share: bundles made of real certificates (a
// leaf signed by its own key plus a second certificate standing in for the intermediate), a scratch
// directory, file readers.

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <random>
#include <sstream>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/self_signed.hpp"
#include "deploy/bundle.hpp"

namespace certfleet::deploy::testing {

struct scratch_dir
{
    scratch_dir()
    {
        std::random_device random;
        path = std::filesystem::temp_directory_path() /
               ("certfleet-target-" + std::to_string(random()));
        std::filesystem::create_directories(path);
    }
    ~scratch_dir() { std::filesystem::remove_all(path); }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    std::filesystem::path path;
};

inline std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::filesystem::path& p, std::string_view content, mode_t mode)
{
    std::ofstream(p, std::ios::binary) << content;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

inline struct stat stat_of(const std::filesystem::path& p)
{
    struct stat st
    {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st;
}

inline mode_t mode_of(const std::filesystem::path& p)
{
    return stat_of(p).st_mode & 07777;
}

inline std::string self_signed_pem(const core::private_key& key, const std::string& name)
{
    auto pem = core::make_self_signed_certificate(key, {.common_name = name, .dns_names = {name}});
    REQUIRE(pem.has_value());
    return *pem;
}

// A bundle for `name`: leaf plus one more certificate as its chain, key, PFX and hashes.
inline bundle make_bundle(
    const std::string& name,
    std::string target,
    nlohmann::json options,
    std::string pfx_password = "pfx pass 1"
)
{
    auto key = core::private_key::generate(core::key_type::ec_p256);
    auto ca_key = core::private_key::generate(core::key_type::ec_p256);
    REQUIRE(key.has_value());
    REQUIRE(ca_key.has_value());
    const auto leaf = self_signed_pem(*key, name);
    const auto intermediate = self_signed_pem(*ca_key, "intermediate.certfleet.test");
    auto info = core::parse_pem_chain(leaf);
    REQUIRE(info.has_value());
    auto pfx = core::make_pkcs12(*key, leaf, pfx_password, name);
    REQUIRE(pfx.has_value());
    bundle b;
    b.agent = "agent-1";
    b.assignment = 7;
    b.certificate = 11;
    b.version = 42;
    b.target = std::move(target);
    b.target_options = std::move(options);
    b.names = {name, "www." + name};
    b.chain_pem = leaf + intermediate;
    b.sha1_hex = core::to_hex(info->front().sha1_fingerprint);
    b.sha256_hex = core::to_hex(info->front().sha256_fingerprint);
    b.serial_hex = core::to_hex(info->front().serial);
    b.not_before = info->front().not_before;
    b.not_after = info->front().not_after;
    b.pfx = *pfx;
    b.key_pem = core::secret::adopt(key->to_pem());
    b.pfx_password = core::secret(pfx_password);
    return b;
}

} // namespace certfleet::deploy::testing
