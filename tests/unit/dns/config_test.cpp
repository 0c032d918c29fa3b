#include "dns/config.hpp"

#include <doctest/doctest.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config_error.hpp"

using namespace certfleet;
using namespace certfleet::dns;

namespace {

const std::string zone_a = R"(
[[dns.zone]]
apex = "acme.test"
soa = { mname = "ns1", rname = "hostmaster.acme.test." }
ns = [ { name = "ns1", addresses = ["127.0.0.1"] } ]
)";

std::string with_dns(const std::string& settings, const std::string& zones = zone_a)
{
    return "[dns]\nlisten = [\"127.0.0.1:5353\"]\n" + settings + zones;
}

dns_config parse(const std::string& text, const std::filesystem::path& base = ".")
{
    return parse_dns_config(toml::parse(text), base);
}

// The message of the configuration error `text` raises; fails when it loads.
std::string error_of(const std::string& text, const std::filesystem::path& base = ".")
{
    try {
        (void)parse(text, base);
    } catch (const core::config_error& e) {
        return e.what();
    }
    FAIL("the configuration loaded");
    return {};
}

struct temp_directory
{
    std::filesystem::path path;
    temp_directory()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "certfleet-config-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_directory() { std::filesystem::remove_all(path); }
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;

    void write(const std::string& name, const std::string& text) const
    {
        std::ofstream(path / name, std::ios::binary) << text;
    }
};

std::string zone_with_file(const std::string& file)
{
    return zone_a + "records_file = \"" + file + "\"\n";
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("config: defaults serve on every CPU with rate limiting on")
    {
        const auto c = parse(with_dns(""));
        CHECK(c.server.threads == 0); // "auto"
        CHECK(c.server.rate_limit.enabled);
        CHECK(c.server.rate_limit.responses_per_second > 0);
        CHECK(c.server.rate_limit.slip == 2);
        CHECK(c.server.rate_limit.ipv4_prefix == 24);
        CHECK(c.server.rate_limit.ipv6_prefix == 56);
        CHECK(c.server.max_tcp_per_source > 0);
        CHECK(c.server.tcp_send_buffer > 0);

        const auto set = parse(with_dns(
            "threads = 3\nmax_tcp_per_source = 4\ntcp_max_lifetime_ms = 500\n"
            "tcp_send_buffer = 8192\n[dns.rate_limit]\nresponses_per_second = 7\nslip = 3\n"
        ));
        CHECK(set.server.threads == 3);
        CHECK(set.server.max_tcp_per_source == 4);
        CHECK(set.server.tcp_max_lifetime == std::chrono::milliseconds(500));
        CHECK(set.server.tcp_send_buffer == 8192);
        CHECK(set.server.rate_limit.responses_per_second == 7);
        CHECK(set.server.rate_limit.slip == 3);
        CHECK_FALSE(parse(with_dns("[dns.rate_limit]\nenabled = false\n")).server.rate_limit.enabled
        );
        CHECK_FALSE(parse(with_dns("[dns.rate_limit]\nresponses_per_second = 0\n"))
                        .server.rate_limit.enabled);
    }

    TEST_CASE("config: a zero that would silently turn TCP off is refused")
    {
        for (const auto* key : {"tcp_idle_timeout_ms", "max_tcp_connections"}) {
            INFO(key);
            const auto e = error_of(with_dns(std::string(key) + " = 0\n"));
            CHECK(e.find(std::string("dns.") + key) != std::string::npos);
        }
        CHECK(error_of(with_dns("threads = 0\n")).find("dns.threads") != std::string::npos);
    }

    TEST_CASE("config: the same zone apex twice is refused, naming both zones")
    {
        const auto e = error_of(with_dns("", zone_a + zone_a));
        CHECK(e.find("dns.zone[1].apex") != std::string::npos);
        CHECK(e.find("dns.zone[0]") != std::string::npos);
        // Names compare without case and final dot.
        std::string upper = zone_a;
        upper.replace(upper.find("\"acme.test\""), 11, "\"ACME.test.\"");
        CHECK(error_of(with_dns("", zone_a + upper)).find("dns.zone[1].apex") != std::string::npos);
    }

    TEST_CASE("config: CNAME conflicts are refused, naming both records")
    {
        auto e = error_of(with_dns(
            "", zone_a + "records = [ \"x CNAME a\", \"www A 192.0.2.1\", \"x CNAME b\" ]\n"
        ));
        CHECK(e.find("two CNAMEs") != std::string::npos);
        CHECK(e.find("dns.zone[0].records[0]") != std::string::npos);
        CHECK(e.find("dns.zone[0].records[2]") != std::string::npos);

        // Between the inline records and the records file.
        temp_directory dir;
        dir.write("extra.zone", "; comment\nx TXT \"beside\"\n");
        e = error_of(
            with_dns("", zone_with_file("extra.zone") + "records = [ \"x CNAME a\" ]\n"), dir.path
        );
        CHECK(e.find("a CNAME beside other data") != std::string::npos);
        CHECK(e.find("dns.zone[0].records[0]") != std::string::npos);
        CHECK(e.find("extra.zone:2") != std::string::npos);

        // Beside the glue of a name server.
        e = error_of(with_dns("", zone_a + "records = [ \"ns1 CNAME a\" ]\n"));
        CHECK(e.find("dns.zone[0].ns[0]") != std::string::npos);
        CHECK(e.find("dns.zone[0].records[0]") != std::string::npos);
    }

    TEST_CASE("config: records_file must be a regular file of bounded size")
    {
        temp_directory dir;
        std::filesystem::create_directory(dir.path / "a-directory");
        auto e = error_of(with_dns("", zone_with_file("a-directory")), dir.path);
        CHECK(e.find("dns.zone[0].records_file") != std::string::npos);
        CHECK(e.find("not a regular file") != std::string::npos);

        e = error_of(with_dns("", zone_with_file("/dev/zero")), dir.path);
        CHECK(e.find("not a regular file") != std::string::npos);

        e = error_of(with_dns("", zone_with_file("missing.zone")), dir.path);
        CHECK(e.find("cannot open") != std::string::npos);

        {
            std::ofstream big(dir.path / "big.zone", std::ios::binary);
            big.seekp(64LL * 1024 * 1024);
            big.put('\n'); // a sparse file one byte over the cap
        }
        e = error_of(with_dns("", zone_with_file("big.zone")), dir.path);
        CHECK(e.find("larger than") != std::string::npos);

        dir.write("ok.zone", "www A 192.0.2.1\n");
        CHECK(parse(with_dns("", zone_with_file("ok.zone")), dir.path).zones.size() == 1);
    }

    TEST_CASE("config: a records file that does not parse is not quoted in the error")
    {
        temp_directory dir;
        dir.write("secret.pem", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n");
        const auto e = error_of(with_dns("", zone_with_file("secret.pem")), dir.path);
        CHECK(e.find("secret.pem:1") != std::string::npos);
        for (const auto* word : {"BEGIN", "PRIVATE", "MIIE"}) {
            CHECK(e.find(word) == std::string::npos);
        }
    }
}
