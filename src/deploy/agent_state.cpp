#include "deploy/agent_state.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"
#include "deploy/identity_seal.hpp"

namespace certfleet::deploy {
namespace {

using nlohmann::json;
constexpr int state_format = 1;
constexpr std::uintmax_t max_state_bytes = 64 * 1024 * 1024;

std::int64_t unix_of(time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

json optional_int(const std::optional<std::int64_t>& v)
{
    return v ? json(*v) : json(nullptr);
}

json optional_time(const std::optional<time_point>& t)
{
    return t ? json(unix_of(*t)) : json(nullptr);
}

void set_problem(std::string* problem, std::string text)
{
    if (problem != nullptr) {
        *problem = std::move(text);
    }
}

// The file's bytes; a missing file is no_such_file_or_directory.
boost::system::result<std::string> read_all(const std::filesystem::path& file)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
        return boost::system::error_code(ec);
    }
    if (size > max_state_bytes) {
        return make_error_code(errc::state_corrupt);
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return make_error_code(boost::system::errc::permission_denied);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Readers for our own files: false on a missing or wrong-typed field (the file is corrupt).
bool get_int(const json& j, const char* key, std::optional<std::int64_t>& out)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        out.reset();
        return true;
    }
    if (!it->is_number_integer()) {
        return false;
    }
    out = it->get<std::int64_t>();
    return true;
}

bool get_time(const json& j, const char* key, std::optional<time_point>& out)
{
    std::optional<std::int64_t> v;
    if (!get_int(j, key, v)) {
        return false;
    }
    out = v ? std::optional<time_point>(time_point{std::chrono::seconds{*v}}) : std::nullopt;
    return true;
}

bool get_string(const json& j, const char* key, std::string& out)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        return false;
    }
    out = it->get<std::string>();
    return true;
}

json assignment_to_json(const assignment_state& a)
{
    return {
        {"id", a.id},
        {"certificate", a.certificate},
        {"target", a.target},
        {"staged_version", optional_int(a.staged_version)},
        {"staged_bundle", a.staged_bundle},
        {"staged_not_after", optional_time(a.staged_not_after)},
        {"deployed_version", optional_int(a.deployed_version)},
        {"deployed_not_after", optional_time(a.deployed_not_after)},
        {"deployed_at", optional_time(a.deployed_at)},
        {"deploy_now_acted", optional_int(a.deploy_now_acted)},
        {"failed_version", optional_int(a.failed_version)},
        {"failed_at", optional_time(a.failed_at)},
        {"refused_version", optional_int(a.refused_version)},
        {"deployed_sha256", a.deployed_sha256},
        {"verify", a.verify},
        {"drift", a.drift},
        {"drift_checked_at", optional_time(a.drift_checked_at)},
        {"last_status", a.last_status},
        {"last_message", a.last_message},
    };
}

std::optional<assignment_state> assignment_from_json(const json& j)
{
    assignment_state a;
    std::optional<std::int64_t> id;
    std::optional<std::int64_t> certificate;
    if (!j.is_object() || !get_int(j, "id", id) || !id || !get_int(j, "certificate", certificate) ||
        !get_string(j, "target", a.target) || !get_int(j, "staged_version", a.staged_version) ||
        !get_string(j, "staged_bundle", a.staged_bundle) ||
        !get_time(j, "staged_not_after", a.staged_not_after) ||
        !get_int(j, "deployed_version", a.deployed_version) ||
        !get_time(j, "deployed_not_after", a.deployed_not_after) ||
        !get_time(j, "deployed_at", a.deployed_at) ||
        !get_int(j, "deploy_now_acted", a.deploy_now_acted) ||
        !get_int(j, "failed_version", a.failed_version) || !get_time(j, "failed_at", a.failed_at) ||
        !get_int(j, "refused_version", a.refused_version) ||
        !get_string(j, "last_status", a.last_status) ||
        !get_string(j, "last_message", a.last_message)) {
        return std::nullopt;
    }
    // Added after the first release of this format: absent in older files.
    if (const auto sha = j.find("deployed_sha256"); sha != j.end() && sha->is_string()) {
        a.deployed_sha256 = sha->get<std::string>();
    }
    if (const auto v = j.find("verify"); v != j.end() && v->is_object()) {
        a.verify = *v;
    }
    if (const auto d = j.find("drift"); d != j.end() && d->is_string()) {
        a.drift = d->get<std::string>();
    }
    if (!get_time(j, "drift_checked_at", a.drift_checked_at)) {
        return std::nullopt;
    }
    a.id = *id;
    a.certificate = certificate.value_or(0);
    return a;
}

std::optional<agent_state> state_from_json(const json& j)
{
    agent_state s;
    std::optional<std::int64_t> format;
    if (!j.is_object() || !get_int(j, "format", format) || format != state_format ||
        !get_int(j, "deploy_now", s.deploy_now) || !get_time(j, "last_contact", s.last_contact)) {
        return std::nullopt;
    }
    const auto openings = j.find("openings");
    const auto assignments = j.find("assignments");
    const auto outbox = j.find("outbox");
    if (openings == j.end() || !openings->is_array() || assignments == j.end() ||
        !assignments->is_array() || outbox == j.end() || !outbox->is_array()) {
        return std::nullopt;
    }
    for (const auto& o : *openings) {
        if (!o.is_array() || o.size() != 2 || !o[0].is_number_integer() ||
            !o[1].is_number_integer()) {
            return std::nullopt;
        }
        s.openings.push_back(
            {time_point{std::chrono::seconds{o[0].get<std::int64_t>()}},
             time_point{std::chrono::seconds{o[1].get<std::int64_t>()}}}
        );
    }
    for (const auto& item : *assignments) {
        auto a = assignment_from_json(item);
        if (!a) {
            return std::nullopt;
        }
        s.assignments.push_back(std::move(*a));
    }
    for (const auto& item : *outbox) {
        auto r = report_from_json(item);
        if (!r) {
            return std::nullopt;
        }
        s.outbox.push_back(std::move(*r));
    }
    return s;
}

std::string corrupt_text(const std::filesystem::path& file, std::string_view what_to_do)
{
    return file.string() + " is not a valid certfleet-agent file (damaged or edited by hand): " +
           std::string(what_to_do);
}

} // namespace

std::filesystem::path identity_file(const std::filesystem::path& dir)
{
    return dir / "identity.json";
}

std::filesystem::path state_file(const std::filesystem::path& dir)
{
    return dir / "state.json";
}

boost::system::result<agent_identity>
load_identity(const std::filesystem::path& dir, std::string* problem)
{
    const auto file = identity_file(dir);
    auto text = read_all(file);
    if (!text) {
        if (text.error() == boost::system::errc::no_such_file_or_directory) {
            set_problem(
                problem, "no identity in " + dir.string() +
                             ": enroll first with `certfleet-agent enroll --token <join token>`"
            );
            return make_error_code(errc::not_enrolled);
        }
        set_problem(problem, "cannot read " + file.string() + ": " + text.error().message());
        return text.error();
    }
    const auto stored = core::secret::adopt(std::move(*text));
    const auto secret_text = open_identity(stored.view());
    if (!secret_text) {
        set_problem(
            problem, file.string() +
                         " cannot be decrypted (damaged, or copied from another machine): "
                         "remove the state directory and enroll again with a new join token"
        );
        return make_error_code(errc::state_corrupt);
    }
    const auto j = json::parse(secret_text->view(), nullptr, false);
    agent_identity id;
    std::optional<std::int64_t> format;
    std::string signing64;
    std::string key64;
    if (j.is_discarded() || !j.is_object() || !get_int(j, "format", format) ||
        format != state_format || !get_string(j, "server_url", id.server_url) ||
        !get_string(j, "agent", id.agent) || !get_string(j, "tls_sha256", id.tls_sha256) ||
        !get_string(j, "signing_key", signing64) || !get_string(j, "private_key", key64)) {
        set_problem(
            problem,
            corrupt_text(
                file,
                "restore it from a backup, or remove it and enroll again with a new join token"
            )
        );
        return make_error_code(errc::state_corrupt);
    }
    auto signing = core::base64url_decode(signing64);
    auto key = core::base64url_decode(core::secret::adopt(std::move(key64)).view());
    if (!signing || signing->size() != 65 || !key || key->size() != 32) {
        set_problem(
            problem,
            corrupt_text(
                file,
                "restore it from a backup, or remove it and enroll again with a new join token"
            )
        );
        return make_error_code(errc::state_corrupt);
    }
    id.signing_public_point = std::move(*signing);
    id.private_scalar = core::secret::adopt(std::move(*key));
    return id;
}

boost::system::error_code save_identity(
    const std::filesystem::path& dir, const agent_identity& identity, std::string* problem
)
{
    if (const auto ec = core::ensure_directory(dir, 0700)) {
        set_problem(problem, "cannot create " + dir.string() + ": " + ec.message());
        return ec;
    }
    const json j{
        {"format", state_format},
        {"server_url", identity.server_url},
        {"agent", identity.agent},
        {"tls_sha256", identity.tls_sha256},
        {"signing_key", core::base64url_encode(identity.signing_public_point)},
    };
    // The key is spliced into the text rather than held by a json object, whose strings are
    // freed without being wiped; base64url needs no escaping.
    std::string text = j.dump();
    text.pop_back();
    text += R"(,"private_key":")";
    {
        const auto key64 =
            core::secret::adopt(core::base64url_encode(identity.private_scalar.view()));
        text.append(key64.view());
    }
    text += "\"}\n";
    const auto plain = core::secret::adopt(std::move(text));
    const auto content = seal_identity(plain.view());
    if (!content) {
        set_problem(problem, "cannot protect the identity (DPAPI): " + content.error().message());
        return content.error();
    }
    const auto file = identity_file(dir);
    if (const auto ec = core::create_file_exclusively(file, content->view(), 0600)) {
        set_problem(
            problem, ec == boost::system::errc::file_exists
                         ? file.string() + " exists: this agent is already enrolled (remove the "
                                           "state directory first to enroll it again)"
                         : "cannot write " + file.string() + ": " + ec.message()
        );
        return ec;
    }
    return {};
}

boost::system::result<agent_state>
load_state(const std::filesystem::path& dir, std::string* problem)
{
    const auto file = state_file(dir);
    auto text = read_all(file);
    if (!text) {
        if (text.error() == boost::system::errc::no_such_file_or_directory) {
            return agent_state{};
        }
        if (text.error() == errc::state_corrupt) {
            set_problem(
                problem, corrupt_text(
                             file, "it is too large; remove it (the agent then "
                                   "downloads its bundles again)"
                         )
            );
            return text.error();
        }
        set_problem(problem, "cannot read " + file.string() + ": " + text.error().message());
        return text.error();
    }
    const auto j = json::parse(*text, nullptr, false);
    auto state = j.is_discarded() ? std::nullopt : state_from_json(j);
    if (!state) {
        set_problem(
            problem, corrupt_text(
                         file, "remove it and restart the agent: it downloads its bundles "
                               "again and redeploys them in the next window"
                     )
        );
        return make_error_code(errc::state_corrupt);
    }
    return std::move(*state);
}

boost::system::error_code
save_state(const std::filesystem::path& dir, const agent_state& state, std::string* problem)
{
    auto openings = json::array();
    for (const auto& o : state.openings) {
        openings.push_back(json::array({unix_of(o.start), unix_of(o.end)}));
    }
    auto assignments = json::array();
    for (const auto& a : state.assignments) {
        assignments.push_back(assignment_to_json(a));
    }
    auto outbox = json::array();
    for (const auto& r : state.outbox) {
        outbox.push_back(to_json(r));
    }
    const json j{
        {"format", state_format},
        {"openings", openings},
        {"deploy_now", optional_int(state.deploy_now)},
        {"last_contact", optional_time(state.last_contact)},
        {"assignments", assignments},
        {"outbox", outbox},
    };
    const auto file = state_file(dir);
    core::atomic_write_options options;
    options.mode = 0600;
    if (const auto ec = core::write_file_atomically(file, j.dump() + "\n", options)) {
        set_problem(problem, "cannot write " + file.string() + ": " + ec.message());
        return ec;
    }
    return {};
}

} // namespace certfleet::deploy
