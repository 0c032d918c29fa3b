#include "deploy/files_target.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "core/atomic_file.hpp"
#include "deploy/file_backup.hpp"
#include "deploy/target_support.hpp"

namespace certfleet::deploy {
namespace {

constexpr std::string_view stage_options = "options";
constexpr std::string_view stage_write = "write";
constexpr std::string_view stage_reload = "reload";
constexpr std::string_view stage_verify = "verify";

target_result failed(std::string_view stage, std::string message)
{
    return {.ok = false, .stage = std::string(stage), .message = std::move(message)};
}

bool all_digits(const std::string& text)
{
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A user or group name, or a number, as an id on this host.
std::optional<uid_t> user_id(const std::string& name)
{
    if (all_digits(name)) {
        return static_cast<uid_t>(std::stoul(name));
    }
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
        return std::nullopt;
    }
    return found->pw_uid;
}

std::optional<gid_t> group_id(const std::string& name)
{
    if (all_digits(name)) {
        return static_cast<gid_t>(std::stoul(name));
    }
    std::vector<char> buffer(16384);
    group entry{};
    group* found = nullptr;
    if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
        return std::nullopt;
    }
    return found->gr_gid;
}

bool is_secret(file_kind kind)
{
    return kind == file_kind::key || kind == file_kind::pfx || kind == file_kind::pfx_password;
}

// The bytes each kind of file gets, views into the bundle (and `password_line`).
struct file_sources
{
    chain_files chain;
    std::string_view key;
    std::string_view pfx;
    std::string_view password_line;

    [[nodiscard]] std::string_view of(file_kind kind) const
    {
        switch (kind) {
        case file_kind::cert:
            return chain.cert;
        case file_kind::chain:
            return chain.chain;
        case file_kind::fullchain:
            return chain.fullchain;
        case file_kind::key:
            return key;
        case file_kind::pfx:
            return pfx;
        case file_kind::pfx_password:
            return password_line;
        }
        return {};
    }
};

struct planned_write
{
    std::vector<core::file_content> files;
    std::vector<std::filesystem::path> targets;
};

// Decides each file's bytes, mode, owner and group. Returns the problem in words, or empty.
std::string
plan_writes(const files_options& options, const file_sources& sources, planned_write& plan)
{
    std::optional<uid_t> owner;
    std::optional<gid_t> group;
    if (!options.owner.empty() && !(owner = user_id(options.owner))) {
        return "no user \"" + options.owner + "\" on this host";
    }
    if (!options.group.empty() && !(group = group_id(options.group))) {
        return "no group \"" + options.group + "\" on this host";
    }
    for (const auto& f : options.files) {
        const auto content = sources.of(f.kind);
        if (content.empty()) {
            if (f.from_dir) {
                continue;
            }
            return "the bundle has nothing to write to " + f.path.string();
        }
        std::error_code ec;
        // A symlink is followed: the file it names is replaced and the link stays.
        const auto target = std::filesystem::is_symlink(f.path, ec)
                                ? std::filesystem::weakly_canonical(f.path, ec)
                                : f.path;
        const bool secret = is_secret(f.kind);
        core::atomic_write_options write{
            .mode = secret ? options.key_mode.value_or(0600) : options.mode.value_or(0644),
            .keep_existing_owner_and_mode = false,
            .owner = owner,
            .group = group};
        struct stat existing
        {};
        if (::stat(target.c_str(), &existing) == 0) { // what was there stays, unless told
            write.mode =
                (secret ? options.key_mode : options.mode).value_or(existing.st_mode & 0777);
            write.owner = owner.value_or(existing.st_uid);
            write.group = group.value_or(existing.st_gid);
        }
        if (secret) {
            write.mode &= ~mode_t{0007};
        }
        plan.files.push_back({target, content, write});
        plan.targets.push_back(target);
    }
    return {};
}

nlohmann::json files_details(const planned_write& plan, const std::vector<saved_file>& saved)
{
    auto files = nlohmann::json::array();
    for (std::size_t i = 0; i < plan.files.size(); ++i) {
        files.push_back(
            {{"path", plan.files[i].target.string()},
             {"mode", plan.files[i].options.mode},
             {"created", i < saved.size() && !saved[i].existed}}
        );
    }
    return files;
}

// Probes until the endpoint serves the new certificate or the wait is over.
probe_result
verify(const files_options& options, const bundle& contents, const target_context& context)
{
    auto request = *options.verify;
    request.expect_sha256 = contents.sha256_hex;
    const auto deadline = std::chrono::steady_clock::now() + options.verify_wait;
    for (;;) {
        probe_result result;
        try {
            result = context.probe(request);
        } catch (const std::exception& e) { // the files must still be put back
            result = {.ok = false, .summary = std::string("the probe failed: ") + e.what()};
        }
        if (result.ok || std::chrono::steady_clock::now() >= deadline) {
            return result;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{500});
    }
}

process_request reload_request(const files_options& options)
{
    return {.argv = options.reload, .timeout = options.reload_timeout};
}

// After a failure past the backup: the old files back, the server reloaded with them.
void roll_back(
    target_result& result,
    const files_options& options,
    const std::vector<saved_file>& saved,
    const target_context& context,
    bool reloaded
)
{
    const auto backup_dir = context.work_dir / "backup";
    if (auto ec = restore_files(saved)) {
        result.message += "; putting the previous files back failed (" + ec.message() +
                          "): copies and a manifest are in " + backup_dir.string();
        return;
    }
    discard_backup(backup_dir);
    result.rolled_back = true;
    if (options.reload.empty() || !reloaded) {
        result.message += "; the previous files were put back";
        return;
    }
    auto again = run_command(context.processes, reload_request(options));
    result.details["reload_after_rollback"] = again.details;
    result.message += again.ok ? "; the previous files were put back and reloaded"
                               : "; the previous files were put back, but reloading them failed: " +
                                     again.message;
}

// Reload, then verify; on failure, roll back. The files are in place when this is called.
target_result reload_and_verify(
    const files_options& options,
    const bundle& contents,
    const target_context& context,
    const std::vector<saved_file>& saved,
    target_result result
)
{
    if (!options.reload.empty()) {
        auto reload = run_command(context.processes, reload_request(options));
        result.details["reload"] = reload.details;
        if (!reload.ok) {
            result.stage = stage_reload;
            result.message = "reload failed: " + reload.message;
            roll_back(result, options, saved, context, true);
            return result;
        }
    }
    if (options.verify) {
        const auto probe = verify(options, contents, context);
        result.details["probe"] = {{"ok", probe.ok}, {"summary", probe.summary}};
        if (!probe.ok) {
            result.stage = stage_verify;
            result.message = "the endpoint does not serve the new certificate: " + probe.summary;
            roll_back(result, options, saved, context, true);
            return result;
        }
    }
    discard_backup(context.work_dir / "backup");
    result.ok = true;
    result.stage = "done";
    result.message = "wrote " + std::to_string(saved.size()) + " files" +
                     (options.reload.empty() ? "" : ", reloaded") +
                     (options.verify ? ", and the endpoint serves the new certificate" : "");
    return result;
}

} // namespace

target_result apply_files_target(const bundle& contents, const target_context& context)
{
    std::string problem;
    const auto options = parse_files_options(contents.target_options, problem);
    if (!options) {
        return failed(stage_options, problem);
    }
    if (context.work_dir.empty()) {
        return failed(stage_options, "no work directory for the backups");
    }
    if (options->verify && !context.probe) {
        return failed(stage_options, "\"verify\" is set but this agent cannot probe");
    }
    if (contents.pfx_password.view().find_first_of("\r\n") != std::string_view::npos) {
        return failed(stage_options, "the PFX password holds a line break");
    }
    core::secret password_line = core::secret::with_size(contents.pfx_password.size() + 1);
    std::copy_n(
        contents.pfx_password.view().data(), contents.pfx_password.size(), password_line.data()
    );
    password_line.data()[contents.pfx_password.size()] = '\n';
    const file_sources sources{
        .chain = split_chain_pem(contents.chain_pem),
        .key = contents.key_pem.view(),
        .pfx = contents.pfx,
        .password_line = contents.pfx_password.empty() ? std::string_view{} : password_line.view()};
    planned_write plan;
    if (problem = plan_writes(*options, sources, plan); !problem.empty()) {
        return failed(stage_options, problem);
    }
    for (const auto& target : plan.targets) {
        std::error_code ec;
        if (!std::filesystem::is_directory(target.parent_path(), ec)) {
            return failed(
                stage_write, "the directory " + target.parent_path().string() + " does not exist"
            );
        }
    }
    auto saved = back_up_files(plan.targets, context.work_dir / "backup");
    if (!saved) {
        return failed(
            stage_write, "could not back up the files in place: " + saved.error().message()
        );
    }
    target_result result;
    result.details["files"] = files_details(plan, *saved);
    if (auto ec = core::write_files_atomically(plan.files)) {
        result.stage = stage_write;
        result.message = "writing the files failed: " + ec.message();
        roll_back(result, *options, *saved, context, false);
        return result;
    }
    return reload_and_verify(*options, contents, context, *saved, std::move(result));
}

} // namespace certfleet::deploy
