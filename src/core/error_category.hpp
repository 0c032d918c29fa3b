#pragma once
// One boost::system error category per module's `errc` enum: a name and a function that
// describes each value. Each module keeps its own descriptions; this holds the shared shape.

#include <boost/system/error_category.hpp>
#include <string>

namespace certfleet::core {

// Boost's error_category has a protected, non-virtual destructor by design; categories are
// static objects, never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
template <class Enum> class enum_category final : public boost::system::error_category
{
public:
    using describe_fn = const char* (*)(Enum) noexcept;

    constexpr enum_category(const char* name, describe_fn describe) noexcept
        : name_(name), describe_(describe)
    {}

    [[nodiscard]] const char* name() const noexcept override { return name_; }
    [[nodiscard]] std::string message(int value) const override
    {
        return describe_(static_cast<Enum>(value));
    }

private:
    const char* name_;
    describe_fn describe_;
};
#pragma GCC diagnostic pop

} // namespace certfleet::core
