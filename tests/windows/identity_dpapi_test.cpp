#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"
#include "deploy/identity_seal.hpp"

using namespace certfleet;
using namespace certfleet::deploy;

TEST_SUITE("windows")
{
    TEST_CASE("the identity is sealed with DPAPI for the machine and opens again")
    {
        const std::string plain = R"({"private_key":"c2VjcmV0IHNjYWxhcg","agent":"vpn-01"})";
        const auto sealed = seal_identity(plain).value();
        CHECK(sealed.view().find("c2VjcmV0IHNjYWxhcg") == std::string_view::npos);
        const auto j = nlohmann::json::parse(sealed.view());
        CHECK(j["format"] == "dpapi-machine");
        CHECK(open_identity(sealed.view()).value().view() == plain);

        // A changed byte, a plain file, or anything else is refused.
        auto data = core::base64_decode(j["data"].get<std::string>()).value();
        data.back() = static_cast<char>(data.back() ^ 1); // the MAC at the end
        const nlohmann::json damaged{
            {"format", "dpapi-machine"}, {"data", core::base64_encode(data)}};
        CHECK(open_identity(damaged.dump()).error() == errc::state_corrupt);
        CHECK(open_identity(plain).error() == errc::state_corrupt);
        CHECK(open_identity("not json").error() == errc::state_corrupt);
    }
}
