#include "deploy/probe.hpp"

#include <doctest/doctest.h>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

const std::string hash_a(64, 'a');
const std::string hash_b(64, 'b');

probe_address_result served(std::string address, const std::string& sha256)
{
    probe_address_result a;
    a.address = std::move(address);
    a.subject = "vpn.example.com";
    a.sha256_hex = sha256;
    return a;
}

probe_address_result unreachable(std::string address)
{
    probe_address_result a;
    a.address = std::move(address);
    a.failure = errc::probe_connect_failed;
    a.error = "cannot connect: Connection refused";
    return a;
}

probe_request request_for(std::optional<std::string> expected, bool sstp = false)
{
    probe_request r;
    r.host = "vpn.example.com";
    r.sni = "vpn.example.com";
    r.expect_sha256 = std::move(expected);
    r.sstp = sstp;
    return r;
}

bool contains(const std::string& text, std::string_view part)
{
    INFO(text);
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("probe: SSTP_DUPLEX_POST as MS-SSTP 3.2.5.1 has it")
    {
        CHECK(
            sstp_duplex_post("vpn.example.com", "{0F1E2D3C-4B5A-4697-8877-665544332211}") ==
            "SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\n"
            "Host: vpn.example.com\r\n"
            "SSTPCORRELATIONID: {0F1E2D3C-4B5A-4697-8877-665544332211}\r\n"
            "Content-Length: 18446744073709551615\r\n"
            "\r\n"
        );
    }

    TEST_CASE("probe: the status of a response head")
    {
        CHECK(
            http_status_of("HTTP/1.1 200\r\nContent-Length: 18446744073709551615\r\n\r\n")
                .value() == 200
        );
        CHECK(http_status_of("HTTP/1.1 200 OK\r\n\r\n").value() == 200);
        CHECK(http_status_of("HTTP/1.0 404 Not Found\r\n").value() == 404);
        CHECK(http_status_of("HTTP/1.1 503").value() == 503);
        for (const auto bad : {
                 "",
                 "HTTP/1.1",
                 "HTTP/1.1 20\r\n",
                 "HTTP/1.1 2000\r\n",
                 "HTTP/1.1  200\r\n",
                 "HTTP/1.1 2x0\r\n",
                 "HTTP/2 200\r\n",
                 "HTTP/1.2 200\r\n",
                 "http/1.1 200\r\n",
                 "SSTP_DUPLEX_POST / HTTP/1.1\r\n",
                 "HTTP/1.1 099\r\n",
                 "HTTP/1.1 200x\r\n",
             }) {
            INFO(bad);
            CHECK_FALSE(http_status_of(bad).has_value());
        }
    }

    TEST_CASE("probe: expected hashes are normalised")
    {
        CHECK(normalize_sha256(std::string(64, 'A')).value() == hash_a);
        std::string with_colons;
        for (int i = 0; i < 32; ++i) {
            with_colons += (i == 0 ? "" : ":") + std::string("Bb");
        }
        CHECK(normalize_sha256(with_colons).value() == hash_b);
        CHECK_FALSE(normalize_sha256(std::string(63, 'a')).has_value());
        CHECK_FALSE(normalize_sha256(std::string(65, 'a')).has_value());
        CHECK_FALSE(normalize_sha256(std::string(63, 'a') + "g").has_value());
        CHECK_FALSE(normalize_sha256("").has_value());
    }

    TEST_CASE("probe: every answering address serving the expected leaf is ok")
    {
        const auto r = judge(
            request_for(std::string(64, 'A')),
            {served("192.0.2.5", hash_a), served("2001:db8::5", hash_a)}
        );
        CHECK(r.ok);
        CHECK(r.expected_sha256.value() == hash_a);
        for (const auto& a : r.addresses) {
            CHECK(a.matches);
            CHECK_FALSE(a.failure);
        }
        CHECK(contains(r.summary, "vpn.example.com:443 serves vpn.example.com"));
        CHECK(contains(r.summary, "on 2 addresses, as expected"));
    }

    TEST_CASE("probe: another leaf than expected fails and shows both hashes")
    {
        const auto r = judge(
            request_for(hash_b), {served("192.0.2.5", hash_a), served("2001:db8::5", hash_b)}
        );
        CHECK_FALSE(r.ok);
        CHECK(r.addresses[0].failure == make_error_code(errc::probe_mismatch));
        CHECK_FALSE(r.addresses[0].matches);
        CHECK(r.addresses[1].matches);
        CHECK(contains(r.addresses[0].error, "serves SHA-256 " + hash_a + ", expected " + hash_b));
        CHECK(contains(r.summary, "192.0.2.5"));
        CHECK(contains(r.summary, hash_a));
        CHECK(contains(r.summary, hash_b));
    }

    TEST_CASE("probe: a mismatch outranks an SSTP failure on the same address")
    {
        auto a = served("192.0.2.5", hash_a);
        a.failure = errc::sstp_refused;
        a.error = "SSTP is not answering";
        a.sstp_status = 404;
        const auto r = judge(request_for(hash_b, true), {a});
        CHECK_FALSE(r.ok);
        CHECK(r.addresses[0].failure == make_error_code(errc::probe_mismatch));
        CHECK(contains(r.addresses[0].error, "expected " + hash_b + "; SSTP is not answering"));
    }

    TEST_CASE("probe: addresses that do not answer are tolerated while another does")
    {
        const auto r =
            judge(request_for(hash_a), {unreachable("2001:db8::5"), served("192.0.2.5", hash_a)});
        CHECK(r.ok);
        CHECK(contains(r.summary, "no answer from 2001:db8::5"));

        const auto none =
            judge(request_for(hash_a), {unreachable("192.0.2.5"), unreachable("2001:db8::5")});
        CHECK_FALSE(none.ok);
        CHECK(contains(none.summary, "no answer from vpn.example.com:443: cannot connect"));

        CHECK_FALSE(judge(request_for(hash_a), {}).ok);
    }

    TEST_CASE("probe: SSTP refused or TLS failing on an answering address fails the probe")
    {
        auto refused = served("192.0.2.5", hash_a);
        refused.failure = errc::sstp_refused;
        refused.error = "SSTP is not answering: SSTP_DUPLEX_POST got HTTP 404";
        refused.sstp_status = 404;
        const auto r = judge(request_for(hash_a, true), {refused, served("192.0.2.6", hash_a)});
        CHECK_FALSE(r.ok);
        CHECK(r.addresses[0].matches);
        CHECK(contains(r.summary, "on 192.0.2.5: SSTP is not answering"));

        probe_address_result broken;
        broken.address = "192.0.2.7";
        broken.failure = errc::probe_tls_failed;
        broken.error = "TLS handshake failed: wrong version number";
        const auto t = judge(request_for(std::nullopt), {broken, served("192.0.2.8", hash_a)});
        CHECK_FALSE(t.ok);
        CHECK(contains(t.summary, "TLS handshake failed"));
    }

    TEST_CASE("probe: without an expectation any leaf matches, a malformed one matches none")
    {
        const auto any = judge(request_for(std::nullopt), {served("192.0.2.5", hash_a)});
        CHECK(any.ok);
        CHECK(any.addresses[0].matches);
        CHECK_FALSE(contains(any.summary, "as expected"));

        const auto malformed = judge(request_for("not-a-hash"), {served("192.0.2.5", hash_a)});
        CHECK_FALSE(malformed.ok);
        CHECK(malformed.addresses[0].failure == make_error_code(errc::probe_mismatch));
    }

    TEST_CASE("probe: the JSON report")
    {
        auto a = served("192.0.2.5", hash_a);
        a.names = {"vpn.example.com"};
        a.not_after = "2027-06-01T12:00:00Z";
        a.sstp_status = 200;
        const auto j = to_json(judge(request_for(hash_a, true), {a, unreachable("2001:db8::5")}));
        CHECK(j["host"] == "vpn.example.com");
        CHECK(j["port"] == 443);
        CHECK(j["sni"] == "vpn.example.com");
        CHECK(j["expected_sha256"] == hash_a);
        CHECK(j["ok"] == true);
        CHECK(j["summary"].is_string());
        REQUIRE(j["addresses"].size() == 2);
        const auto& first = j["addresses"][0];
        CHECK(first["address"] == "192.0.2.5");
        CHECK(first["ok"] == true);
        CHECK(first["error"].is_null());
        CHECK(first["failure"].is_null());
        CHECK(first["sha256"] == hash_a);
        CHECK(first["matches"] == true);
        CHECK(first["sstp_status"] == 200);
        CHECK(first["names"] == nlohmann::json::array({"vpn.example.com"}));
        CHECK(first["not_after"] == "2027-06-01T12:00:00Z");
        const auto& second = j["addresses"][1];
        CHECK(second["ok"] == false);
        CHECK(second["failure"] == "connect_failed");
        CHECK(second["sha256"].is_null());
        CHECK(second["sstp_status"].is_null());
    }
}

} // namespace certfleet::deploy
