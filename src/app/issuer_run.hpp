#pragma once
// Inside the issuer: what one run carries from step to step, shared by issuer.cpp (the run,
// its outcome), issuer_order.cpp (the ACME order with its write-ahead hooks) and
// issuer_window.cpp (the CA's renewal window).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "acme/client.hpp"
#include "app/issuer.hpp"

namespace certfleet::app {

struct issuer::run_context
{
    core::certificate_record cert;
    std::optional<core::certificate_version> previous;
    ca_session* session = nullptr;
    core::order_record order;
    std::map<std::string, std::string> targets; // managed name (no "*.") → "<label>.<zone>"
    std::shared_ptr<acme::order_wakeup> wakeup = std::make_shared<acme::order_wakeup>();
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
};

// A failure worth retrying soon, not a failed renewal (see issuer.cpp).
[[nodiscard]] bool is_transient(const acme::failure& f);

} // namespace certfleet::app
