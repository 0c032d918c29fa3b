// libFuzzer target: an HTTP/1.1 request as the API server reads it, on arbitrary bytes. Beast's
// parser with the server's limits, then what certfleet does with what it parsed: the query's
// parameters (percent- and form-decoded) and the route templates' path parameters. Nothing may
// crash, read out of bounds or loop, and the decoders keep their invariants: decoding never
// yields more bytes than it was given, a matched path parameter is never empty, and a template
// without parameters matches only its own path.

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app/api_paths.hpp"
#include "net/http_query.hpp"

namespace http = boost::beast::http;

namespace {

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "http_request_fuzz: invariant violated: %s\n", what);
        std::abort();
    }
}

constexpr const char* templates[] = {
    "/healthz",
    "/api/v1/certificates",
    "/api/v1/certificates/{id}",
    "/api/v1/certificates/{id}/chain",
    "/api/v1/domains/{name}",
    "/api/v1/acmedns/registrations/{username}",
};

void exercise_target(std::string_view target)
{
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    const auto query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    for (const char* name : {"limit", "cursor", "certificate", "since", ""}) {
        if (auto value = certfleet::net::query_parameter(query, name)) {
            check(value->size() <= query.size(), "a decoded parameter is longer than the query");
        }
    }
    if (auto decoded = certfleet::net::percent_decode(path)) {
        check(decoded->size() <= path.size(), "a decoded path is longer than the path");
    }
    for (const char* t : templates) {
        auto bound = certfleet::app::match_path(t, path);
        if (!bound) {
            continue;
        }
        for (const auto& [key, value] : *bound) {
            check(!key.empty() && !value.empty(), "an empty path parameter");
        }
        if (std::string_view(t).find('{') == std::string_view::npos) {
            check(bound->empty(), "parameters from a template without any");
            check(path == t, "a literal template matched another path");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    // The raw bytes as a target too: the decoders see everything, not only what parses.
    exercise_target(input.substr(0, 4096));

    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    boost::system::error_code ec;
    std::size_t offset = 0;
    while (offset < input.size() && !parser.is_done()) {
        const auto used =
            parser.put(boost::asio::buffer(input.data() + offset, input.size() - offset), ec);
        if (ec == http::error::need_more) {
            break;
        }
        if (ec || used == 0) {
            return 0;
        }
        offset += used;
    }
    if (!parser.is_header_done()) {
        return 0;
    }
    const auto& request = parser.get();
    exercise_target(std::string_view(request.target().data(), request.target().size()));
    return 0;
}
