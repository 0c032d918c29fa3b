#include "core/caa_policy.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace certfleet::core {
namespace {

// RFC 8659 4.1: the Issuer Critical Flag is bit 0, the most significant bit (value 128). The
// other bits are reserved and must be ignored.
constexpr std::uint8_t critical_flag = 0x80;
// Enough records in a reason for a human to see the picture; the rest are counted.
constexpr std::size_t max_records_in_reason = 4;

constexpr char ascii_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

bool is_wsp(char c) noexcept
{
    return c == ' ' || c == '\t';
} // WSP of RFC 5234

std::string_view trim_wsp(std::string_view s) noexcept
{
    while (!s.empty() && is_wsp(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_wsp(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

bool is_alnum(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)), also the grammar of a parameter's tag
// (RFC 8659 4.2).
bool is_label(std::string_view s) noexcept
{
    return !s.empty() && is_alnum(s.front()) && is_alnum(s.back()) &&
           std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// issuer-domain-name = label *("." label): no final dot.
bool is_issuer_domain_name(std::string_view s) noexcept
{
    for (;;) {
        const auto dot = s.find('.');
        if (!is_label(s.substr(0, dot))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        s.remove_prefix(dot + 1);
    }
}

// value = *(%x21-3A / %x3C-7E): visible ASCII except ';'.
bool is_parameter_value(std::string_view s) noexcept
{
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x21 && u <= 0x7e && c != ';';
    });
}

struct parameter
{
    std::string_view tag;
    std::string_view value;
};

struct issue_value
{
    bool well_formed = false;
    std::string_view domain; // empty: the property names no CA
    std::vector<parameter> parameters;
};

// issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
// parameters  = (parameter *WSP ";" *WSP parameters) / parameter
// parameter   = tag *WSP "=" *WSP value                                      (RFC 8659 4.2)
issue_value parse_issue_value(std::string_view text) noexcept
{
    issue_value out;
    const auto semicolon = text.find(';');
    const auto domain = trim_wsp(text.substr(0, semicolon));
    if (!domain.empty() && !is_issuer_domain_name(domain)) {
        return out;
    }
    if (semicolon != std::string_view::npos) {
        auto rest = trim_wsp(text.substr(semicolon + 1));
        while (!rest.empty()) {
            const auto next = rest.find(';');
            const auto item = trim_wsp(rest.substr(0, next));
            const auto equals = item.find('=');
            if (equals == std::string_view::npos) {
                return out;
            }
            const parameter p{trim_wsp(item.substr(0, equals)), trim_wsp(item.substr(equals + 1))};
            if (!is_label(p.tag) || !is_parameter_value(p.value)) {
                return out;
            }
            out.parameters.push_back(p);
            if (next == std::string_view::npos) {
                break;
            }
            rest = trim_wsp(rest.substr(next + 1));
            if (rest.empty()) {
                return out; // a ';' after a parameter must introduce another one
            }
        }
    }
    out.domain = domain;
    out.well_formed = true;
    return out;
}

// Why one property does or does not authorize the request.
enum class property_outcome
{
    authorizes,
    malformed,        // does not match the grammar: treated as naming no CA (RFC 8659 4.2)
    names_no_ca,      // `;`: no CA may issue
    other_ca,         // names another CA
    unsatisfiable,    // names this CA, with parameters no request can meet (RFC 8657 3, 4)
    account_mismatch, // names this CA for another ACME account (RFC 8657 3)
    method_mismatch,  // names this CA for other validation methods (RFC 8657 4)
};

struct property_check
{
    property_outcome outcome = property_outcome::malformed;
    std::string_view parameter_value; // the accounturi or validationmethods that did not match
};

// validationmethods value = [*(label ",") label], label = 1*(ALPHA / DIGIT / "-") (RFC 8657 4).
// An empty list names no method; anything else off the grammar is not well formed.
struct method_list_match
{
    bool well_formed = false;
    bool contains = false;
};

method_list_match match_method_list(std::string_view list, std::string_view method) noexcept
{
    method_list_match m;
    if (list.empty()) {
        return {true, false};
    }
    for (;;) {
        const auto comma = list.find(',');
        const auto label = list.substr(0, comma);
        if (label.empty() || !std::all_of(label.begin(), label.end(), [](char c) {
                return is_alnum(c) || c == '-';
            })) {
            return {};
        }
        m.contains = m.contains || label == method;
        if (comma == std::string_view::npos) {
            m.well_formed = true;
            return m;
        }
        list.remove_prefix(comma + 1);
    }
}

bool names_ca(std::string_view domain, const std::vector<std::string>& ca_domains) noexcept
{
    return std::any_of(ca_domains.begin(), ca_domains.end(), [&](const std::string& ca) {
        std::string_view c = ca;
        if (!c.empty() && c.back() == '.') {
            c.remove_suffix(1);
        }
        return iequals(domain, c);
    });
}

property_check check_property(const caa_record& record, const caa_request& request) noexcept
{
    const auto value = parse_issue_value(record.value);
    if (!value.well_formed) {
        return {property_outcome::malformed, {}};
    }
    if (value.domain.empty()) {
        return {property_outcome::names_no_ca, {}};
    }
    if (!names_ca(value.domain, request.ca_domains)) {
        return {property_outcome::other_ca, {}};
    }
    const parameter* account = nullptr;
    const parameter* methods = nullptr;
    for (const auto& p : value.parameters) {
        // Parameters the CA does not define are the CA's business; only these two restrict.
        const parameter** slot = iequals(p.tag, "accounturi")          ? &account
                                 : iequals(p.tag, "validationmethods") ? &methods
                                                                       : nullptr;
        if (slot == nullptr) {
            continue;
        }
        if (*slot != nullptr) {
            return {property_outcome::unsatisfiable, p.value}; // twice (RFC 8657 3, 4)
        }
        *slot = &p;
    }
    if (account != nullptr && account->value != request.account_uri) {
        // An exact match only (RFC 8657 3); an account not known yet cannot match.
        return {property_outcome::account_mismatch, account->value};
    }
    if (methods != nullptr) {
        const auto m = match_method_list(methods->value, request.validation_method);
        if (!m.well_formed) {
            return {property_outcome::unsatisfiable, methods->value};
        }
        if (!m.contains) {
            return {property_outcome::method_mismatch, methods->value};
        }
    }
    return {property_outcome::authorizes, {}};
}

bool is_known_tag(std::string_view tag) noexcept
{
    // The properties RFC 8659 4.2-4.4 defines. Tags compare case-insensitively.
    return iequals(tag, "issue") || iequals(tag, "issuewild") || iequals(tag, "iodef");
}

// A space is escaped only outside quotes (the tag), where it would end the field.
void append_escaped(std::string& out, std::string_view bytes, bool quoted_field) noexcept
{
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u > 0x7e || (c == ' ' && !quoted_field)) {
            // \DDD, as in a zone file (RFC 1035 5.1)
            out.push_back('\\');
            out.push_back(static_cast<char>('0' + u / 100));
            out.push_back(static_cast<char>('0' + u / 10 % 10));
            out.push_back(static_cast<char>('0' + u % 10));
        } else {
            out.push_back(c);
        }
    }
}

std::string quoted(const caa_record& record) noexcept
{
    return "`" + to_text(record) + "`";
}

std::string list_records(const std::vector<const caa_record*>& records) noexcept
{
    std::string out;
    for (std::size_t i = 0; i < records.size() && i < max_records_in_reason; ++i) {
        out += (i == 0 ? "" : ", ") + quoted(*records[i]);
    }
    if (records.size() > max_records_in_reason) {
        out += " and " + std::to_string(records.size() - max_records_in_reason) + " more";
    }
    return out;
}

// The property to add so that this CA may issue: `0 issue "ca.example"`.
std::string suggestion(std::string_view tag, const caa_request& request) noexcept
{
    std::string ca = request.ca_domains.front();
    if (!ca.empty() && ca.back() == '.') {
        ca.pop_back();
    }
    caa_record wanted{0, std::string(tag), ca};
    return quoted(wanted);
}

caa_verdict refuse_one(
    const caa_record& record,
    const property_check& check,
    std::string_view tag,
    const caa_request& request
) noexcept
{
    const auto shown = quoted(record);
    const std::string value(check.parameter_value);
    switch (check.outcome) {
    case property_outcome::account_mismatch:
        return {
            false,
            "CAA record " + shown + " authorizes this CA only for the ACME account " + value +
                (request.account_uri.empty()
                     ? ", and the account of this order is not known yet (RFC 8657 3): register "
                       "the account, then check again"
                     : ", not for " + request.account_uri +
                           " (RFC 8657 3): set its accounturi to this account, or add a record "
                           "for it")};
    case property_outcome::method_mismatch:
        return {
            false, "CAA record " + shown + " authorizes this CA only for the validation methods " +
                       value + ", not " + request.validation_method + " (RFC 8657 4): add " +
                       request.validation_method + " to its validationmethods"};
    case property_outcome::unsatisfiable:
        return {
            false, "CAA record " + shown +
                       " names this CA with a repeated or malformed accounturi or "
                       "validationmethods parameter, which no request can meet (RFC 8657 3, 4): "
                       "fix the record"};
    default:
        return {
            false,
            "CAA record " + shown + " does not authorize this CA: add " + suggestion(tag, request)};
    }
}

// Every property refused; says why, starting with the one that comes closest (it names this CA).
caa_verdict refuse(
    const std::vector<const caa_record*>& properties,
    const std::vector<property_check>& checks,
    std::string_view tag,
    const caa_request& request
) noexcept
{
    for (std::size_t i = 0; i < properties.size(); ++i) {
        const auto o = checks[i].outcome;
        if (o == property_outcome::account_mismatch || o == property_outcome::method_mismatch ||
            o == property_outcome::unsatisfiable) {
            return refuse_one(*properties[i], checks[i], tag, request);
        }
    }
    std::vector<const caa_record*> others;
    std::vector<const caa_record*> forbidding;
    for (std::size_t i = 0; i < properties.size(); ++i) {
        (checks[i].outcome == property_outcome::other_ca ? others : forbidding)
            .push_back(properties[i]);
    }
    std::string reason;
    if (!others.empty()) {
        reason = "CAA authorizes only other CAs (" + list_records(others) + ")";
    }
    if (!forbidding.empty()) {
        reason += std::string(reason.empty() ? "CAA " : "; ") + list_records(forbidding) +
                  " forbid" + (forbidding.size() == 1 ? "s" : "") +
                  " issuance by every CA (an empty or malformed issuer domain name, RFC 8659 "
                  "4.2)";
    }
    std::string ca;
    for (const auto& d : request.ca_domains) {
        ca += (ca.empty() ? "" : ", ") + d;
    }
    // Authorizations add up (RFC 8659 4.2): one more property is enough, even beside `;`.
    return {
        false,
        reason + ": this CA is " + ca + "; to let it issue, add " + suggestion(tag, request)};
}

} // namespace

std::string to_text(const caa_record& record) noexcept
{
    std::string out = std::to_string(record.flags) + " ";
    append_escaped(out, record.tag, false);
    out += " \"";
    append_escaped(out, record.value, true);
    out += '"';
    return out;
}

caa_verdict
evaluate_caa(const std::vector<caa_record>& relevant_set, const caa_request& request) noexcept
{
    if (relevant_set.empty()) {
        return {true, "no CAA records: any CA may issue (RFC 8659 3)"};
    }
    std::vector<const caa_record*> issue;
    std::vector<const caa_record*> issuewild;
    for (const auto& r : relevant_set) {
        if (iequals(r.tag, "issue")) {
            issue.push_back(&r);
        } else if (iequals(r.tag, "issuewild")) {
            issuewild.push_back(&r);
        } else if ((r.flags & critical_flag) != 0 && !is_known_tag(r.tag)) {
            return {
                false, "CAA record " + quoted(r) +
                           " is critical and of a kind CAs do not know, so they must not issue "
                           "(RFC 8659 4.1): remove it or clear its critical flag (128)"};
        }
    }
    // issuewild replaces issue for a wildcard when there is any; otherwise it is ignored (RFC
    // 8659 4.3).
    const bool use_wild = request.wildcard && !issuewild.empty();
    const auto& properties = use_wild ? issuewild : issue;
    const std::string_view tag = use_wild ? "issuewild" : "issue";
    if (properties.empty()) {
        return {
            true, std::string("the CAA records hold no ") +
                      (request.wildcard ? "issue or issuewild" : "issue") +
                      " property, so they do not restrict issuance (RFC 8659 4)"};
    }
    if (request.ca_domains.empty()) {
        return {
            false, "CAA restricts issuance (" + list_records(properties) +
                       ") and the CA's CAA identities are not known: configure the CA's issuer "
                       "domain names (as in its directory's meta.caaIdentities), then check again"};
    }
    std::vector<property_check> checks;
    checks.reserve(properties.size());
    for (const auto* p : properties) {
        checks.push_back(check_property(*p, request));
        if (checks.back().outcome == property_outcome::authorizes) {
            return {true, "CAA record " + quoted(*p) + " authorizes this CA"};
        }
    }
    return refuse(properties, checks, tag, request);
}

} // namespace certfleet::core
