#pragma once
// Problem documents (RFC 7807, RFC 8555 6.7): what an ACME server says when a request fails,
// and the "error" member of orders, authorizations and challenges. The text in a problem came
// from the server: keep it apart from ours and log it only through summary(), which escapes it.
//
// This header also holds, in namespace detail, the untrusted-JSON readers shared by the acme
// codecs (problem, directory, objects, ari). They are not part of the module's interface.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::acme {

// RFC 8555 6.7.1: one problem per identifier of a request that failed for several reasons.
struct subproblem
{
    std::string type; // full URN, e.g. "urn:ietf:params:acme:error:rejectedIdentifier"
    std::string detail;
    std::string identifier_type; // empty when the subproblem names no identifier
    std::string identifier_value;
};

struct problem
{
    std::string type; // full URN, or "about:blank" (RFC 7807 3.1) when the server gave none
    std::string detail;
    int status = 0; // the HTTP status of the response; 0 for an embedded "error" member
    std::vector<subproblem> subproblems;
    std::optional<std::chrono::seconds>
        retry_after; // filled from the response header by the caller

    // True when type is "urn:ietf:params:acme:error:" + acme_type (RFC 8555 6.7), e.g.
    // is("badNonce"); a full URN is compared as is.
    [[nodiscard]] bool is(std::string_view acme_type) const noexcept;

    // One line for humans: the type's short name, the HTTP status when known, the detail, then
    // each subproblem as "identifier: type: detail", separated by "; ". Control characters
    // (C0, DEL, C1), line and paragraph separators and bidirectional overrides are escaped as
    // \xNN or \uNNNN, invalid UTF-8 bytes as \xNN; backslashes are left as they are (the line
    // is for reading, not for unescaping). At most 8 KiB, cut with "...".
    [[nodiscard]] std::string summary() const;
};

// The short name of a problem type that is an ACME error type registered by RFC 8555 6.7 or a
// later RFC ("badNonce" for "urn:ietf:params:acme:error:badNonce"), else "other": a label from a
// fixed set, for metrics.
[[nodiscard]] std::string_view registered_short_type(std::string_view type) noexcept;

// Reads a response body as a problem document.
// - Status >= 400: always a problem. A JSON object is read leniently (a member of the wrong
//   type is ignored, long strings are cut, at most 100 subproblems are kept); a missing type is
//   "about:blank" (RFC 7807 3.1). A body that is not a JSON object (HTML, text, empty, too
//   deep) gives type "about:blank" whose detail is the body's first 256 bytes, escaped.
// - Status < 400 (or 0): a problem only when the body is a JSON object whose type is an ACME
//   error URN; otherwise nullopt (a success body is not an error).
// status is the HTTP status when non-zero, else the document's own "status" member.
[[nodiscard]] std::optional<problem>
parse_problem(std::string_view body, unsigned http_status) noexcept;

namespace detail {

// Bounds on anything an ACME server sends us.
inline constexpr std::size_t max_body_size = std::size_t{1024} * 1024;
inline constexpr std::size_t max_nesting = 64;
inline constexpr std::size_t max_string_size = std::size_t{64} * 1024;

// True when no array or object in text nests deeper than limit. A linear scan that skips
// string contents; run before parsing so that nothing downstream recurses without bound.
[[nodiscard]] bool nesting_within(std::string_view text, std::size_t limit) noexcept;

// Parses an untrusted body that must be a JSON object. Errors: value_too_large (body past
// max_body_size or nesting past max_nesting), malformed_response (not JSON, not an object).
[[nodiscard]] boost::system::result<nlohmann::json> parse_object(std::string_view body) noexcept;

// An absolute http:// or https:// URL (scheme in any case) with a non-empty host, made of
// printable ASCII characters that may appear in a URI.
[[nodiscard]] bool is_http_url(std::string_view s) noexcept;

enum class presence
{
    optional, // absent or null: nothing
    required, // absent or null: missing_field
};
enum class content
{
    text,     // any string of at most max_string_size bytes
    http_url, // is_http_url()
};

// Member `key` of object obj, checked to have type `type`; nullptr when optional and absent.
// Errors: missing_field, malformed_response (wrong type).
[[nodiscard]] boost::system::result<const nlohmann::json*> member(
    const nlohmann::json& obj, std::string_view key, nlohmann::json::value_t type, presence p
) noexcept;

// A string member. Errors as member(), plus value_too_large (longer than max_string_size) and
// malformed_response (empty when required, or not an URL when c is http_url).
[[nodiscard]] boost::system::result<std::optional<std::string>> string_member(
    const nlohmann::json& obj, std::string_view key, presence p, content c = content::text
) noexcept;

// An array of strings (each checked as string_member checks); an absent optional array is
// empty. Errors as string_member, plus value_too_large past max_items elements.
[[nodiscard]] boost::system::result<std::vector<std::string>> string_array_member(
    const nlohmann::json& obj,
    std::string_view key,
    std::size_t max_items,
    presence p,
    content c = content::text
) noexcept;

// A problem document already parsed into a JSON object, read leniently (see parse_problem).
[[nodiscard]] problem problem_from_json(const nlohmann::json& obj, unsigned http_status) noexcept;

} // namespace detail
} // namespace certfleet::acme
