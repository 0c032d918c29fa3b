#pragma once
// dig (BIND) and kdig (Knot) as independent DNS clients in integration tests: runs them against
// a server on 127.0.0.1 and parses their text output (header, flags, EDNS pseudosection and the
// four sections) into one structure, so that a test reads the same fields from both tools.
//
// Both print several messages when they retry (over TCP after TC, or after BADVERS): the last
// message printed is the one parsed.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/rig.hpp"

namespace certfleet::test {

enum class dig_tool
{
    dig,
    kdig,
};

[[nodiscard]] std::string_view to_string(dig_tool tool) noexcept;

struct dig_record
{
    std::string owner; // as printed (dig keeps the letter case; kdig prints lower case)
    std::uint32_t ttl = 0;
    std::string klass;
    std::string type;
    std::string data; // the rest of the line, blanks collapsed to one space
};

struct dig_question
{
    std::string name;
    std::string klass;
    std::string type;
};

struct dig_output
{
    run_result process;  // exit code and the raw output, for messages
    bool parsed = false; // a message header was found
    std::string opcode;  // "QUERY", "NOTIFY"
    std::string status;  // "NOERROR", "NXDOMAIN", "BADVERS", "NOTIMP" (kdig says "NOTIMPL")
    std::uint16_t id = 0;
    std::set<std::string> flags; // "qr", "aa", "tc", "rd", "ra"
    std::optional<int> edns_version;
    std::optional<std::uint32_t> edns_udp_size;
    std::vector<dig_question> question;
    std::vector<dig_record> answer, authority, additional;

    [[nodiscard]] bool flag(std::string_view f) const { return flags.contains(std::string(f)); }
    // Records of one type in the answer section.
    [[nodiscard]] std::vector<dig_record> answers(std::string_view type) const;
    // TXT data of the answer section without the quotes, one string per record.
    [[nodiscard]] std::vector<std::string> txt_answers() const;
};

// Parses the output of dig or kdig (see the header comment).
[[nodiscard]] dig_output parse_dig_output(run_result process);

// Runs `tool @127.0.0.1 -p PORT args... +time/+timeout=2 +tries/+retry=1` (tries and timeout
// kept short so a missing answer fails fast) and parses its output. Throws rig_error when the
// tool is not installed.
[[nodiscard]] dig_output
run_dig(dig_tool tool, std::uint16_t port, const std::vector<std::string>& args);

} // namespace certfleet::test
