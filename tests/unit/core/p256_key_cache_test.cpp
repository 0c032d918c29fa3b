#include "core/crypto/p256_key_cache.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/crypto/jws.hpp"
#include "core/crypto/p256.hpp"
#include "core/errc.hpp"

using namespace certfleet::core;

namespace {

std::string scalar_of(unsigned char last)
{
    std::string s(32, '\0');
    s.back() = static_cast<char>(last);
    return s;
}

// The key signs and its signature verifies against the point of `scalar`.
bool signs_as(EVP_PKEY* key, const std::string& scalar)
{
    const auto signature = es256_signature(key, "message");
    const auto pub = p256_public_key(p256_point_of_scalar(scalar).value());
    return signature && pub && verify_jws_signature(pub->get(), "message", *signature);
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("the key cache builds a scalar's key once and hands out that key again")
    {
        p256_key_cache cache;
        const auto a = cache.get(scalar_of(5)).value();
        const auto again = cache.get(scalar_of(5)).value();
        CHECK(a.get() == again.get());
        CHECK(p256_point(a.get()).value() == p256_point_of_scalar(scalar_of(5)).value());
        const auto b = cache.get(scalar_of(6)).value();
        CHECK(b.get() != a.get());
        CHECK(signs_as(a.get(), scalar_of(5)));
        CHECK(signs_as(b.get(), scalar_of(6)));
        CHECK_FALSE(signs_as(b.get(), scalar_of(5)));
    }

    TEST_CASE("the key cache drops the least recently used key and an evicted key stays usable")
    {
        p256_key_cache cache{2};
        const auto one = cache.get(scalar_of(1)).value();
        const auto two = cache.get(scalar_of(2)).value();
        CHECK(cache.get(scalar_of(1)).value().get() == one.get()); // 1 is now the most recent
        const auto three = cache.get(scalar_of(3)).value();        // evicts 2
        CHECK(cache.get(scalar_of(1)).value().get() == one.get());
        CHECK(cache.get(scalar_of(2)).value().get() != two.get());
        CHECK(signs_as(two.get(), scalar_of(2)));
        CHECK(signs_as(three.get(), scalar_of(3)));
    }

    TEST_CASE("the key cache refuses the scalars p256_pkey_from_scalar refuses")
    {
        p256_key_cache cache;
        CHECK(cache.get(std::string(32, '\0')).error() == errc::invalid_key);
        CHECK(cache.get(std::string(32, '\xff')).error() == errc::invalid_key);
        CHECK(cache.get("short").error() == errc::invalid_key);
        CHECK(cache.get(std::string(32, '\0')).error() == errc::invalid_key); // not remembered
    }

    TEST_CASE("the key cache serves threads at once")
    {
        p256_key_cache cache{2};
        std::vector<std::thread> threads;
        std::vector<int> ok(8, 0);
        for (std::size_t t = 0; t < ok.size(); ++t) {
            threads.emplace_back([&cache, &ok, t] {
                for (int i = 0; i < 20; ++i) {
                    const auto scalar = scalar_of(static_cast<unsigned char>(1 + (t + i) % 3));
                    const auto key = cache.get(scalar);
                    ok[t] += key && signs_as(key->get(), scalar) ? 1 : 0;
                }
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
        for (const int n : ok) {
            CHECK(n == 20);
        }
    }
}
