#include "support/rig_agent.hpp"

#ifndef CERTFLEET_AGENT_BINARY
#error                                                                                             \
    "CERTFLEET_AGENT_BINARY must name the certfleet-agent executable (see tests/integration/CMakeLists.txt)"
#endif

namespace certfleet::test {

std::filesystem::path agent_binary()
{
    return CERTFLEET_AGENT_BINARY;
}

run_result run_agent(const std::vector<std::string>& args, std::chrono::milliseconds timeout)
{
    std::vector<std::string> argv{agent_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, run_options{.timeout = timeout});
}

agent_host::agent_host(const temp_dir& parent, std::string name)
    : name_(std::move(name)), state_dir_(parent.path() / name_),
      log_file_(parent.path() / (name_ + ".log"))
{}

agent_host::~agent_host()
{
    stop();
}

run_result agent_host::enroll(const std::string& token) const
{
    return run_agent({"enroll", "--token", token, "--state-dir", state_dir_.string()});
}

nlohmann::json agent_host::status() const
{
    const auto r = run_agent({"status", "--state-dir", state_dir_.string(), "--json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !j.is_object()) {
        throw rig_error(
            "certfleet-agent status of " + name_ + " failed (exit " + std::to_string(r.exit_code) +
            "): " + r.out + r.err
        );
    }
    return j;
}

void agent_host::start(int poll_seconds)
{
    stop();
    process_ = std::make_unique<child_process>(child_options{
        .argv =
            {agent_binary().string(), "run", "--state-dir", state_dir_.string(), "--poll-seconds",
             std::to_string(poll_seconds)},
        .log_file = log_file_});
}

int agent_host::stop()
{
    if (!process_) {
        return 0;
    }
    const int status = process_->stop();
    process_.reset();
    return status;
}

bool agent_host::running()
{
    return process_ && process_->running();
}

std::string agent_host::log() const
{
    return read_text_file(log_file_);
}

} // namespace certfleet::test
