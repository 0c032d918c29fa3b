#include "core/crypto/encoding.hpp"

#include <array>
#include <cstdint>

#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr std::string_view standard_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t invalid = 0xff;

constexpr std::array<std::uint8_t, 256> reverse(std::string_view alphabet)
{
    std::array<std::uint8_t, 256> table{};
    table.fill(invalid);
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    }
    return table;
}

constexpr auto standard_reverse = reverse(standard_alphabet);
constexpr auto url_reverse = reverse(url_alphabet);

std::string encode(std::string_view in, std::string_view alphabet, bool pad)
{
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) -> std::uint32_t {
        return static_cast<unsigned char>(in[k]);
    };
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = byte(i) << 16U | byte(i + 1) << 8U | byte(i + 2);
        out += alphabet[v >> 18U & 63U];
        out += alphabet[v >> 12U & 63U];
        out += alphabet[v >> 6U & 63U];
        out += alphabet[v & 63U];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 1) {
        const std::uint32_t v = byte(i) << 16U;
        out += alphabet[v >> 18U & 63U];
        out += alphabet[v >> 12U & 63U];
        if (pad) {
            out += "==";
        }
    } else if (rest == 2) {
        const std::uint32_t v = byte(i) << 16U | byte(i + 1) << 8U;
        out += alphabet[v >> 18U & 63U];
        out += alphabet[v >> 12U & 63U];
        out += alphabet[v >> 6U & 63U];
        if (pad) {
            out += '=';
        }
    }
    return out;
}

// Decodes unpadded text; `text.size() % 4 == 1` is impossible for any byte string.
boost::system::result<std::string>
decode_unpadded(std::string_view text, const std::array<std::uint8_t, 256>& table)
{
    if (text.size() % 4 == 1) {
        return errc::invalid_encoding;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (const char c : text) {
        const std::uint8_t v = table[static_cast<unsigned char>(c)];
        if (v == invalid) {
            return errc::invalid_encoding;
        }
        acc = (acc << 6U | v) & 0xffffffU;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(acc >> bits & 0xffU);
        }
    }
    // The bits left over must be zero: otherwise several texts would decode to the same bytes.
    if ((acc & ((1U << bits) - 1U)) != 0) {
        return errc::invalid_encoding;
    }
    return out;
}

} // namespace

std::string base64url_encode(std::string_view bytes)
{
    return encode(bytes, url_alphabet, false);
}

boost::system::result<std::string> base64url_decode(std::string_view text)
{
    return decode_unpadded(text, url_reverse);
}

std::string base64_encode(std::string_view bytes)
{
    return encode(bytes, standard_alphabet, true);
}

boost::system::result<std::string> base64_decode(std::string_view text)
{
    if (text.size() % 4 != 0) {
        return errc::invalid_encoding;
    }
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
        ++padding;
    }
    // A third '=' (or one in the middle) is left in the text and rejected as a foreign character.
    return decode_unpadded(text.substr(0, text.size() - padding), standard_reverse);
}

std::string to_hex(std::string_view bytes)
{
    constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4U];
        out += digits[b & 15U];
    }
    return out;
}

} // namespace certfleet::core
