#pragma once
// Hex text to bytes for test vectors (RFC appendices print their values in hex). Whitespace is
// skipped so long values can be split across lines; anything else that is not a hex digit, or an
// odd count of digits, throws (vectors are often namespace-scope constants, built before any
// test runs, where a doctest assertion cannot be used).

#include <stdexcept>
#include <string>
#include <string_view>

namespace certfleet::test {

[[nodiscard]] inline std::string from_hex(std::string_view text)
{
    const auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::string out;
    int high = -1;
    for (const char c : text) {
        if (c == ' ' || c == '\n') {
            continue;
        }
        const int d = digit(c);
        if (d < 0) {
            throw std::invalid_argument("not a hex digit in a test vector");
        }
        if (high < 0) {
            high = d;
        } else {
            out.push_back(static_cast<char>(high * 16 + d));
            high = -1;
        }
    }
    if (high >= 0) {
        throw std::invalid_argument("odd number of hex digits in a test vector");
    }
    return out;
}

} // namespace certfleet::test
