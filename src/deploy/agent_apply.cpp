// Applying staged bundles when agent_policy says so, and recording the outcome.
#include "core/atomic_file.hpp"
#include "deploy/agent.hpp"
#include "deploy/agent_support.hpp"
#include "deploy/bundle.hpp"

namespace certfleet::deploy {

using agent_detail::assignment_text;
using agent_detail::printable;

bool agent::apply_due()
{
    bool applied = false;
    auto& state = loaded_->state;
    const auto now = ports_.clock();
    for (auto& a : state.assignments) {
        const auto decision =
            decide_apply(a, state.openings, state.deploy_now, now, options_.failure_retry);
        if (decision.trigger != apply_trigger::none) {
            apply(a, decision);
            applied = true;
            if (const auto ec = save()) {
                log(log_level::error, "cannot save the agent's state: " + ec.message());
            }
        }
        // "Deploy now" is about what is staged at the time: acted on, applied or not.
        a.deploy_now_acted = state.deploy_now;
    }
    return applied;
}

void agent::apply(assignment_state& a, const apply_decision& decision)
{
    const auto version = *a.staged_version;
    const auto now = ports_.clock();
    log(decision.trigger == apply_trigger::expiry ? log_level::warn : log_level::info,
        assignment_text(a.id) + ": applying version " + std::to_string(version) + " (" +
            printable(a.target) + ") because " + decision.why);
    const auto& id = loaded_->identity;
    open_bundle_options options;
    options.agent = id.agent;
    options.agent_private_scalar = id.private_scalar.view();
    options.signing_public_point = id.signing_public_point;
    options.deployed_version = a.deployed_version;
    auto contents = open_bundle(a.staged_bundle, options, ports_.crypto);
    if (!contents) {
        // Verified when staged: only a changed key or a damaged state file gets here.
        a.staged_bundle.clear();
        refuse(a.id, version, contents.error());
        return;
    }
    const auto work_dir = options_.state_dir / "work" / std::to_string(a.id);
    target_result result;
    if (const auto ec = core::ensure_directory(work_dir, 0700)) {
        result.stage = "options";
        result.message = "cannot create " + work_dir.string() + ": " + ec.message();
    } else {
        const target_context context{ports_.processes, ports_.probe, work_dir, &ports_.crypto};
        result = ports_.apply ? ports_.apply(*contents, context) : apply_target(*contents, context);
    }
    auto details = to_json(result);
    details["trigger"] = to_string(decision.trigger);
    details["why"] = decision.why;
    report r;
    r.assignment = a.id;
    r.version = version;
    r.status = result.ok ? "deployed" : "failed";
    r.result = std::move(details);
    a.last_status = r.status;
    if (result.ok) {
        a.deployed_version = version;
        a.deployed_not_after = contents->not_after;
        a.deployed_at = now;
        a.deployed_sha256 = contents->sha256_hex;
        const auto verify = contents->target_options.find("verify");
        a.verify = verify != contents->target_options.end() && verify->is_object()
                       ? *verify
                       : nlohmann::json();
        a.drift.clear();
        a.drift_checked_at = now;
        a.staged_bundle.clear(); // applied: the sealed copy is no longer needed
        a.failed_version.reset();
        a.failed_at.reset();
        a.last_message = "version " + std::to_string(version) + " deployed because " + decision.why;
        log(log_level::info, assignment_text(a.id) + ": " + a.last_message);
    } else {
        a.failed_version = version;
        a.failed_at = now;
        a.last_message = "version " + std::to_string(version) + " failed at stage " +
                         printable(result.stage) + ": " + printable(result.message) +
                         (result.rolled_back ? " (the previous state was restored)" : "") +
                         "; it stays staged for the next attempt";
        log(log_level::error, assignment_text(a.id) + ": " + a.last_message);
    }
    queue_report(std::move(r));
}

bool agent::check_drift()
{
    if (options_.drift_interval.count() <= 0 || !ports_.probe) {
        return false;
    }
    bool reported = false;
    const auto now = ports_.clock();
    for (auto& a : loaded_->state.assignments) {
        if (a.deployed_sha256.empty() || !a.verify.is_object() || !a.deployed_version ||
            (a.drift_checked_at && now - *a.drift_checked_at < options_.drift_interval)) {
            continue;
        }
        a.drift_checked_at = now;
        probe_request request;
        request.host = a.verify.value("host", std::string());
        request.port = static_cast<std::uint16_t>(a.verify.value("port", 443));
        request.sni = a.verify.value("sni", std::string());
        request.sstp = a.verify.value("sstp", false);
        request.expect_sha256 = a.deployed_sha256;
        if (request.host.empty()) {
            continue;
        }
        const auto result = ports_.probe(request);
        std::string drift;
        for (const auto& address : result.addresses) {
            if (address.error.empty() && !address.matches) {
                drift = address.address + " serves " + address.sha256_hex + " (" +
                        printable(address.subject) + "), not the deployed " + a.deployed_sha256;
                break;
            }
        }
        if (drift == a.drift) {
            continue; // unchanged, or the endpoint did not answer: nothing new to say
        }
        a.drift = drift;
        log(drift.empty() ? log_level::info : log_level::warn,
            assignment_text(a.id) + (drift.empty() ? ": the endpoint serves the deployed "
                                                     "certificate again"
                                                   : ": drift: " + drift));
        report r;
        r.assignment = a.id;
        r.version = *a.deployed_version;
        r.status = "deployed";
        r.drift = drift;
        r.result = {{"drift_check", true}, {"probe", to_json(result)}};
        queue_report(std::move(r));
        reported = true;
    }
    if (reported) {
        if (const auto ec = save()) {
            log(log_level::error, "cannot save the agent's state: " + ec.message());
        }
    }
    return reported;
}

} // namespace certfleet::deploy
