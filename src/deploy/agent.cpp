// The agent's loop: poll, stage, apply, report (enrollment and status are in agent_enroll.cpp).
#include "deploy/agent.hpp"

#include <algorithm>

#include "deploy/agent_support.hpp"
#include "deploy/bundle.hpp"
#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

using agent_detail::assignment_text;
using agent_detail::ms_text;
using agent_detail::printable;
using agent_detail::server_message;
using std::chrono::milliseconds;
using std::chrono::seconds;

nlohmann::json refusal_json(boost::system::error_code why)
{
    return {{"error", why.message()}, {"code", why.value()}};
}

bool is_fatal(boost::system::error_code ec)
{
    return ec == errc::not_enrolled || ec == errc::state_corrupt;
}

} // namespace

poll_outcome agent::run_once()
{
    poll_outcome outcome;
    if (const auto r = load(&outcome.problem); !r) {
        outcome.error = r.error();
        return outcome;
    }
    flush_outbox();
    auto polled = poll();
    outcome.error = polled.error;
    outcome.problem = std::move(polled.problem);
    outcome.retry_after = polled.retry_after;
    outcome.changed = polled.changed;
    // Windows keep working while the server is away: the openings last received are enough.
    outcome.changed = apply_due() || outcome.changed;
    check_drift();
    if (const auto ec = save(); ec && !outcome.error) {
        outcome.error = ec;
    }
    if (!outcome.error) {
        flush_outbox();
    }
    return outcome;
}

poll_outcome agent::poll()
{
    poll_outcome outcome;
    auto& state = loaded_->state;
    poll_request request;
    request.wait = options_.poll_wait;
    const auto now = ports_.clock();
    if (const auto opens = next_window_start(state.assignments, state.openings, now)) {
        // Back by the time the window opens (a second late, so that it is open then).
        const auto until = std::chrono::ceil<seconds>(*opens - now) + seconds{1};
        request.wait = std::clamp(until, seconds{1}, request.wait);
    }
    request.version = options_.version;
    for (const auto& a : state.assignments) {
        request.assignments.push_back({a.id, a.staged_version, a.deployed_version});
    }
    std::string detail;
    const auto reply = post_signed(
        poll_path, to_json(request), options_.poll_wait + options_.request_timeout, &detail
    );
    if (!reply) {
        outcome.error = reply.error();
        outcome.problem = reply.error() == errc::pin_mismatch
                              ? "the server presented a TLS certificate other than the pinned "
                                "one: if the server's certificate was replaced, enroll again"
                              : "cannot reach " + loaded_->identity.server_url + ": " + detail;
        return outcome;
    }
    outcome.retry_after = reply->retry_after;
    if (reply->status == 401 || reply->status == 403) {
        outcome.error = make_error_code(errc::unauthorized);
        outcome.problem = "the server does not accept this agent's requests (" +
                          server_message(reply->body) +
                          "): check that this host's clock is right, and that the agent was not "
                          "disabled or removed on the server (then enroll again with a new token)";
        return outcome;
    }
    const auto j = reply->status == 200 ? nlohmann::json::parse(reply->body, nullptr, false)
                                        : nlohmann::json();
    auto response = poll_response_from_json(j);
    if (!response) {
        outcome.error = make_error_code(errc::protocol_error);
        outcome.problem = reply->status == 200
                              ? "the server's poll answer is not what this agent understands"
                              : "the server answered the poll with HTTP " +
                                    std::to_string(reply->status) + " " +
                                    server_message(reply->body);
        return outcome;
    }
    handle_response(*response, outcome);
    return outcome;
}

void agent::handle_response(const poll_response& response, poll_outcome& outcome)
{
    auto& state = loaded_->state;
    state.last_contact = ports_.clock();
    if (state.openings != response.openings) {
        state.openings = response.openings;
        outcome.changed = true;
    }
    if (state.deploy_now != response.deploy_now) {
        state.deploy_now = response.deploy_now;
        outcome.changed = true;
    }
    sync_assignments(response, outcome);
    for (const auto& text : response.bundles) {
        handle_bundle(text, outcome);
    }
}

void agent::sync_assignments(const poll_response& response, poll_outcome& outcome)
{
    auto& list = loaded_->state.assignments;
    const auto removed = std::erase_if(list, [&](const assignment_state& a) {
        const bool kept = std::any_of(
            response.assignments.begin(), response.assignments.end(),
            [&](const assignment_summary& s) { return s.id == a.id; }
        );
        if (!kept) {
            log(log_level::info,
                assignment_text(a.id) + " is no longer assigned to this agent: forgetting it");
        }
        return !kept;
    });
    outcome.changed = outcome.changed || removed > 0;
    for (const auto& s : response.assignments) {
        auto* a = find(s.id);
        if (a == nullptr) {
            assignment_state fresh;
            fresh.id = s.id;
            // A "deploy now" made before the agent knew the assignment is not a request for it.
            fresh.deploy_now_acted = response.deploy_now;
            list.push_back(std::move(fresh));
            a = &list.back();
            outcome.changed = true;
            log(log_level::info, assignment_text(s.id) + ": new, target " + printable(s.target));
        }
        a->certificate = s.certificate;
        a->target = s.target;
    }
}

void agent::handle_bundle(const std::string& text, poll_outcome& outcome)
{
    const auto label = peek_bundle_label(text);
    assignment_state* a = label ? find(label->assignment) : nullptr;
    if (a == nullptr) {
        log(log_level::warn, "a bundle for no assignment of this agent was ignored");
        return;
    }
    if (a->staged_version == label->version && !a->staged_bundle.empty()) {
        return; // sent again before the server saw our "staged" report
    }
    const auto& id = loaded_->identity;
    open_bundle_options options;
    options.agent = id.agent;
    options.agent_private_scalar = id.private_scalar.view();
    options.signing_public_point = id.signing_public_point;
    options.deployed_version = a->deployed_version;
    auto opened = open_bundle(text, options, ports_.crypto);
    if (opened && opened->assignment != label->assignment) {
        opened = make_error_code(errc::malformed_bundle);
    }
    if (opened && a->staged_version && opened->version <= *a->staged_version) {
        opened = make_error_code(errc::replayed_bundle);
    }
    if (!opened) {
        outcome.changed = refuse(a->id, label->version, opened.error()) || outcome.changed;
        return;
    }
    a->staged_version = opened->version;
    a->staged_bundle = text;
    a->staged_not_after = opened->not_after;
    a->failed_version.reset();
    a->failed_at.reset();
    a->last_status = "staged";
    a->last_message = "version " + std::to_string(opened->version) + " staged, valid until " +
                      format_utc(opened->not_after);
    outcome.changed = true;
    log(log_level::info, assignment_text(a->id) + ": " + a->last_message);
    report r;
    r.assignment = a->id;
    r.version = opened->version;
    r.status = "staged";
    r.result = {{"sha256", opened->sha256_hex}, {"not_after", format_utc(opened->not_after)}};
    queue_report(std::move(r));
}

bool agent::refuse(std::int64_t assignment, std::int64_t version, boost::system::error_code why)
{
    auto* a = find(assignment);
    const bool repeated = a->refused_version == version && a->last_status == "refused";
    a->refused_version = version;
    a->last_status = "refused";
    a->last_message = "version " + std::to_string(version) + " refused: " + why.message();
    if (repeated) {
        return false; // reported already; the server sends it until it hears of a newer one
    }
    log(log_level::error, assignment_text(assignment) + ": " + a->last_message +
                              "; nothing was changed on this host");
    report r;
    r.assignment = assignment;
    r.version = version;
    r.status = "refused";
    r.result = refusal_json(why);
    queue_report(std::move(r));
    return true;
}

void agent::queue_report(report r)
{
    auto& outbox = loaded_->state.outbox;
    outbox.push_back(std::move(r));
    if (outbox.size() > max_outbox_reports) {
        outbox.erase(outbox.begin());
        log(log_level::warn, "too many unsent reports: the oldest was dropped");
    }
}

void agent::flush_outbox()
{
    auto& outbox = loaded_->state.outbox;
    bool sent = false;
    while (!outbox.empty()) {
        std::string detail;
        const auto reply =
            post_signed(report_path, to_json(outbox.front()), options_.request_timeout, &detail);
        if (!reply || reply->status >= 500 || reply->status == 401 || reply->status == 403 ||
            reply->status == 429) {
            log(log_level::debug, "reports stay queued: " +
                                      (reply ? "HTTP " + std::to_string(reply->status) : detail));
            break;
        }
        if (reply->status >= 300) {
            log(log_level::warn, "the server rejected a report (HTTP " +
                                     std::to_string(reply->status) + " " +
                                     server_message(reply->body) + "): dropped");
        }
        outbox.erase(outbox.begin());
        sent = true;
    }
    if (sent) {
        if (const auto ec = save()) {
            log(log_level::error, "cannot save the agent's state: " + ec.message());
        }
    }
}

boost::system::result<agent_reply> agent::post_signed(
    std::string_view path, const nlohmann::json& payload, seconds timeout, std::string* detail
)
{
    const auto& id = loaded_->identity;
    auto body = sign_request(
        ports_.crypto, id.agent, id.private_scalar.view(), path, payload, ports_.clock()
    );
    if (!body) {
        if (detail != nullptr) {
            *detail = "cannot sign the request: " + body.error().message();
        }
        return body.error();
    }
    return loaded_->transport->post(path, *body, milliseconds{timeout}, detail);
}

boost::system::error_code agent::save()
{
    std::string problem;
    if (const auto ec = save_state(options_.state_dir, loaded_->state, &problem)) {
        log(log_level::error, problem);
        return ec;
    }
    return {};
}

assignment_state* agent::find(std::int64_t id)
{
    auto& list = loaded_->state.assignments;
    const auto it = std::find_if(list.begin(), list.end(), [id](const assignment_state& a) {
        return a.id == id;
    });
    return it == list.end() ? nullptr : &*it;
}

milliseconds agent::backoff_delay(unsigned failures) const
{
    const milliseconds low = options_.backoff_min;
    const milliseconds high = options_.backoff_max;
    milliseconds ceiling = low;
    for (unsigned i = 1; i < failures && ceiling < high; ++i) {
        ceiling *= 2;
    }
    ceiling = std::min(ceiling, high);
    // Full jitter over [low, ceiling]: agents that lost the server together come back spread.
    const auto span = static_cast<double>((ceiling - low).count());
    const double fraction = static_cast<double>(ports_.random() >> 11) / 9007199254740992.0;
    return low + milliseconds{static_cast<milliseconds::rep>(span * fraction)};
}

boost::system::error_code agent::run(const std::atomic<bool>& stop)
{
    unsigned failures = 0;
    while (!stop) {
        const auto started = ports_.clock();
        const auto outcome = run_once();
        if (is_fatal(outcome.error)) {
            log(log_level::error, outcome.problem);
            return outcome.error;
        }
        if (stop) {
            break;
        }
        if (outcome.error) {
            ++failures;
            auto delay = backoff_delay(failures);
            if (outcome.retry_after) {
                delay = std::max(
                    delay, milliseconds{std::min(*outcome.retry_after, options_.backoff_max)}
                );
            }
            log(log_level::warn, outcome.problem + "; next attempt in " + ms_text(delay));
            ports_.sleep(delay);
            continue;
        }
        if (failures > 0) {
            log(log_level::info, "in contact with the server again");
        }
        failures = 0;
        const auto elapsed = std::chrono::duration_cast<milliseconds>(ports_.clock() - started);
        if (!outcome.changed && elapsed < options_.poll_wait) {
            ports_.sleep(options_.poll_wait - elapsed); // answered early with nothing new
        }
    }
    return {};
}

} // namespace certfleet::deploy
