#include "deploy/p256_scalar_mult.hpp"

#include <array>
#include <cstdint>

namespace certfleet::deploy {
namespace {

using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128; // GCC and Clang, MinGW included
using fe = std::array<u64, 4>;                // little-endian limbs

// p = 2^256 - 2^224 + 2^192 + 2^96 - 1
constexpr fe p_limbs{0xffffffffffffffffULL, 0x00000000ffffffffULL, 0, 0xffffffff00000001ULL};
constexpr fe order{
    0xf3b9cac2fc632551ULL, 0xbce6faada7179e84ULL, 0xffffffffffffffffULL, 0xffffffff00000000ULL};

fe from_bytes(std::string_view b) noexcept
{
    fe out{};
    for (std::size_t i = 0; i < 32; ++i) {
        out[3 - i / 8] = (out[3 - i / 8] << 8) | static_cast<unsigned char>(b[i]);
    }
    return out;
}

void to_bytes(const fe& a, std::string& out)
{
    for (std::size_t i = 0; i < 32; ++i) {
        out.push_back(static_cast<char>(a[3 - i / 8] >> (56 - 8 * (i % 8))));
    }
}

// a - b; the borrow out (0 or 1).
u64 subtract(const fe& a, const fe& b, fe& out) noexcept
{
    u64 borrow = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const u128 d = static_cast<u128>(a[i]) - b[i] - borrow;
        out[i] = static_cast<u64>(d);
        borrow = static_cast<u64>(d >> 64) & 1U;
    }
    return borrow;
}

// out = mask ? a : b, for mask all ones or zero.
fe select(u64 mask, const fe& a, const fe& b) noexcept
{
    fe out{};
    for (std::size_t i = 0; i < 4; ++i) {
        out[i] = (a[i] & mask) | (b[i] & ~mask);
    }
    return out;
}

// Reduces a value below 2p, given as `t` plus a carry bit, to below p.
fe reduce_once(const fe& t, u64 carry) noexcept
{
    fe d{};
    const u64 borrow = subtract(t, p_limbs, d);
    // Keep t only when it was below p: no carry and a borrow.
    const u64 keep_t = 0 - (borrow & (carry ^ 1U));
    return select(keep_t, t, d);
}

fe add(const fe& a, const fe& b) noexcept
{
    fe s{};
    u64 carry = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const u128 v = static_cast<u128>(a[i]) + b[i] + carry;
        s[i] = static_cast<u64>(v);
        carry = static_cast<u64>(v >> 64);
    }
    return reduce_once(s, carry);
}

fe sub(const fe& a, const fe& b) noexcept
{
    fe d{};
    const u64 mask = 0 - subtract(a, b, d);
    u64 carry = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const u128 v = static_cast<u128>(d[i]) + (p_limbs[i] & mask) + carry;
        d[i] = static_cast<u64>(v);
        carry = static_cast<u64>(v >> 64);
    }
    return d;
}

// Montgomery product a * b / 2^256 mod p (CIOS; -p^-1 mod 2^64 is 1 for this p).
fe mul(const fe& a, const fe& b) noexcept
{
    std::array<u64, 6> t{};
    for (std::size_t i = 0; i < 4; ++i) {
        u64 c = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const u128 v = static_cast<u128>(a[j]) * b[i] + t[j] + c;
            t[j] = static_cast<u64>(v);
            c = static_cast<u64>(v >> 64);
        }
        u128 v = static_cast<u128>(t[4]) + c;
        t[4] = static_cast<u64>(v);
        t[5] = static_cast<u64>(v >> 64);
        const u64 m = t[0];
        v = static_cast<u128>(m) * p_limbs[0] + t[0];
        c = static_cast<u64>(v >> 64);
        for (std::size_t j = 1; j < 4; ++j) {
            v = static_cast<u128>(m) * p_limbs[j] + t[j] + c;
            t[j - 1] = static_cast<u64>(v);
            c = static_cast<u64>(v >> 64);
        }
        v = static_cast<u128>(t[4]) + c;
        t[3] = static_cast<u64>(v);
        t[4] = t[5] + static_cast<u64>(v >> 64);
    }
    return reduce_once({t[0], t[1], t[2], t[3]}, t[4]);
}

// 2^512 mod p, by doubling 1 modulo p 512 times: to_montgomery(a) = mul(a, r2).
const fe& r2() noexcept
{
    static const fe value = [] {
        fe v{1, 0, 0, 0};
        for (int i = 0; i < 512; ++i) {
            v = add(v, v);
        }
        return v;
    }();
    return value;
}

fe to_montgomery(const fe& a) noexcept
{
    return mul(a, r2());
}

fe from_montgomery(const fe& a) noexcept
{
    return mul(a, fe{1, 0, 0, 0});
}

// a^(p-2) = 1/a (Fermat); the exponent is public.
fe invert(const fe& a) noexcept
{
    fe exponent{};
    static_cast<void>(subtract(p_limbs, fe{2, 0, 0, 0}, exponent));
    fe result = to_montgomery(fe{1, 0, 0, 0});
    for (int bit = 255; bit >= 0; --bit) {
        result = mul(result, result);
        if ((exponent[static_cast<std::size_t>(bit) / 64] >> (bit % 64)) & 1U) {
            result = mul(result, a);
        }
    }
    return result;
}

struct point
{
    fe x, y, z; // projective, Montgomery form
};

// Complete addition for a = -3 (Renes, Costello, Batina 2016, algorithm 4): also doubles, and
// handles the point at infinity (0 : 1 : 0).
point add(const point& l, const point& r, const fe& b) noexcept
{
    const fe xx = mul(l.x, r.x);
    const fe yy = mul(l.y, r.y);
    const fe zz = mul(l.z, r.z);
    const fe xy_pairs = sub(mul(add(l.x, l.y), add(r.x, r.y)), add(xx, yy));
    const fe yz_pairs = sub(mul(add(l.y, l.z), add(r.y, r.z)), add(yy, zz));
    const fe xz_pairs = sub(mul(add(l.x, l.z), add(r.x, r.z)), add(xx, zz));
    const fe bzz_part = sub(xz_pairs, mul(b, zz));
    const fe bzz3_part = add(add(bzz_part, bzz_part), bzz_part);
    const fe yy_m_bzz3 = sub(yy, bzz3_part);
    const fe yy_p_bzz3 = add(yy, bzz3_part);
    const fe zz3 = add(add(zz, zz), zz);
    const fe bxz_part = sub(mul(b, xz_pairs), add(zz3, xx));
    const fe bxz3_part = add(add(bxz_part, bxz_part), bxz_part);
    const fe xx3_m_zz3 = sub(add(add(xx, xx), xx), zz3);
    return {
        sub(mul(yy_p_bzz3, xy_pairs), mul(yz_pairs, bxz3_part)),
        add(mul(yy_p_bzz3, yy_m_bzz3), mul(xx3_m_zz3, bxz3_part)),
        add(mul(yy_m_bzz3, yz_pairs), mul(xy_pairs, xx3_m_zz3)),
    };
}

bool is_zero(const fe& a) noexcept
{
    return (a[0] | a[1] | a[2] | a[3]) == 0;
}

const fe& curve_b() noexcept
{
    static const fe value =
        to_montgomery(from_bytes("\x5a\xc6\x35\xd8\xaa\x3a\x93\xe7\xb3\xeb\xbd\x55\x76\x98\x86\xbc"
                                 "\x65\x1d\x06\xb0\xcc\x53\xb0\xf6\x3b\xce\x3c\x3e\x27\xd2\x60\x4b")
        );
    return value;
}

bool below(const fe& a, const fe& limit) noexcept
{
    fe ignored{};
    return subtract(a, limit, ignored) == 1;
}

// The affine point of an uncompressed encoding, in Montgomery form, when it lies on the curve
// (y^2 = x^3 - 3x + b) with both coordinates below p.
std::optional<point> decode_point(std::string_view encoded)
{
    if (encoded.size() != 65 || encoded[0] != '\x04') {
        return std::nullopt;
    }
    const fe x = from_bytes(encoded.substr(1, 32));
    const fe y = from_bytes(encoded.substr(33, 32));
    if (!below(x, p_limbs) || !below(y, p_limbs)) {
        return std::nullopt;
    }
    const fe mx = to_montgomery(x);
    const fe my = to_montgomery(y);
    const fe rhs = add(sub(mul(mul(mx, mx), mx), add(add(mx, mx), mx)), curve_b());
    const fe lhs = mul(my, my);
    if (lhs != rhs) {
        return std::nullopt;
    }
    return point{mx, my, to_montgomery(fe{1, 0, 0, 0})};
}

// scalar * p, or nothing for a scalar that is not in [1, n).
std::optional<point> multiply(std::string_view scalar, const point& p)
{
    if (scalar.size() != 32) {
        return std::nullopt;
    }
    const fe d = from_bytes(scalar);
    if (is_zero(d) || !below(d, order)) {
        return std::nullopt;
    }
    const fe& b = curve_b();
    point r{fe{}, to_montgomery(fe{1, 0, 0, 0}), fe{}}; // the point at infinity
    for (int bit = 255; bit >= 0; --bit) {
        r = add(r, r, b);
        const point sum = add(r, p, b);
        const u64 mask = 0 - ((d[static_cast<std::size_t>(bit) / 64] >> (bit % 64)) & 1U);
        r = {select(mask, sum.x, r.x), select(mask, sum.y, r.y), select(mask, sum.z, r.z)};
    }
    if (is_zero(r.z)) {
        return std::nullopt;
    }
    return r;
}

std::string encode(const point& p)
{
    const fe z_inverse = invert(p.z);
    std::string out(1, '\x04');
    to_bytes(from_montgomery(mul(p.x, z_inverse)), out);
    to_bytes(from_montgomery(mul(p.y, z_inverse)), out);
    return out;
}

} // namespace

std::optional<std::string> p256_base_mult(std::string_view scalar)
{
    static const point g =
        *decode_point("\x04\x6b\x17\xd1\xf2\xe1\x2c\x42\x47\xf8\xbc\xe6\xe5\x63\xa4\x40\xf2"
                      "\x77\x03\x7d\x81\x2d\xeb\x33\xa0\xf4\xa1\x39\x45\xd8\x98\xc2\x96"
                      "\x4f\xe3\x42\xe2\xfe\x1a\x7f\x9b\x8e\xe7\xeb\x4a\x7c\x0f\x9e\x16"
                      "\x2b\xce\x33\x57\x6b\x31\x5e\xce\xcb\xb6\x40\x68\x37\xbf\x51\xf5");
    const auto r = multiply(scalar, g);
    return r ? std::optional<std::string>{encode(*r)} : std::nullopt;
}

std::optional<std::string> p256_ecdh_x(std::string_view scalar, std::string_view peer_point)
{
    const auto peer = decode_point(peer_point);
    const auto r = peer ? multiply(scalar, *peer) : std::nullopt;
    if (!r) {
        return std::nullopt;
    }
    return encode(*r).substr(1, 32);
}

} // namespace certfleet::deploy
