#include "support/rig_wine.hpp"

#include <algorithm>

namespace certfleet::test {
namespace {

const char* const wine_binary = "/usr/lib/wine/wine64"; // Debian's wine64: not on the PATH
const char* const wineserver_binary = "/usr/lib/wine/wineserver";

} // namespace

std::string windows_path(const std::filesystem::path& path)
{
    auto text = std::filesystem::absolute(path).string();
    std::replace(text.begin(), text.end(), '/', '\\');
    return "Z:" + text;
}

wine_prefix::wine_prefix() = default;

wine_prefix::~wine_prefix()
{
    // The prefix's own wineserver (and any program left in it): only this prefix's.
    static_cast<void>(test::run(
        {"env", "WINEPREFIX=" + dir_.path().string(), wineserver_binary, "-k"},
        {.timeout = std::chrono::seconds{20}}
    ));
}

std::vector<std::string>
wine_prefix::argv(const std::filesystem::path& program, const std::vector<std::string>& args) const
{
    std::vector<std::string> out{
        "env", "WINEPREFIX=" + dir_.path().string(), "WINEDEBUG=-all", wine_binary,
        program.string()};
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

run_result wine_prefix::run(
    const std::filesystem::path& program,
    const std::vector<std::string>& args,
    std::chrono::milliseconds timeout
) const
{
    return test::run(argv(program, args), {.timeout = timeout});
}

wine_agent_host::wine_agent_host(
    const wine_prefix& wine,
    std::filesystem::path agent_exe,
    const temp_dir& parent,
    std::string name
)
    : wine_{wine}, exe_{std::move(agent_exe)}, name_{std::move(name)},
      state_dir_{parent.path() / name_}, log_file_{parent.path() / (name_ + ".log")}
{}

wine_agent_host::~wine_agent_host()
{
    stop();
}

run_result wine_agent_host::command(const std::vector<std::string>& args) const
{
    auto all = args;
    all.insert(all.end(), {"--state-dir", windows_path(state_dir_)});
    return wine_.run(exe_, all);
}

run_result wine_agent_host::enroll(const std::string& token) const
{
    return command({"enroll", "--token", token});
}

nlohmann::json wine_agent_host::status() const
{
    const auto r = command({"status", "--json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !j.is_object()) {
        throw rig_error(
            "certfleet-agent.exe status of " + name_ + " failed (exit " +
            std::to_string(r.exit_code) + "): " + r.out + r.err
        );
    }
    return j;
}

void wine_agent_host::start(int poll_seconds)
{
    stop();
    process_ = std::make_unique<child_process>(child_options{
        .argv = wine_.argv(
            exe_, {"run", "--state-dir", windows_path(state_dir_), "--poll-seconds",
                   std::to_string(poll_seconds)}
        ),
        .log_file = log_file_});
}

void wine_agent_host::stop()
{
    if (process_) {
        static_cast<void>(process_->stop());
        process_.reset();
    }
}

std::string wine_agent_host::log() const
{
    return read_text_file(log_file_);
}

} // namespace certfleet::test
