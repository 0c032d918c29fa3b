#include "net/url.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string_view>

#include "net/errc.hpp"

using namespace certfleet::net;

TEST_SUITE("net")
{
    TEST_CASE("parse_url accepts absolute http and https URLs (RFC 3986 §3)")
    {
        struct row
        {
            std::string_view text;
            std::string_view scheme;
            std::string_view host;
            std::uint16_t port;
            std::string_view target;
        };
        constexpr std::array rows{
            row{"https://acme.example.com/directory", "https", "acme.example.com", 443,
                "/directory"},
            row{"http://example.com", "http", "example.com", 80, "/"},           // empty path
            row{"HTTPS://Example.COM/A/b", "https", "example.com", 443, "/A/b"}, // §3.1, §3.2.2
            row{"https://example.com:8443/x?y=1", "https", "example.com", 8443, "/x?y=1"},
            row{"http://example.com?q", "http", "example.com", 80, "/?q"},        // query, no path
            row{"https://example.com/p#frag", "https", "example.com", 443, "/p"}, // §3.5
            row{"http://example.com:/p", "http", "example.com", 80, "/p"}, // §3.2.3 empty port
            row{"https://127.0.0.1:14000/dir", "https", "127.0.0.1", 14000, "/dir"},
            row{"https://[::1]:8443/", "https", "::1", 8443, "/"}, // §3.2.2 IP-literal
            row{"http://[2001:DB8::1]/", "http", "2001:db8::1", 80, "/"},
            row{"https://[::ffff:192.0.2.1]", "https", "::ffff:192.0.2.1", 443, "/"},
            row{"http://a-b_c.example:65535/", "http", "a-b_c.example", 65535, "/"},
            row{"https://x.example/a%20b/acct/1", "https", "x.example", 443, "/a%20b/acct/1"},
        };
        for (const auto& r : rows) {
            CAPTURE(r.text);
            const auto u = parse_url(r.text);
            REQUIRE(u.has_value());
            CHECK(u->scheme == r.scheme);
            CHECK(u->host == r.host);
            CHECK(u->port == r.port);
            CHECK(u->target == r.target);
        }
    }

    TEST_CASE("parse_url rejects what the client must not send")
    {
        constexpr std::array<std::string_view, 28> rows{
            "",
            "example.com/path",                 // no scheme
            "/relative",                        // a reference, not a URL
            "ftp://example.com/",               // scheme other than http(s)
            "file:///etc/passwd",               // no host
            "https://",                         // no host
            "https:///path",                    // empty host
            "https://:443/",                    // empty host with port
            "https://user@example.com/",        // userinfo, §3.2.1
            "https://user:pw@example.com/",     // userinfo with password
            "https://exa mple.com/",            // space
            "https://example.com/a b",          // space in the path
            "https://example.com/\x01",         // control character
            "https://example.com/\x7f",         // DEL
            "https://example.com/\r\nX: y",     // header injection attempt
            "https://ex\xc3\xa4mple.com/",      // non-ASCII (IDNs arrive as A-labels)
            "https://example.com:0/",           // port 0
            "https://example.com:65536/",       // port out of range
            "https://example.com:99999999999/", // port overflow
            "https://example.com:8x/",          // non-digit port
            "https://example.com:-1/",          // sign
            "https://[::1/",                    // unclosed bracket
            "https://[::1]x/",                  // junk after the literal
            "https://[fe80::1%25eth0]/",        // zone identifier
            "https://[example.com]/",           // not an IPv6 address
            "https://::1/",                     // IPv6 without brackets
            "https://a..b/",                    // empty label
            "https://example.com./",            // trailing dot (empty last label)
        };
        for (const auto text : rows) {
            CAPTURE(text);
            const auto u = parse_url(text);
            REQUIRE_FALSE(u.has_value());
            CHECK(u.error() == errc::bad_url);
        }
    }

    TEST_CASE("url renders Host and origin")
    {
        CHECK(parse_url("https://example.com/")->host_header() == "example.com");
        CHECK(parse_url("https://example.com:443/")->host_header() == "example.com");
        CHECK(parse_url("http://example.com:8080/")->host_header() == "example.com:8080");
        CHECK(parse_url("http://[::1]:8080/")->host_header() == "[::1]:8080");
        CHECK(parse_url("https://[::1]/")->host_header() == "[::1]");
        CHECK(parse_url("https://example.com/")->origin() == "https://example.com:443");
        CHECK(parse_url("http://[::1]/")->origin() == "http://[::1]:80");
        CHECK(parse_url("https://127.0.0.1/")->host_is_ip_literal());
        CHECK(parse_url("https://[::1]/")->host_is_ip_literal());
        CHECK_FALSE(parse_url("https://localhost/")->host_is_ip_literal());
    }

    TEST_CASE("url knows a loopback host: localhost, 127.0.0.0/8, ::1")
    {
        for (const char* loopback :
             {"http://localhost/", "http://LOCALHOST:14000/", "http://127.0.0.1/",
              "http://127.255.3.4:80/", "http://[::1]:14000/", "http://[0:0:0:0:0:0:0:1]/"}) {
            CAPTURE(loopback);
            CHECK(parse_url(loopback)->host_is_loopback());
        }
        for (const char* remote :
             {"http://acme.example.com/", "http://128.0.0.1/", "http://10.0.0.1/", "http://[::2]/",
              "http://[::ffff:127.0.0.1]/", "http://localhost.example.com/",
              "http://127.example.com/"}) {
            CAPTURE(remote);
            CHECK_FALSE(parse_url(remote)->host_is_loopback());
        }
    }

    TEST_CASE("resolve_reference resolves Location and Link targets (RFC 3986 §5.2)")
    {
        struct row
        {
            std::string_view base;
            std::string_view reference;
            std::string_view expected;
        };
        constexpr std::string_view base = "https://acme.example:14000/acme/order/1?x=y#f";
        constexpr std::array rows{
            row{base, "https://other.example/acme/cert/1", "https://other.example/acme/cert/1"},
            row{base, "HTTP://x.example/p", "HTTP://x.example/p"},
            row{base, "//cdn.example/issuer", "https://cdn.example/issuer"},
            row{base, "/acme/cert/1", "https://acme.example:14000/acme/cert/1"},
            row{base, "/acme/./a/../cert/1", "https://acme.example:14000/acme/cert/1"},
            row{base, "cert/2", "https://acme.example:14000/acme/order/cert/2"},
            row{base, "../authz/3", "https://acme.example:14000/acme/authz/3"},
            row{base, "../../../../up", "https://acme.example:14000/up"},
            row{base, "?page=2", "https://acme.example:14000/acme/order/1?page=2"},
            row{base, "#top", "https://acme.example:14000/acme/order/1?x=y#top"},
            row{base, "", "https://acme.example:14000/acme/order/1?x=y"},
            row{"https://[::1]:8443", "/dir", "https://[::1]:8443/dir"},
            row{"https://a.example?q", "p", "https://a.example/p"},
            row{"not a url", "/dir", "/dir"},
        };
        for (const auto& r : rows) {
            CAPTURE(r.reference);
            CHECK(resolve_reference(r.base, r.reference) == r.expected);
        }
    }
}
