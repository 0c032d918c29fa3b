#include "dns/errc.hpp"

#include <string>

namespace certfleet::dns {
namespace {

// Boost's error_category has a protected, non-virtual destructor by design; categories are
// never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category
{
public:
    [[nodiscard]] const char* name() const noexcept override { return "certfleet.dns"; }

    [[nodiscard]] std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::truncated:
            return "message truncated";
        case errc::bad_label:
            return "invalid label";
        case errc::name_too_long:
            return "domain name longer than 255 bytes";
        case errc::bad_pointer:
            return "compression pointer does not point backwards";
        case errc::too_many_pointers:
            return "too many compression pointers";
        case errc::bad_count:
            return "section count larger than the message";
        case errc::bad_opt:
            return "invalid OPT record";
        case errc::trailing_data:
            return "trailing bytes after the last record";
        case errc::invalid_name:
            return "not a valid domain name";
        case errc::invalid_record:
            return "invalid record";
        case errc::value_too_long:
            return "TXT value longer than 255 bytes";
        }
        return "unknown dns error";
    }
};
#pragma GCC diagnostic pop

} // namespace

const boost::system::error_category& dns_category() noexcept
{
    static const category instance;
    return instance;
}

} // namespace certfleet::dns
