#include "deploy/errc.hpp"

#include "core/error_category.hpp"

namespace certfleet::deploy {
namespace {

const char* describe(errc e) noexcept
{
    switch (e) {
    case errc::invalid_window:
        return "invalid deployment window";
    case errc::unknown_time_zone:
        return "unknown time zone";
    case errc::malformed_bundle:
        return "malformed bundle";
    case errc::bad_signature:
        return "bundle signature does not verify with the pinned signing key";
    case errc::wrong_agent:
        return "bundle made for another agent";
    case errc::replayed_bundle:
        return "bundle older than the one deployed";
    case errc::unseal_failed:
        return "sealed secrets do not open with this agent's key";
    case errc::crypto_failure:
        return "cryptographic operation failed";
    case errc::invalid_target_options:
        return "invalid target options";
    case errc::target_failed:
        return "target failed";
    case errc::process_failed:
        return "program could not be run";
    case errc::process_timeout:
        return "program timed out";
    case errc::probe_connect_failed:
        return "could not connect to the endpoint";
    case errc::probe_tls_failed:
        return "TLS handshake with the endpoint failed";
    case errc::probe_mismatch:
        return "endpoint serves another certificate";
    case errc::sstp_refused:
        return "SSTP not answering";
    case errc::enrollment_refused:
        return "enrollment refused";
    case errc::pin_mismatch:
        return "server does not match the pinned fingerprint";
    case errc::unauthorized:
        return "request not authenticated as an enabled agent";
    case errc::protocol_error:
        return "agent protocol error";
    case errc::not_enrolled:
        return "this agent is not enrolled";
    case errc::state_corrupt:
        return "the agent's state file is unreadable";
    }
    return "unknown deploy error";
}

} // namespace

const boost::system::error_category& deploy_category() noexcept
{
    static const core::enum_category<errc> instance("certfleet.deploy", describe);
    return instance;
}

} // namespace certfleet::deploy
