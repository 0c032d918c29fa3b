#include "app/log.hpp"

#include <date/date.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace certfleet::app {
namespace {
std::atomic<level> minimum{level::info};
std::mutex output;
std::atomic<std::FILE*> sink{nullptr};

const char* name(level l) noexcept
{
    switch (l) {
    case level::debug:
        return "debug";
    case level::info:
        return "info";
    case level::warn:
        return "warn";
    case level::error:
        return "error";
    }
    return "?";
}
} // namespace

void set_log_level(level min) noexcept
{
    minimum = min;
}

void set_log_output(std::FILE* out) noexcept
{
    sink = out;
}

void log(level l, std::string_view message)
{
    if (l < minimum.load()) {
        return;
    }
    const auto stamp = date::format(
        "%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now())
    );
    std::lock_guard lock(output);
    std::FILE* out = sink.load();
    std::fprintf(
        out != nullptr ? out : stderr, "%s %s %.*s\n", stamp.c_str(), name(l),
        static_cast<int>(message.size()), message.data()
    );
}

std::string escape(std::string_view untrusted)
{
    std::string out;
    out.reserve(untrusted.size());
    for (const char c : untrusted) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out.push_back(c);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xF]);
        }
    }
    return out;
}

} // namespace certfleet::app
