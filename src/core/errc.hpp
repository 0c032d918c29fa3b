#pragma once
// Errors of the core module: configuration, storage and file-system failures.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace certfleet::core {

enum class errc
{
    invalid_argument = 1,
    io_error,
    not_found,
    corrupt_data,
};

[[nodiscard]] const boost::system::error_category& core_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), core_category()};
}

} // namespace certfleet::core

template <>
struct boost::system::is_error_code_enum<certfleet::core::errc> : std::true_type
{};
