#include "core/issuance_state.hpp"

#include <array>
#include <utility>

namespace certfleet::core {
namespace {

constexpr std::array<std::pair<order_state, std::string_view>, 9> order_names{{
    {order_state::ordering, "ordering"},
    {order_state::authorizing, "authorizing"},
    {order_state::publishing, "publishing"},
    {order_state::answering, "answering"},
    {order_state::validating, "validating"},
    {order_state::finalizing, "finalizing"},
    {order_state::downloading, "downloading"},
    {order_state::issued, "issued"},
    {order_state::failed, "failed"},
}};

constexpr std::array<std::pair<certificate_state, std::string_view>, 5> certificate_names{{
    {certificate_state::pending, "pending"},
    {certificate_state::issuing, "issuing"},
    {certificate_state::valid, "valid"},
    {certificate_state::failed, "failed"},
    {certificate_state::revoked, "revoked"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e)
{
    for (const auto& [value, name] : table) {
        if (value == e) {
            return name;
        }
    }
    return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum>
value_of(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view text)
{
    for (const auto& [value, name] : table) {
        if (name == text) {
            return value;
        }
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(order_state s) noexcept
{
    return name_of(order_names, s);
}

std::optional<order_state> order_state_from_string(std::string_view s) noexcept
{
    return value_of(order_names, s);
}

std::string_view to_string(certificate_state s) noexcept
{
    return name_of(certificate_names, s);
}

std::optional<certificate_state> certificate_state_from_string(std::string_view s) noexcept
{
    return value_of(certificate_names, s);
}

bool may_advance(order_state from, order_state to) noexcept
{
    if (is_final(from)) {
        return from == to;
    }
    if (to == order_state::failed) {
        return true;
    }
    return static_cast<int>(to) >= static_cast<int>(from);
}

} // namespace certfleet::core
