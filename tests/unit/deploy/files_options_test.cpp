#include <doctest/doctest.h>

#include "deploy/files_target.hpp"

namespace certfleet::deploy {

TEST_SUITE("deploy")
{
    TEST_CASE("files: wrong options are refused with the problem in words")
    {
        struct row
        {
            nlohmann::json options;
            const char* expected; // a piece of the problem
        };
        const row rows[] = {
            {nlohmann::json::array(), "JSON object"},
            {nlohmann::json::object(), "at least one file"},
            {{{"cert", "relative/cert.pem"}}, "absolute"},
            {{{"dir", "tls"}}, "absolute"},
            {{{"cert", "/a/x.pem"}, {"key", "/a/x.pem"}}, "two files"},
            {{{"cert", "/a/c.pem"}, {"mode", "0999"}}, "octal"},
            {{{"cert", "/a/c.pem"}, {"mode", "4755"}}, "octal"},
            {{{"cert", "/a/c.pem"}, {"key_mode", 384}}, "octal"},
            {{{"cert", "/a/c.pem"}, {"owner", -1}}, "owner"},
            {{{"cert", "/a/c.pem"}, {"reload", nlohmann::json::array()}}, "reload"},
            {{{"cert", "/a/c.pem"}, {"reload", {"nginx", 1}}}, "reload"},
            {{{"cert", "/a/c.pem"}, {"reload_timeout_seconds", 0}}, "reload_timeout_seconds"},
            {{{"cert", "/a/c.pem"}, {"verify", {{"port", 443}}}}, "host"},
            {{{"cert", "/a/c.pem"}, {"verify", {{"host", "h"}, {"port", 70000}}}}, "port"},
            {{{"cert", "/a/c.pem"}, {"verify", {{"host", "h"}, {"port", -1}}}}, "port"},
            {{{"cert", "/a/c.pem"}, {"verify", {{"host", "h"}, {"port", 44.3}}}}, "port"},
            {{{"cert", "/a/c.pem"}, {"verify", {{"host", "h"}, {"wait_seconds", 601}}}}, "wait"},
            {{{"cert", "/a/c.pem"}, {"verify", {{"host", "h"}, {"sstp", "yes"}}}}, "sstp"},
            {{{"cert", "/a/c.pem"}, {"certificate", "/a/d.pem"}}, "unknown option \"certificate\""},
        };
        for (const auto& r : rows) {
            CAPTURE(r.options.dump());
            const auto problem = check_target_options("files", r.options);
            CHECK(problem.find(r.expected) != std::string::npos);
        }
        CHECK(check_target_options(
                  "files",
                  {{"dir", "/etc/ssl/site"},
                   {"owner", "www-data"},
                   {"group", 33},
                   {"mode", "644"},
                   {"key_mode", "0640"},
                   {"reload", "nginx -s reload"},
                   {"reload_timeout_seconds", 30},
                   {"verify", {{"host", "site.example"}, {"port", 443}, {"wait_seconds", 0}}}}
        ).empty());
    }
}

} // namespace certfleet::deploy
