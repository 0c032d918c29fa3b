// certfleet: the server and the command line.
#include <iostream>

#include "app/commands.hpp"

int main(int argc, char** argv)
{
    using namespace certfleet::app;
    CLI::App app{"certfleet: self-hosted certificate automation (ACME DNS-01 with its own DNS)"};
    app.footer("Exit codes: 0 success, 1 a failure happened, 2 usage or configuration error.");
    app.require_subcommand(1);
    command_runner run;
    add_init_command(app, run);
    add_serve_command(app, run);
    add_domain_command(app, run);
    add_cert_command(app, run);
    add_renew_command(app, run);
    add_status_command(app, run);
    add_issue_command(app, run);
    add_acmedns_command(app, run);
    add_token_command(app, run);
    add_probe_command(app, run);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    try {
        return run ? run() : exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "certfleet: " << e.what() << '\n';
        return exit_failure;
    }
}
