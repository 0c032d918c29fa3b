#pragma once
// Internals shared by agent.cpp and agent_enroll.cpp (not part of the agent's contract).

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "deploy/agent.hpp"

namespace certfleet::deploy {

struct agent::loaded
{
    agent_identity identity;
    agent_state state;
    std::unique_ptr<agent_transport> transport;
};

namespace agent_detail {

// Printable ASCII only, so that text from the server or a program cannot forge log lines.
[[nodiscard]] std::string printable(std::string_view untrusted, std::size_t max = 300);

// The message of a server's error body {"error":{"code","message"}}, escaped; empty when none.
[[nodiscard]] std::string server_message(std::string_view body);

[[nodiscard]] std::string ms_text(std::chrono::milliseconds d);

// "assignment 3"
[[nodiscard]] std::string assignment_text(std::int64_t id);

} // namespace agent_detail
} // namespace certfleet::deploy
