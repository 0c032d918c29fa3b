#pragma once
// Errors of the deploy module: windows, bundles, sealing, targets, the probe and the agent
// protocol. Text that came from the operator's programs or the server is kept beside the code
// (target_result::detail, probe_result), never folded into it.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace certfleet::deploy {

enum class errc
{
    // deployment windows
    invalid_window = 1, // not "DAYS HH:MM-HH:MM ZONE"
    unknown_time_zone,  // the zone is not in the IANA database

    // bundles and sealing
    malformed_bundle, // not a bundle: bad JSON, base64, missing or wrong-typed fields, truncated
    bad_signature,    // the manifest's signature does not verify with the pinned signing key
    wrong_agent,      // the bundle was made for another agent
    replayed_bundle,  // its version is older than (or the same as) the one already deployed
    unseal_failed,    // the sealed secrets do not open with this agent's key
    crypto_failure,   // a primitive failed (RNG, key generation)

    // targets and processes
    invalid_target_options, // a target's options are missing or wrong
    target_failed,          // the target ran and reported failure (detail says why)
    process_failed,         // a program could not be started, or was killed
    process_timeout,        // a program ran past its time limit and was killed

    // the probe
    probe_connect_failed, // no TCP connection to the endpoint
    probe_tls_failed,     // the TLS handshake failed
    probe_mismatch,       // the endpoint serves another certificate than expected
    sstp_refused,         // TLS works but SSTP_DUPLEX_POST got no 200

    // the agent protocol
    enrollment_refused, // unknown, used or expired join token
    pin_mismatch,       // the server's TLS certificate or signing key does not match the pin
    unauthorized,       // a request not signed by a known, enabled agent, or replayed
    protocol_error,     // a message that does not follow the agent protocol

    // the agent's state directory
    not_enrolled,  // no identity in the state directory: run `certfleet-agent enroll` first
    state_corrupt, // a state file cannot be read back (the message names the file)
};

[[nodiscard]] const boost::system::error_category& deploy_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), deploy_category()};
}

} // namespace certfleet::deploy

template <> struct boost::system::is_error_code_enum<certfleet::deploy::errc> : std::true_type
{};
