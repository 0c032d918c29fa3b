#pragma once
// UTF-8 (the agent's strings) to and from UTF-16 (Windows' wide API).

#include <string>
#include <string_view>

namespace certfleet::deploy {

[[nodiscard]] std::wstring widen(std::string_view utf8);
[[nodiscard]] std::string narrow(std::wstring_view utf16);

} // namespace certfleet::deploy
