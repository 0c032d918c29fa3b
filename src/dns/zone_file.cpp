#include "dns/zone_file.hpp"

#include <charconv>
#include <optional>

#include "dns/rdata.hpp"

namespace certfleet::dns {
namespace {

std::string_view next_word(std::string_view& line)
{
    std::size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) {
        ++start;
    }
    std::size_t end = start;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') {
        ++end;
    }
    const auto word = line.substr(start, end - start);
    line.remove_prefix(end);
    return word;
}

std::optional<std::uint32_t> parse_ttl(std::string_view word)
{
    std::uint32_t v = 0;
    const auto* end = word.data() + word.size();
    auto [p, ec] = std::from_chars(word.data(), end, v);
    if (ec != std::errc{} || p != end) {
        return std::nullopt;
    }
    return v;
}

// Removes a `;` comment, leaving semicolons inside quoted strings alone.
std::string_view strip_comment(std::string_view line)
{
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\') {
            ++i;
        } else if (line[i] == '"') {
            quoted = !quoted;
        } else if (line[i] == ';' && !quoted) {
            return line.substr(0, i);
        }
    }
    return line;
}

// A parenthesis outside quoted strings: the start of a multi-line record.
bool has_unquoted_parenthesis(std::string_view line)
{
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\') {
            ++i;
        } else if (line[i] == '"') {
            quoted = !quoted;
        } else if (!quoted && (line[i] == '(' || line[i] == ')')) {
            return true;
        }
    }
    return false;
}

} // namespace

std::optional<zone_file_error> load_zone_file(
    std::string_view text,
    zone_builder& builder,
    std::uint32_t default_ttl,
    const zone_file_source& source
)
{
    // `word` in an error, when the source may be quoted.
    auto quote = [&](std::string_view word) {
        return source.quote_text ? " '" + std::string(word) + "'" : std::string();
    };
    std::string origin(builder.apex());
    std::string previous_owner = origin;
    std::uint32_t ttl = default_ttl;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto newline = text.find('\n');
        std::string_view line = strip_comment(text.substr(0, newline));
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        const bool continues_owner = !line.empty() && (line.front() == ' ' || line.front() == '\t');
        std::string_view rest = line;
        auto first = next_word(rest);
        if (first.empty()) {
            continue;
        }
        auto fail = [&](std::string what) { return zone_file_error{number, std::move(what)}; };
        if (first == "$TTL") {
            auto v = parse_ttl(next_word(rest));
            if (!v) {
                return fail("$TTL needs a number of seconds");
            }
            ttl = *v;
            continue;
        }
        if (first == "$ORIGIN") {
            auto o = resolve_name(next_word(rest), origin);
            if (!o) {
                return fail("$ORIGIN is not a valid name");
            }
            origin = *o;
            continue;
        }
        if (first.front() == '$' || has_unquoted_parenthesis(line)) {
            return fail("unsupported directive or multi-line record");
        }
        std::string owner;
        if (continues_owner) {
            owner = previous_owner;
            rest = line;
        } else {
            auto o = resolve_name(first, origin);
            if (!o) {
                return fail("owner" + quote(first) + " is not a valid name");
            }
            owner = *o;
        }
        std::uint32_t record_ttl = ttl;
        std::string_view word = next_word(rest);
        for (int i = 0; i < 2; ++i) {
            if (auto v = parse_ttl(word)) {
                record_ttl = *v;
                word = next_word(rest);
            } else if (word == "IN" || word == "in") {
                word = next_word(rest);
            }
        }
        const auto type = type_from_text(word);
        if (!type) {
            return fail("unsupported record type" + quote(word));
        }
        if (*type == rr_type::soa) {
            return fail("SOA comes from the zone's [soa] configuration, not from a records file");
        }
        auto rdata = encode_rdata(*type, rest, origin);
        if (!rdata) {
            return fail(
                "invalid " + std::string(type_to_text(*type)) + " data: " + rdata.error().message()
            );
        }
        if (source.place) {
            builder.set_place(source.place(number));
        }
        if (auto ec = builder.add_wire(owner, *type, record_ttl, std::move(*rdata))) {
            return fail("record outside the zone or not allowed here: " + ec.message());
        }
        previous_owner = std::move(owner);
    }
    return std::nullopt;
}

} // namespace certfleet::dns
