// The parts of the deploy module that only the Linux agent has yet, as honest refusals: the files
// target (POSIX owners and modes) and the verification probe.
#include "deploy/errc.hpp"
#include "deploy/files_target.hpp"
#include "deploy/probe.hpp"

namespace certfleet::deploy {

target_result apply_files_target(const bundle&, const target_context&)
{
    return {
        .ok = false,
        .stage = "options",
        .message = "the files target runs on Linux agents; on Windows use exec or rras",
    };
}

probe_result run_probe(const probe_request& request)
{
    probe_address_result a;
    a.address = request.host;
    a.failure = errc::probe_connect_failed;
    a.error = "this Windows agent cannot probe endpoints yet";
    return judge(request, {std::move(a)});
}

} // namespace certfleet::deploy
