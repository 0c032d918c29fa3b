// The rendered RRAS script parsed by tree-sitter's PowerShell grammar (tests/tools/
// parse-powershell.mjs, node from the PATH, the npm packages from tests/tools/package-lock.json):
// it must parse without ERROR/MISSING nodes, and hostile values in every injected field must
// leave the tree's shape exactly as ordinary values do.
#include <doctest/doctest.h>

#include "deploy/posix_process.hpp"
#include "deploy/rras_script.hpp"
#include "support/bundle_fixture.hpp"

namespace certfleet::deploy {
namespace {

using namespace testing;

const std::filesystem::path parser_tool =
    std::filesystem::path(CERTFLEET_TEST_DATA) / ".." / "tools" / "parse-powershell.mjs";

rras_script_input ordinary()
{
    return {
        .sha1_hex = "00112233445566778899aabbccddeeff0a1b2c3d",
        .sha256_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff",
        .pfx_path = "C:\\ProgramData\\certfleet\\work\\a1\\cert.pfx",
        .friendly_name = "vpn.example.com 2026-12",
        .probe_host = "vpn.example.com"};
}

// Everything PowerShell could read as structure, in one value.
const std::string hostile = "a'b''c\"d`e $(Remove-Item C:\\ -Recurse) ${env:x} @(1) ;f\n"
                            "'@\n\"@\n@'\n@\"\n#> <# \xe2\x80\x98g\xe2\x80\x99h\xe2\x80\x9ai"
                            "\xe2\x80\x9bj\xe2\x80\x9ck\xe2\x80\x9dl\r\n| & } ) ]";

struct parsed
{
    int exit_code = -1;
    std::vector<std::string> shapes; // one per script, in order
    std::string output;              // everything the tool printed
};

// One run for all scripts: loading the grammar takes seconds.
parsed parse_scripts(const std::vector<std::string>& scripts)
{
    const scratch_dir dir;
    std::vector<std::string> argv{"node", parser_tool.string(), "--shape"};
    for (std::size_t i = 0; i < scripts.size(); ++i) {
        argv.push_back((dir.path / ("deploy" + std::to_string(i) + ".ps1")).string());
        write_file(argv.back(), scripts[i], 0600);
    }
    const posix_process_runner runner;
    auto outcome = runner.run(
        {.argv = argv, .timeout = std::chrono::seconds{120}, .max_output_bytes = 64 * 1024 * 1024}
    );
    REQUIRE(outcome.has_value());
    parsed result{.exit_code = outcome->exit_code, .shapes = {}, .output = outcome->output};
    for (std::size_t i = 3; i < argv.size(); ++i) {
        const auto from = result.output.find("== " + argv[i] + "\n");
        const auto to = i + 1 < argv.size() ? result.output.find("== " + argv[i + 1] + "\n")
                                            : result.output.size();
        REQUIRE(from != std::string::npos);
        REQUIRE(to != std::string::npos);
        const auto body = from + argv[i].size() + 4;
        result.shapes.push_back(result.output.substr(body, to - body));
    }
    return result;
}

std::string render(const rras_script_input& in)
{
    auto s = render_rras_script(in);
    REQUIRE(s.has_value());
    return s.value();
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("rras script: parses as PowerShell, and hostile values do not change its shape")
    {
        std::vector<std::string> scripts{render(ordinary())};
        auto all = ordinary();
        all.pfx_path = all.friendly_name = all.probe_host = hostile;
        scripts.push_back(render(all));
        for (int field = 0; field < 3; ++field) {
            auto in = ordinary();
            (field == 0 ? in.pfx_path : field == 1 ? in.friendly_name : in.probe_host) = hostile;
            scripts.push_back(render(in));
        }
        auto empty = ordinary();
        empty.friendly_name.clear();
        scripts.push_back(render(empty));

        const auto p = parse_scripts(scripts);
        REQUIRE_MESSAGE(p.exit_code == 0, p.output.substr(0, 2000));
        REQUIRE(p.shapes.size() == scripts.size());
        CHECK(p.shapes[0].find("program\n") == 0);
        CHECK(p.shapes[0].find("\n  try_statement\n") != std::string::npos);
        CHECK(p.shapes[0].find("catch_clause") != std::string::npos);
        for (std::size_t i = 1; i < p.shapes.size(); ++i) {
            INFO("script " << i);
            CHECK(p.shapes[i] == p.shapes[0]);
        }
    }

    TEST_CASE("rras script: the syntax check catches broken scripts and naive quoting")
    {
        const auto script = render(ordinary());
        // The same value quoted without care (quote, command) parses but changes the shape.
        auto naive = script;
        const auto at = naive.find("$FriendlyName = (Decode-Text '");
        REQUIRE(at != std::string::npos);
        const auto end = naive.find('\n', at);
        naive.replace(at, end - at, "$FriendlyName = 'a'; Remove-Item 'C:\\x'; $y = 'b'");
        const auto good = parse_scripts({script, naive});
        REQUIRE(good.exit_code == 0);
        CHECK(good.shapes[1] != good.shapes[0]);

        const auto broken = parse_scripts({script + "\n$x = (1 +\nif ($y) { 'z'\n"});
        CHECK(broken.exit_code == 1);
        CHECK(broken.output.find("ERROR at") != std::string::npos);
    }
}

} // namespace certfleet::deploy
