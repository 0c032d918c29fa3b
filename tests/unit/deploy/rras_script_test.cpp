#include "deploy/rras_script.hpp"

#include <doctest/doctest.h>

namespace certfleet::deploy {
namespace {

rras_script_input ordinary()
{
    return {
        .sha1_hex = "00112233445566778899aabbccddeeff0a1b2c3d",
        .sha256_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff",
        .pfx_path = "C:\\ProgramData\\certfleet\\work\\a1\\cert.pfx",
        .friendly_name = "vpn.example.com 2026-12",
        .probe_host = "vpn.example.com"};
}

std::string rendered(const rras_script_input& in)
{
    auto s = render_rras_script(in);
    REQUIRE(s.has_value());
    return s.value();
}

TEST_SUITE("deploy")
{
    TEST_CASE("rras script: the hashes are byte-array literals of the given hex")
    {
        const auto s = rendered(ordinary());
        CHECK(
            s.find("$NewSha1 = [byte[]](0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, "
                   "0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x0a, 0x1b, 0x2c, 0x3d)\n"
            ) != std::string::npos
        );
        CHECK(s.find("$NewSha256 = [byte[]](0x00, 0x01, 0x02, ") != std::string::npos);
        CHECK(s.find(", 0x1d, 0x1e, 0xff)\n") != std::string::npos);
        CHECK(
            s.find("SetValue('SHA256CertificateHash', $NewSha256, 'Binary')") != std::string::npos
        );
        CHECK(s.find("SetValue('SHA1CertificateHash', $NewSha1, 'Binary')") != std::string::npos);
        CHECK(s.find("SetValue('isHashConfiguredByAdmin', 1, 'DWord')") != std::string::npos);
        CHECK(s.find("{ba195980-cd49-458b-9e23-c84ee0adcd75}") != std::string::npos);
        CHECK(s.find("$SvcTimeoutSec = 300\n") != std::string::npos);
        // TLS 1.2 named: .NET Framework's default for PowerShell 5.1 can be TLS 1.0 only.
        CHECK(
            s.find("AuthenticateAsClient($ProbeHost, $null, "
                   "[Security.Authentication.SslProtocols]::Tls12, $false)") != std::string::npos
        );
        // The SSTP probe of MS-SSTP 4.1: after the certificate check, a DUPLEX_POST that must
        // be answered with 200.
        const auto tls = s.find("if ($seen -ne $NewSha256Hex)");
        const auto post = s.find("'SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ "
                                 "HTTP/1.1'");
        const auto length = s.find("'Content-Length: 18446744073709551615'");
        const auto status = s.find("-notmatch '^HTTP/1\\.1 200'");
        CHECK(tls != std::string::npos);
        CHECK(post > tls);
        CHECK(length > post);
        CHECK(status > length);
        CHECK(status != std::string::npos);
    }

    TEST_CASE("rras script: text values are base64 only, the password comes from standard input")
    {
        auto in = ordinary();
        in.friendly_name = "it's";
        const auto s = rendered(in);
        CHECK(s.find("$FriendlyName = (Decode-Text 'aXQncw==')") != std::string::npos);
        CHECK(s.find("$ProbeHost = (Decode-Text 'dnBuLmV4YW1wbGUuY29t')") != std::string::npos);
        CHECK(s.find("vpn.example.com") == std::string::npos);
        CHECK(s.find("cert.pfx") == std::string::npos);
        CHECK(s.find("[Console]::In.ReadLine()") != std::string::npos);
        CHECK(s.find("Security.SecureString") != std::string::npos);
        // The script never puts the password on a command line.
        CHECK(s.find("certutil") == std::string::npos);
        CHECK(s.find("-p ") == std::string::npos);
    }

    TEST_CASE("rras script: base64 of UTF-8, every padding length")
    {
        const std::pair<std::string, std::string> cases[] = {
            {"a", "YQ=="},
            {"ab", "YWI="},
            {"abc", "YWJj"},
            {"\xe2\x80\x98'\n", "4oCYJwo="},
            {"\xff\xfe\xfd", "//79"}};
        for (const auto& [value, encoded] : cases) {
            auto in = ordinary();
            in.probe_host = value;
            const auto s = rendered(in);
            CHECK(s.find("$ProbeHost = (Decode-Text '" + encoded + "')\n") != std::string::npos);
        }
        auto in = ordinary();
        in.friendly_name.clear();
        CHECK(rendered(in).find("$FriendlyName = (Decode-Text '')\n") != std::string::npos);
    }

    TEST_CASE("rras script: bad hex and bad options are refused")
    {
        const std::string sha1 = ordinary().sha1_hex;
        const std::string sha256 = ordinary().sha256_hex;
        for (const auto& bad :
             {sha1.substr(1), sha1 + "0", std::string("00112233445566778899AABBCCDDEEFF0A1B2C3D"),
              sha1.substr(0, 39) + "g", sha1.substr(0, 39) + "'", std::string()}) {
            auto in = ordinary();
            in.sha1_hex = bad;
            CHECK_FALSE(render_rras_script(in).has_value());
        }
        for (const auto& bad :
             {sha256.substr(2), sha256 + "00", sha1, sha256.substr(0, 63) + "F"}) {
            auto in = ordinary();
            in.sha256_hex = bad;
            CHECK_FALSE(render_rras_script(in).has_value());
        }
        auto in = ordinary();
        in.pfx_path.clear();
        CHECK_FALSE(render_rras_script(in).has_value());
        in = ordinary();
        in.probe_host.clear();
        CHECK_FALSE(render_rras_script(in).has_value());
        in = ordinary();
        in.service_timeout = std::chrono::seconds{0};
        CHECK_FALSE(render_rras_script(in).has_value());
        in = ordinary();
        in.listen_timeout = std::chrono::seconds{3601};
        CHECK_FALSE(render_rras_script(in).has_value());
    }

    TEST_CASE("rras script: the steps and the rollback come in order")
    {
        const auto s = rendered(ordinary());
        std::size_t last = 0;
        for (const auto* marker :
             {"# step: preflight",
              "IsInRole(",
              "$mutex.WaitOne(",
              "# step: import",
              "ReadLine()",
              "MachineKeySet, PersistKeySet",
              "$ca.Add(",
              "# step: backup",
              "$snap = Snap-Reg",
              "$old4 = Get-Bind",
              "Read-Bind ('hostnameport='",
              "# step: registry",
              "OpenSubKey($KeyPath, $true)",
              "$mutated = $true",
              "SetValue('SHA256CertificateHash'",
              "# step: bind",
              "Set-Bind $v4 $NewSha1Hex",
              "Set-Bind $v6 $NewSha1Hex",
              "# step: restart",
              "Restart-Sstp",
              "# step: verify",
              "Get-Bind $b",
              "Probe '127.0.0.1'",
              "Probe '::1'",
              "$R.ok = $true",
              "} catch {",
              "# step: rollback",
              "Restore-Reg $snap",
              "Set-Bind \"0.0.0.0:$port\" $h4",
              "Set-Bind \"[::]:$port\" $h6",
              "Restart-Sstp",
              "$R.rolled_back = $true",
              "# step: cleanup",
              "if ($R.ok -and $RemoveOld",
              "$my.Remove($c)",
              "$mutex.ReleaseMutex()",
              "[Console]::Out.WriteLine((Ascii-Json"}) {
            const auto at = s.find(marker, last);
            INFO(marker);
            REQUIRE(at != std::string::npos);
            last = at;
        }
        // Every stage appears exactly once as a marker.
        for (const auto* stage :
             {"preflight", "import", "backup", "registry", "bind", "restart", "verify", "rollback",
              "cleanup"}) {
            const std::string marker = std::string("# step: ") + stage + "\n";
            CHECK(s.find(marker) == s.rfind(marker));
        }
    }

    TEST_CASE("rras result: success, failure, several lines")
    {
        auto r = parse_rras_result(
            "{\"ok\":true,\"stage\":\"done\",\"message\":\"in service\",\"rolled_back\":false,"
            "\"thumbprint\":\"00\"}\r\n"
        );
        CHECK(r.ok);
        CHECK(r.stage == "done");
        CHECK(r.message == "in service");
        CHECK_FALSE(r.rolled_back);
        CHECK(r.details.value("thumbprint", "") == "00");
        CHECK_FALSE(r.details.contains("ok"));

        r = parse_rras_result("WARNING: something\n{\"ok\":false,\"stage\":\"verify\",\"message\":"
                              "\"verify: port 443\",\"rolled_back\":true}\nnoise after\n\n");
        CHECK_FALSE(r.ok);
        CHECK(r.stage == "verify");
        CHECK(r.rolled_back);

        r = parse_rras_result(
            "{\"ok\":false,\"stage\":\"import\"}\n{\"ok\":true,\"stage\":\"done\","
            "\"message\":\"\",\"rolled_back\":false}"
        );
        CHECK(r.ok);
        CHECK(r.stage == "done");
    }

    TEST_CASE("rras result: garbage is a failure at stage output")
    {
        for (const std::string_view text :
             {std::string_view(), std::string_view("\n\n"), std::string_view("not json"),
              std::string_view("{\"ok\":\"yes\"}"), std::string_view("[true]"),
              std::string_view("{\"stage\":\"done\"}"), std::string_view("{\"ok\":tr"),
              std::string_view("\xff\xfe{\0}", 5)}) {
            const auto r = parse_rras_result(text);
            CHECK_FALSE(r.ok);
            CHECK(r.stage == "output");
        }
        const auto r =
            parse_rras_result("{\"ok\":false,\"stage\":3,\"message\":null,\"rolled_back\":\"x\"}");
        CHECK_FALSE(r.ok);
        CHECK(r.stage.empty());
        CHECK_FALSE(r.rolled_back);
    }
}

} // namespace
} // namespace certfleet::deploy
