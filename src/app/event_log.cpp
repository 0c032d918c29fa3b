#include "app/event_log.hpp"

#include <chrono>

namespace certfleet::app {

void record_event(
    core::store& store,
    std::optional<core::row_id> certificate,
    std::string kind,
    std::string message
)
{
    core::event_record e;
    e.at = std::chrono::system_clock::now();
    e.certificate_id = certificate;
    e.kind = std::move(kind);
    e.message = std::move(message);
    (void)store.append_event(e);
}

} // namespace certfleet::app
