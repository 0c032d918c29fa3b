#pragma once
// Reads the recorded bodies in tests/data/acme (see the README there).

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace certfleet::acme::test {

inline std::string read_data(std::string_view name)
{
    const std::string path = std::string(CERTFLEET_TEST_DATA) + "/acme/" + std::string(name);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open test data " + path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// n opening brackets: a body nested n deep.
inline std::string deep_array(std::size_t n)
{
    return std::string(n, '[') + std::string(n, ']');
}

} // namespace certfleet::acme::test
