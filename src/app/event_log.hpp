#pragma once
// Appending to the store's event log from the app layer (REST handlers, the deploy service).

#include <optional>
#include <string>

#include "core/store.hpp"

namespace certfleet::app {

// Appends an event stamped now; a failure to do so does not fail what it records.
void record_event(
    core::store& store,
    std::optional<core::row_id> certificate,
    std::string kind,
    std::string message
);

} // namespace certfleet::app
