#pragma once
// What the sweep prints: a table for people, one JSON document for programs, JUnit XML for CI
// (one test case per certificate; a failure carries the CA's own problem text).

#include <string>
#include <vector>

#include "app/issuer.hpp"
#include "app/rest_client.hpp"
#include "app/sweep.hpp"

namespace certfleet::app {

struct sweep_output
{
    bool dry_run = false;
    bool json = false;
    std::string junit_file;
};

void print_plan(
    const std::vector<planned_renewal>& planned,
    const sweep_output& output,
    std::chrono::system_clock::time_point now
);

// Prints the results and returns the sweep's exit code: 0 when all were issued (or none was
// due), 1 when any was not or raised an alert.
int report_sweep(
    const std::vector<planned_renewal>& planned,
    const std::vector<run_result>& results,
    sweep_mode mode,
    const sweep_output& output,
    std::chrono::system_clock::time_point started
);

// Runs a sweep and reports it (renew and cert renew): here, or on the server `remote` names.
int run_sweep(
    const std::string& config_file,
    const sweep_selection& selection,
    const sweep_output& output,
    std::chrono::seconds deadline,
    const remote_options& remote
);

} // namespace certfleet::app
