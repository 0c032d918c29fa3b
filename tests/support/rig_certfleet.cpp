#include "support/rig_certfleet.hpp"

#include "support/rig_net.hpp"

#ifndef CERTFLEET_BINARY
#error "CERTFLEET_BINARY must name the certfleet executable (see tests/integration/CMakeLists.txt)"
#endif

namespace certfleet::test {
namespace {

constexpr int start_attempts = 3;

} // namespace

std::filesystem::path certfleet_binary()
{
    return CERTFLEET_BINARY;
}

run_result run_certfleet(const std::vector<std::string>& args, const run_options& options)
{
    std::vector<std::string> argv{certfleet_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, options);
}

std::string with_port(std::string text, std::uint16_t port)
{
    static constexpr std::string_view placeholder = "{port}";
    const auto value = std::to_string(port);
    for (auto at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + value.size())) {
        text.replace(at, placeholder.size(), value);
    }
    return text;
}

certfleet_process::certfleet_process(const temp_dir& dir, certfleet_options options)
{
    for (int attempt = 1;; ++attempt) {
        port_ = free_port();
        const auto home = dir.subdir("certfleet-" + std::to_string(port_));
        config_file_ = dir.write(home / "certfleet.toml", with_port(options.config, port_));
        std::vector<std::string> argv{
            certfleet_binary().string(), "serve", "--config", config_file_.string()};
        argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
        process_ = std::make_unique<child_process>(child_options{
            .argv = argv, .log_file = home / "certfleet.log"});
        const bool ready = wait_for_udp_dns(
            port_,
            {
                .query = {.name = options.ready_name, .type = dns::rr_type::soa, .flags = 0},
                .timeout = options.start_timeout,
                .process = process_.get(),
                .accept = [](const decoded_response& r
                          ) { return r.rcode() == 0 && r.flag(dns::flag::aa); },
            }
        );
        if (ready) {
            return;
        }
        const bool exited = !process_->running();
        const int status = process_->stop();
        const auto log = process_->log();
        // Exit code 1 with "cannot listen": another process took the port after free_port().
        if (attempt < start_attempts && exited && status == 1 &&
            log.find("cannot listen") != std::string::npos) {
            continue;
        }
        throw rig_error(
            "certfleet serve on " + loopback(port_) +
            (exited ? " exited with status " + std::to_string(status) : " did not answer in time") +
            "; the end of its log (" + process_->log_file().string() + "):\n" + tail_lines(log)
        );
    }
}

std::string certfleet_process::address() const
{
    return loopback(port_);
}

} // namespace certfleet::test
