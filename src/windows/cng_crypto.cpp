#include "windows/cng_crypto.hpp"

// clang-format off
#include <windows.h>
#include <bcrypt.h>
// clang-format on

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "deploy/errc.hpp"
#include "deploy/p256_scalar_mult.hpp"

namespace certfleet::deploy {
namespace {

bool ok(NTSTATUS status) noexcept
{
    return status >= 0;
}

// NTSTATUS of a GCM tag that does not verify.
constexpr NTSTATUS auth_tag_mismatch = static_cast<NTSTATUS>(0xC000A002L);

PUCHAR in(std::string_view s) noexcept
{
    // CNG's input parameters are not const-qualified but are only read.
    return reinterpret_cast<PUCHAR>(const_cast<char*>(s.data()));
}

ULONG ulen(std::string_view s) noexcept
{
    return static_cast<ULONG>(s.size());
}

BCRYPT_ALG_HANDLE open(const wchar_t* algorithm, ULONG flags = 0)
{
    BCRYPT_ALG_HANDLE handle = nullptr;
    if (!ok(BCryptOpenAlgorithmProvider(&handle, algorithm, nullptr, flags))) {
        throw std::runtime_error("this Windows has no CNG provider for a needed algorithm");
    }
    return handle;
}

struct key_handle
{
    BCRYPT_KEY_HANDLE h = nullptr;
    key_handle() = default;
    key_handle(const key_handle&) = delete;
    key_handle& operator=(const key_handle&) = delete;
    ~key_handle()
    {
        if (h != nullptr) {
            BCryptDestroyKey(h);
        }
    }
};

// BCRYPT_ECCKEY_BLOB followed by X || Y (public) or X || Y || d (private). The blob holds the
// scalar: wiped by core::secret.
core::secret ecc_blob(ULONG magic, std::string_view point, std::string_view scalar = {})
{
    BCRYPT_ECCKEY_BLOB header{magic, 32};
    auto blob = core::secret::with_size(sizeof header + 64 + scalar.size());
    std::memcpy(blob.data(), &header, sizeof header);
    std::memcpy(blob.data() + sizeof header, point.data() + 1, 64);
    if (!scalar.empty()) {
        std::memcpy(blob.data() + sizeof header + 64, scalar.data(), scalar.size());
    }
    return blob;
}

bool import_public(BCRYPT_ALG_HANDLE alg, ULONG magic, std::string_view point, key_handle& key)
{
    if (point.size() != 65 || point[0] != '\x04') {
        return false;
    }
    const auto blob = ecc_blob(magic, point);
    return ok(BCryptImportKeyPair(
        alg, nullptr, BCRYPT_ECCPUBLIC_BLOB, &key.h, in(blob.view()), ulen(blob.view()), 0
    ));
}

bool import_private(BCRYPT_ALG_HANDLE alg, ULONG magic, std::string_view scalar, key_handle& key)
{
    const auto point = p256_base_mult(scalar);
    if (!point) {
        return false;
    }
    const auto blob = ecc_blob(magic, *point, scalar);
    return ok(BCryptImportKeyPair(
        alg, nullptr, BCRYPT_ECCPRIVATE_BLOB, &key.h, in(blob.view()), ulen(blob.view()), 0
    ));
}

std::string digest(BCRYPT_ALG_HANDLE alg, std::string_view key, std::string_view data)
{
    BCRYPT_HASH_HANDLE hash = nullptr;
    ULONG length = 0;
    ULONG written = 0;
    std::string out;
    if (ok(BCryptGetProperty(
            alg, BCRYPT_HASH_LENGTH, reinterpret_cast<PUCHAR>(&length), sizeof length, &written, 0
        )) &&
        ok(BCryptCreateHash(alg, &hash, nullptr, 0, in(key), ulen(key), 0))) {
        out.resize(length);
        if (!ok(BCryptHashData(hash, in(data), ulen(data), 0)) ||
            !ok(BCryptFinishHash(hash, reinterpret_cast<PUCHAR>(out.data()), length, 0))) {
            out.clear();
        }
        BCryptDestroyHash(hash);
    }
    // The port's hashes cannot fail; a CNG that cannot hash is not a working Windows.
    if (out.empty()) {
        throw std::runtime_error("CNG failed to compute a hash");
    }
    return out;
}

} // namespace

struct cng_crypto::providers
{
    BCRYPT_ALG_HANDLE ecdsa = open(BCRYPT_ECDSA_P256_ALGORITHM);
    BCRYPT_ALG_HANDLE ecdh = open(BCRYPT_ECDH_P256_ALGORITHM);
    BCRYPT_ALG_HANDLE sha256 = open(BCRYPT_SHA256_ALGORITHM);
    BCRYPT_ALG_HANDLE sha1 = open(BCRYPT_SHA1_ALGORITHM);
    BCRYPT_ALG_HANDLE hmac = open(BCRYPT_SHA256_ALGORITHM, BCRYPT_ALG_HANDLE_HMAC_FLAG);
    BCRYPT_ALG_HANDLE aes = [] {
        auto* handle = open(BCRYPT_AES_ALGORITHM);
        const std::wstring_view mode = BCRYPT_CHAIN_MODE_GCM;
        if (!ok(BCryptSetProperty(
                handle, BCRYPT_CHAINING_MODE,
                reinterpret_cast<PUCHAR>(const_cast<wchar_t*>(mode.data())),
                static_cast<ULONG>((mode.size() + 1) * sizeof(wchar_t)), 0
            ))) {
            throw std::runtime_error("this Windows has no AES-GCM in CNG");
        }
        return handle;
    }();

    ~providers()
    {
        for (auto* h : {ecdsa, ecdh, sha256, sha1, hmac, aes}) {
            BCryptCloseAlgorithmProvider(h, 0);
        }
    }
};

cng_crypto::cng_crypto() : alg_{std::make_unique<providers>()} {}

cng_crypto::~cng_crypto() = default;

boost::system::result<p256_key_pair> cng_crypto::generate_p256() const
{
    // A random scalar below the order (rejection sampling: the first draw almost always fits).
    for (int attempt = 0; attempt < 64; ++attempt) {
        auto scalar = random_bytes(32);
        if (!scalar) {
            return scalar.error();
        }
        auto key = core::secret::adopt(std::move(*scalar));
        if (auto point = p256_base_mult(key.view())) {
            return p256_key_pair{std::move(key), std::move(*point)};
        }
    }
    return errc::crypto_failure;
}

boost::system::result<p256_key_pair> cng_crypto::p256_from_scalar(std::string_view scalar) const
{
    auto point = p256_base_mult(scalar);
    if (!point) {
        return errc::crypto_failure;
    }
    return p256_key_pair{core::secret{scalar}, std::move(*point)};
}

boost::system::result<core::secret>
cng_crypto::ecdh_p256(std::string_view private_scalar, std::string_view peer_public_point) const
{
    key_handle mine;
    key_handle peer;
    if (!import_private(alg_->ecdh, BCRYPT_ECDH_PRIVATE_P256_MAGIC, private_scalar, mine) ||
        !import_public(alg_->ecdh, BCRYPT_ECDH_PUBLIC_P256_MAGIC, peer_public_point, peer)) {
        return errc::crypto_failure;
    }
    BCRYPT_SECRET_HANDLE agreed = nullptr;
    if (!ok(BCryptSecretAgreement(mine.h, peer.h, &agreed, 0))) {
        return errc::crypto_failure;
    }
    auto shared = core::secret::with_size(32);
    ULONG written = 0;
    const auto status = BCryptDeriveKey(
        agreed, BCRYPT_KDF_RAW_SECRET, nullptr, reinterpret_cast<PUCHAR>(shared.data()), 32,
        &written, 0
    );
    BCryptDestroySecret(agreed);
    if (ok(status) && written == 32) {
        // CNG returns the raw secret little-endian; SEC 1 (and HPKE) use the big-endian X.
        std::reverse(shared.data(), shared.data() + 32);
        return shared;
    }
    // Wine's bcrypt (GnuTLS before 3.8) cannot derive the raw secret: the same X, computed here.
    auto x = p256_ecdh_x(private_scalar, peer_public_point);
    if (!x) {
        return errc::crypto_failure;
    }
    return core::secret::adopt(std::move(*x));
}

boost::system::result<std::string>
cng_crypto::sign_es256(std::string_view private_scalar, std::string_view message) const
{
    key_handle key;
    if (!import_private(alg_->ecdsa, BCRYPT_ECDSA_PRIVATE_P256_MAGIC, private_scalar, key)) {
        return errc::crypto_failure;
    }
    const auto hash = sha256(message);
    std::string signature(64, '\0');
    ULONG written = 0;
    if (!ok(BCryptSignHash(
            key.h, nullptr, in(hash), ulen(hash), reinterpret_cast<PUCHAR>(signature.data()), 64,
            &written, 0
        )) ||
        written != 64) {
        return errc::crypto_failure;
    }
    return signature;
}

bool cng_crypto::verify_es256(
    std::string_view public_point, std::string_view message, std::string_view signature
) const
{
    key_handle key;
    if (signature.size() != 64 ||
        !import_public(alg_->ecdsa, BCRYPT_ECDSA_PUBLIC_P256_MAGIC, public_point, key)) {
        return false;
    }
    const auto hash = sha256(message);
    return ok(BCryptVerifySignature(
        key.h, nullptr, in(hash), ulen(hash), in(signature), ulen(signature), 0
    ));
}

std::string cng_crypto::sha256(std::string_view data) const
{
    return digest(alg_->sha256, {}, data);
}

std::string cng_crypto::sha1(std::string_view data) const
{
    return digest(alg_->sha1, {}, data);
}

std::string cng_crypto::hmac_sha256(std::string_view key, std::string_view data) const
{
    return digest(alg_->hmac, key, data);
}

namespace {

struct gcm_call
{
    key_handle key;
    BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO info{};
};

bool prepare_gcm(
    BCRYPT_ALG_HANDLE aes,
    std::string_view key,
    std::string_view nonce,
    std::string_view aad,
    char* tag,
    gcm_call& call
)
{
    if ((key.size() != 16 && key.size() != 32) || nonce.size() != 12 ||
        !ok(BCryptGenerateSymmetricKey(aes, &call.key.h, nullptr, 0, in(key), ulen(key), 0))) {
        return false;
    }
    BCRYPT_INIT_AUTH_MODE_INFO(call.info);
    call.info.pbNonce = in(nonce);
    call.info.cbNonce = ulen(nonce);
    call.info.pbAuthData = aad.empty() ? nullptr : in(aad);
    call.info.cbAuthData = ulen(aad);
    call.info.pbTag = reinterpret_cast<PUCHAR>(tag);
    call.info.cbTag = 16;
    return true;
}

} // namespace

boost::system::result<std::string> cng_crypto::aes_gcm_seal(
    std::string_view key, std::string_view nonce, std::string_view aad, std::string_view plaintext
) const
{
    std::string out(plaintext.size() + 16, '\0');
    gcm_call call;
    if (!prepare_gcm(alg_->aes, key, nonce, aad, out.data() + plaintext.size(), call)) {
        return errc::crypto_failure;
    }
    ULONG written = 0;
    if (!ok(BCryptEncrypt(
            call.key.h, plaintext.empty() ? nullptr : in(plaintext), ulen(plaintext), &call.info,
            nullptr, 0, reinterpret_cast<PUCHAR>(out.data()), ulen(plaintext), &written, 0
        )) ||
        written != plaintext.size()) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<core::secret> cng_crypto::aes_gcm_open(
    std::string_view key, std::string_view nonce, std::string_view aad, std::string_view sealed
) const
{
    if (sealed.size() < 16) {
        return errc::unseal_failed;
    }
    const auto body = sealed.substr(0, sealed.size() - 16);
    std::string tag(sealed.substr(body.size()));
    auto out = core::secret::with_size(body.size());
    gcm_call call;
    if (!prepare_gcm(alg_->aes, key, nonce, aad, tag.data(), call)) {
        return errc::crypto_failure;
    }
    ULONG written = 0;
    const auto status = BCryptDecrypt(
        call.key.h, body.empty() ? nullptr : in(body), ulen(body), &call.info, nullptr, 0,
        reinterpret_cast<PUCHAR>(out.data()), ulen(body), &written, 0
    );
    if (status == auth_tag_mismatch || (ok(status) && written != body.size())) {
        return errc::unseal_failed;
    }
    if (!ok(status)) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<std::string> cng_crypto::random_bytes(std::size_t count) const
{
    std::string out(count, '\0');
    if (count > 0 && !ok(BCryptGenRandom(
                         nullptr, reinterpret_cast<PUCHAR>(out.data()), static_cast<ULONG>(count),
                         BCRYPT_USE_SYSTEM_PREFERRED_RNG
                     ))) {
        return errc::crypto_failure;
    }
    return out;
}

} // namespace certfleet::deploy
