#pragma once
// How a CLI command reaches certfleet's data: through the REST routes, either of a remote server
// (--server URL --token T, or CERTFLEET_SERVER / CERTFLEET_TOKEN) over HTTPS, or of the local
// store, in-process. Both answer with the same JSON, which the command prints the same way: a
// command behaves alike wherever it runs.

#include <CLI/CLI.hpp>
#include <boost/beast/http/verb.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace certfleet::app {

struct remote_options
{
    std::string server;         // https://host:8443; empty: the local store
    std::string token;          // the API token
    std::string ca_fingerprint; // SHA-256 of a self-signed server certificate to pin
    std::string ca_file;        // PEM bundle to trust instead of the system roots
};

// Registers --server, --token, --ca-fingerprint and --ca-file; the environment fills what is
// not given when the command runs (resolve_remote).
void add_remote_options(CLI::App& cmd, remote_options& o);

// Whether --server (or CERTFLEET_SERVER) names a server.
[[nodiscard]] bool remote_requested(const remote_options& o);

struct rest_reply
{
    unsigned status = 0; // 0: no answer (the message says why)
    nlohmann::json body; // parsed JSON, or null
    std::string text;    // the raw body
    std::string message; // for humans, when status is 0 or an error

    [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }
};

class rest_client
{
public:
    virtual ~rest_client() = default;
    [[nodiscard]] virtual rest_reply call(
        boost::beast::http::verb method,
        const std::string& target,
        const std::optional<nlohmann::json>& body = std::nullopt
    ) = 0;
    [[nodiscard]] virtual bool remote() const noexcept = 0;

    // Every item of a paginated list, following next_cursor. On failure, the failing reply.
    [[nodiscard]] std::optional<nlohmann::json>
    list_all(const std::string& target, rest_reply& failure);
};

// Runs `body` with a client. Exit codes as the commands': a configuration or start-up failure
// is reported here.
int with_rest(
    const std::string& config_file,
    const remote_options& remote,
    const std::function<int(rest_client&)>& body
);

// Prints the reply's error for humans and returns the exit code it means: 2 for a request the
// caller must change (400, 404, 409, 422), 1 otherwise.
int report_failure(const rest_reply& reply);

// A path segment, percent-encoded (RFC 3986 unreserved characters stay as they are).
[[nodiscard]] std::string url_segment(std::string_view text);

// The "certfleet: ..." line of an error reply (its message), without printing.
[[nodiscard]] std::string failure_text(const rest_reply& reply);

} // namespace certfleet::app
