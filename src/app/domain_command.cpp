#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "dns/delegation_checker.hpp"

namespace certfleet::app {
namespace {

struct check_options
{
    dns::delegation_check check;
    int timeout_ms = 2000;
    bool json = false;
};

int check_domain(check_options& options)
{
    options.check.timeout = std::chrono::milliseconds(options.timeout_ms);
    const auto report = dns::check_delegation(options.check);
    if (options.json) {
        nlohmann::json out{
            {"name", options.check.name},
            {"challenge_name", report.challenge_name},
            {"expected", report.expected_target},
            {"status", dns::to_string(report.status)},
            {"chain", report.chain},
            {"detail", report.detail},
        };
        std::cout << out.dump() << '\n';
    } else {
        std::cout << report.challenge_name << ": " << dns::to_string(report.status) << "\n  "
                  << report.detail << '\n';
    }
    return report.status == dns::delegation_status::correct ? exit_ok : exit_failure;
}

} // namespace

void add_domain_command(CLI::App& app, command_runner& run)
{
    auto* domain = app.add_subcommand("domain", "Managed names and their delegation");
    domain->require_subcommand(1);
    auto options = std::make_shared<check_options>();
    auto* check = domain->add_subcommand(
        "check", "Check that _acme-challenge.<name> is a CNAME to its label in our zone (exit 0 "
                 "when correct)"
    );
    check->add_option("name", options->check.name, "Managed name, e.g. www.example.com")
        ->required();
    check
        ->add_option(
            "--expect", options->check.expected_target,
            "Expected CNAME target, e.g. k3f9.acme.example.net"
        )
        ->required();
    check->add_option(
        "--resolver", options->check.resolvers, "Resolver host:port (default: the system's)"
    );
    check->add_option("--timeout-ms", options->timeout_ms, "Timeout per try")
        ->check(CLI::Range(10, 60000));
    check->add_flag("--json", options->json, "One JSON object on stdout");
    check->callback([options, &run] { run = [options] { return check_domain(*options); }; });
}

} // namespace certfleet::app
