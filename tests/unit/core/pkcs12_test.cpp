#include "core/crypto/pkcs12.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/self_signed.hpp"
#include "core/errc.hpp"

using namespace certfleet::core;

namespace {

constexpr std::string_view password = "s3cret-Pw";

struct command_result
{
    int status = -1;
    std::string output; // stdout and stderr
};

command_result run(const std::string& command)
{
    command_result result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buffer{};
    while (const auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
        result.output.append(buffer.data(), n);
    }
    const int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

// A directory of its own under the temp dir, removed at the end of the test.
class temp_dir
{
public:
    temp_dir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "pkcs12-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] std::string write(const std::string& name, std::string_view bytes) const
    {
        const auto file = (path_ / name).string();
        std::ofstream out(file, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        REQUIRE(out.good());
        return file;
    }
    [[nodiscard]] std::string path(const std::string& name) const
    {
        return (path_ / name).string();
    }

private:
    std::filesystem::path path_;
};

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string without_newlines(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        if (c != '\n' && c != '\r') {
            out.push_back(c);
        }
    }
    return out;
}

// The base64 body of the first PEM block, without line breaks.
std::string pem_body(std::string_view pem)
{
    const auto begin = pem.find('\n') + 1;
    return without_newlines(pem.substr(begin, pem.find("-----END") - begin));
}

// True when the PEM file at `path` holds the certificate `pem`.
bool holds_certificate(const std::string& path, std::string_view pem)
{
    return without_newlines(read_file(path)).find(pem_body(pem)) != std::string::npos;
}

struct fixture
{
    private_key key = private_key::generate(key_type::rsa_2048).value();
    std::string cert =
        make_self_signed_certificate(
            key, {.common_name = "vpn.example.test", .dns_names = {"vpn.example.test"}}
        ).value();
};

// `openssl pkcs12 -info` prints the algorithms on stderr; -nokeys writes the certificates to
// `certs` so we can see the leaf came out whole.
command_result info(const temp_dir& dir, const std::string& pfx, std::string_view pass, bool legacy)
{
    return run(
        std::string{"openssl pkcs12 "} + (legacy ? "-legacy " : "") +
        "-info -nokeys -passin pass:" + std::string{pass} + " -in " + pfx + " -out " +
        dir.path("certs.pem")
    );
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("the default PFX is TripleDES-SHA1 with a SHA-1 MAC and opens with openssl -legacy")
    {
        const fixture f;
        const temp_dir dir;
        const auto pfx = make_pkcs12(f.key, f.cert, password, "vpn").value();
        const auto file = dir.write("legacy.pfx", pfx);
        const auto r = info(dir, file, password, true);
        INFO(r.output);
        REQUIRE(r.status == 0);
        CHECK(r.output.find("MAC: sha1,") != std::string::npos);
        CHECK(
            r.output.find("PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC") !=
            std::string::npos
        );
        CHECK(
            r.output.find("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos
        );
        CHECK(r.output.find("AES") == std::string::npos);
        CHECK(holds_certificate(dir.path("certs.pem"), f.cert));
        // The explicit option gives the same protection.
        const auto explicit_legacy =
            make_pkcs12(f.key, f.cert, password, "vpn", {.protection = pkcs12_protection::legacy})
                .value();
        const auto r2 = info(dir, dir.write("legacy2.pfx", explicit_legacy), password, true);
        CHECK(r2.status == 0);
        CHECK(
            r2.output.find("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos
        );
    }

    TEST_CASE("the AES PFX is PBES2 PBKDF2 AES-256-CBC with a SHA-256 MAC and opens without -legacy"
    )
    {
        const fixture f;
        const temp_dir dir;
        const auto pfx =
            make_pkcs12(f.key, f.cert, password, "vpn", {.protection = pkcs12_protection::aes})
                .value();
        const auto file = dir.write("aes.pfx", pfx);
        const auto r = info(dir, file, password, false);
        INFO(r.output);
        REQUIRE(r.status == 0);
        CHECK(r.output.find("MAC: sha256,") != std::string::npos);
        const std::string pbes2 = "PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256";
        CHECK(r.output.find("PKCS7 Encrypted data: " + pbes2) != std::string::npos);
        CHECK(r.output.find("Shrouded Keybag: " + pbes2) != std::string::npos);
        CHECK(r.output.find("TripleDES") == std::string::npos);
        CHECK(holds_certificate(dir.path("certs.pem"), f.cert));
    }

    TEST_CASE("a PFX does not open with another password")
    {
        const fixture f;
        const temp_dir dir;
        for (const auto protection : {pkcs12_protection::legacy, pkcs12_protection::aes}) {
            const auto pfx =
                make_pkcs12(f.key, f.cert, password, "vpn", {.protection = protection}).value();
            const auto r = info(dir, dir.write("p.pfx", pfx), "wrong-pw", true);
            CHECK(r.status != 0);
            CHECK(r.output.find("Mac verify error") != std::string::npos);
        }
    }

    TEST_CASE("a PFX is refused for a certificate of another key")
    {
        const fixture f;
        const auto other = private_key::generate(key_type::ec_p256).value();
        CHECK(make_pkcs12(other, f.cert, password, "vpn").error() == errc::invalid_certificate);
        CHECK(make_pkcs12(f.key, "", password, "vpn").error() == errc::invalid_certificate);
    }
}
