#include "acme/request_outcome.hpp"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>

#include "acme/failure.hpp"
#include "core/errc.hpp"

using namespace certfleet;

namespace {

std::string problem_body(std::string_view type)
{
    return R"({"type":")" + std::string(type) + R"(","detail":"whatever the CA says"})";
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("request outcome: status classes, and a 4xx as its registered problem type")
    {
        struct row
        {
            unsigned status;
            std::string body;
            std::string_view outcome;
        };
        const std::vector<row> rows{
            {200, "{}", "2xx"},
            {201, "{}", "2xx"},
            {204, "", "2xx"},
            {301, "", "3xx"},
            // RFC 8555 6.7: the type names the error.
            {400, problem_body("urn:ietf:params:acme:error:badNonce"), "badNonce"},
            {403, problem_body("urn:ietf:params:acme:error:unauthorized"), "unauthorized"},
            {429, problem_body("urn:ietf:params:acme:error:rateLimited"), "rateLimited"},
            // RFC 9773 7.4 and the profiles draft register more.
            {409, problem_body("urn:ietf:params:acme:error:alreadyReplaced"), "alreadyReplaced"},
            {400, problem_body("urn:ietf:params:acme:error:invalidProfile"), "invalidProfile"},
            // Anything a CA makes up stays in one bucket: the labels stay few.
            {400, problem_body("urn:ietf:params:acme:error:madeUpByTheCA"), "4xx"},
            {400, problem_body("urn:example:custom"), "4xx"},
            {404, "<html>not found</html>", "4xx"},
            {429, "", "4xx"},
            {500, problem_body("urn:ietf:params:acme:error:serverInternal"), "5xx"},
            {503, "", "5xx"},
        };
        for (const auto& r : rows) {
            INFO(r.status << " " << r.body);
            CHECK(acme::request_outcome(r.status, r.body) == r.outcome);
        }
        CHECK(acme::to_string(acme::endpoint::new_order) == "newOrder");
        CHECK(acme::to_string(acme::endpoint::authorization) == "authz");
        CHECK(acme::to_string(acme::endpoint::renewal_info) == "renewalInfo");
    }

    TEST_CASE(
        "failure class: the CA's problem type, else our code, a full disk, else internal or network"
    )
    {
        using acme::failure;
        using acme::problem;
        const auto with_problem = [](std::string type, std::vector<acme::subproblem> subs = {}) {
            return failure{
                make_error_code(acme::errc::problem), problem{std::move(type), "", 403, subs, {}},
                "step"};
        };
        CHECK(acme::failure_class(with_problem("urn:ietf:params:acme:error:caa")) == "caa");
        CHECK(acme::failure_class(with_problem("urn:example:custom")) == "other");
        CHECK(acme::failure_class(with_problem("about:blank")) == "other");
        // RFC 8555 6.7.1: a compound problem is told by its first subproblem.
        CHECK(
            acme::failure_class(with_problem(
                "urn:ietf:params:acme:error:compound",
                {{"urn:ietf:params:acme:error:dns", "no TXT", "dns", "www.example.com"}}
            )) == "dns"
        );
        CHECK(
            acme::failure_class(failure{make_error_code(acme::errc::timeout), std::nullopt, ""}) ==
            "timeout"
        );
        CHECK(
            acme::failure_class(failure{
                make_error_code(core::errc::storage_failure), std::nullopt, ""}) == "internal"
        );
        CHECK(
            acme::failure_class(failure{make_error_code(core::errc::storage_full), std::nullopt, ""}
            ) == "storage_full"
        );
        CHECK(
            acme::failure_class(
                failure{make_error_code(boost::asio::error::connection_refused), std::nullopt, ""}
            ) == "network"
        );
    }
}
