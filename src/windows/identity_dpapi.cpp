// identity_seal.hpp on Windows: DPAPI, machine scope, so that the service (LocalSystem) and an
// administrator's `certfleet-agent status` both read it, and a copy of the file taken to another
// machine does not. Stored as {"format":"dpapi-machine","data":"<base64>"}.
#include <windows.h>
// after windows.h
#include <dpapi.h>

#include <nlohmann/json.hpp>

#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"
#include "deploy/identity_seal.hpp"

namespace certfleet::deploy {
namespace {

constexpr std::string_view format = "dpapi-machine";

DATA_BLOB blob_of(std::string_view bytes)
{
    // DPAPI reads its input without modifying it.
    return {
        static_cast<DWORD>(bytes.size()), reinterpret_cast<BYTE*>(const_cast<char*>(bytes.data()))};
}

} // namespace

boost::system::result<core::secret> seal_identity(std::string_view plain)
{
    DATA_BLOB in = blob_of(plain);
    DATA_BLOB out{};
    if (!CryptProtectData(
            &in, L"certfleet-agent identity", nullptr, nullptr, nullptr,
            CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &out
        )) {
        return errc::crypto_failure;
    }
    const std::string sealed(reinterpret_cast<const char*>(out.pbData), out.cbData);
    LocalFree(out.pbData);
    const nlohmann::json j{{"format", format}, {"data", core::base64_encode(sealed)}};
    return core::secret{j.dump() + "\n"};
}

boost::system::result<core::secret> open_identity(std::string_view stored)
{
    const auto j = nlohmann::json::parse(stored, nullptr, false);
    if (!j.is_object() || j.value("format", "") != format || !j.contains("data") ||
        !j["data"].is_string()) {
        return errc::state_corrupt;
    }
    const auto sealed = core::base64_decode(j["data"].get<std::string>());
    if (!sealed) {
        return errc::state_corrupt;
    }
    DATA_BLOB in = blob_of(*sealed);
    DATA_BLOB out{};
    if (!CryptUnprotectData(
            &in, nullptr, nullptr, nullptr, nullptr, CRYPTPROTECT_UI_FORBIDDEN, &out
        )) {
        return errc::state_corrupt;
    }
    core::secret plain{std::string_view{reinterpret_cast<const char*>(out.pbData), out.cbData}};
    SecureZeroMemory(out.pbData, out.cbData);
    LocalFree(out.pbData);
    return plain;
}

} // namespace certfleet::deploy
