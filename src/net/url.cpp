#include "net/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "net/errc.hpp"

namespace certfleet::net {
namespace {

constexpr std::size_t max_url_length = 8192;
constexpr std::size_t max_host_length = 253;
constexpr std::size_t max_label_length = 63;

char to_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

bool is_alpha(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

// Letters, digits, '-' and '_' in dot-separated labels of 1..63 bytes; no empty label, so
// neither a leading nor a trailing dot.
bool valid_host_name(std::string_view host) noexcept
{
    if (host.empty() || host.size() > max_host_length) {
        return false;
    }
    std::size_t label = 0;
    for (const char c : host) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') {
            return false;
        }
        if (++label > max_label_length) {
            return false;
        }
    }
    return label != 0;
}

bool valid_ipv6(const std::string& host) noexcept
{
    in6_addr addr{};
    return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

bool valid_ipv4(const std::string& host) noexcept
{
    in_addr addr{};
    return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
bool has_scheme(std::string_view ref) noexcept
{
    if (ref.empty() || !is_alpha(ref.front())) {
        return false;
    }
    for (const char c : ref) {
        if (c == ':') {
            return true;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
            return false;
        }
    }
    return false;
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept
{
    return s.substr(0, prefix.size()) == prefix;
}

void remove_last_segment(std::string& output)
{
    const auto slash = output.rfind('/');
    output.erase(slash == std::string::npos ? 0 : slash);
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view path)
{
    std::string input(path);
    std::string output;
    while (!input.empty()) {
        if (starts_with(input, "../")) {
            input.erase(0, 3);
        } else if (starts_with(input, "./") || starts_with(input, "/./")) {
            input.erase(0, 2);
        } else if (input == "/.") {
            input = "/";
        } else if (starts_with(input, "/../")) {
            input.erase(0, 3);
            remove_last_segment(output);
        } else if (input == "/..") {
            input = "/";
            remove_last_segment(output);
        } else if (input == "." || input == "..") {
            input.clear();
        } else {
            const auto end = input.find('/', 1);
            const auto n = end == std::string::npos ? input.size() : end;
            output.append(input, 0, n);
            input.erase(0, n);
        }
    }
    return output;
}

// Splits "path?query#fragment" at the first '?' or '#', normalises the path's dot segments
// and joins it back with the rest.
std::string normalise_target(std::string_view target)
{
    const auto end = target.find_first_of("?#");
    const auto path = target.substr(0, end);
    auto out = remove_dot_segments(path);
    if (end != std::string_view::npos) {
        out.append(target.substr(end));
    }
    return out;
}

// No whitespace, control or non-ASCII byte anywhere (RFC 3986 §2).
bool printable_ascii(std::string_view text) noexcept
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f;
    });
}

// RFC 3986 §3.2.3; an empty port ("host:") means the default, which out already holds.
bool parse_port(std::string_view text, std::uint16_t& port) noexcept
{
    if (text.empty()) {
        return true;
    }
    if (text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit)) {
        return false;
    }
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value == 0 || value > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

// host [ ":" port ], where host is a name or a bracketed IPv6 literal; no userinfo (§3.2.1).
bool parse_authority(std::string_view authority, url& out)
{
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return false;
    }
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return false;
        }
        out.host = lower(authority.substr(1, close - 1));
        if (out.host.find('%') != std::string::npos || !valid_ipv6(out.host)) {
            return false; // zone identifiers are not sent (RFC 6874 is not for HTTP clients)
        }
        const auto after = authority.substr(close + 1);
        if (after.empty()) {
            return true;
        }
        return after.front() == ':' && parse_port(after.substr(1), out.port);
    }
    const auto colon = authority.find(':');
    out.host = lower(authority.substr(0, colon));
    if (!valid_host_name(out.host)) {
        return false;
    }
    return colon == std::string_view::npos || parse_port(authority.substr(colon + 1), out.port);
}

} // namespace

std::string url::host_header() const
{
    std::string out = host.find(':') == std::string::npos ? host : "[" + host + "]";
    const std::uint16_t default_port = scheme == "https" ? 443 : 80;
    if (port != default_port) {
        out += ':';
        out += std::to_string(port);
    }
    return out;
}

std::string url::origin() const
{
    std::string out = scheme + "://";
    out += host.find(':') == std::string::npos ? host : "[" + host + "]";
    out += ':';
    out += std::to_string(port);
    return out;
}

bool url::host_is_ip_literal() const
{
    return valid_ipv4(host) || valid_ipv6(host);
}

bool url::host_is_loopback() const
{
    if (host == "localhost") {
        return true;
    }
    if (valid_ipv4(host)) {
        return host.starts_with("127."); // inet_pton takes only the dotted-decimal form
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
        return false;
    }
    const auto* bytes = static_cast<const unsigned char*>(v6.s6_addr);
    return std::all_of(bytes, bytes + 15, [](unsigned char b) { return b == 0; }) && bytes[15] == 1;
}

boost::system::result<url> parse_url(std::string_view text) noexcept
{
    try {
        if (text.empty() || text.size() > max_url_length || !printable_ascii(text)) {
            return errc::bad_url;
        }
        const auto scheme_end = text.find("://");
        if (scheme_end == std::string_view::npos) {
            return errc::bad_url;
        }
        url out;
        out.scheme = lower(text.substr(0, scheme_end));
        if (out.scheme != "http" && out.scheme != "https") {
            return errc::bad_url;
        }
        const auto rest = text.substr(scheme_end + 3);
        const auto authority_end = rest.find_first_of("/?#");
        auto remainder = authority_end == std::string_view::npos ? std::string_view{}
                                                                 : rest.substr(authority_end);
        out.port = out.scheme == "https" ? 443 : 80;
        if (!parse_authority(rest.substr(0, authority_end), out)) {
            return errc::bad_url;
        }
        // The fragment is never sent (RFC 9110 §7.1).
        remainder = remainder.substr(0, remainder.find('#'));
        if (remainder.empty() || remainder.front() == '?') {
            out.target = "/";
        }
        out.target.append(remainder);
        return out;
    } catch (const std::bad_alloc&) {
        return boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
    }
}

std::string resolve_reference(std::string_view base, std::string_view reference)
{
    if (has_scheme(reference)) {
        return std::string(reference);
    }
    const auto scheme_end = base.find("://");
    if (scheme_end == std::string_view::npos) {
        return std::string(reference);
    }
    if (starts_with(reference, "//")) {
        return std::string(base.substr(0, scheme_end + 1)).append(reference);
    }
    const auto origin_end = base.find_first_of("/?#", scheme_end + 3);
    const auto origin = base.substr(0, origin_end);
    auto base_rest =
        origin_end == std::string_view::npos ? std::string_view{} : base.substr(origin_end);
    base_rest = base_rest.substr(0, base_rest.find('#'));
    auto base_path = base_rest.substr(0, base_rest.find('?'));
    if (base_path.empty()) {
        base_path = "/";
    }

    std::string out(origin);
    if (reference.empty()) {
        out.append(base_rest.empty() ? std::string_view("/") : base_rest);
    } else if (reference.front() == '#') {
        out.append(base_rest.empty() ? std::string_view("/") : base_rest);
        out.append(reference);
    } else if (reference.front() == '?') {
        out.append(base_path);
        out.append(reference);
    } else if (reference.front() == '/') {
        out.append(normalise_target(reference));
    } else {
        // RFC 3986 §5.2.3: merge with everything up to the last '/' of the base path.
        std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
        merged.append(reference);
        out.append(normalise_target(merged));
    }
    return out;
}

} // namespace certfleet::net
