#include "dns/errc.hpp"

#include "core/error_category.hpp"

namespace certfleet::dns {
namespace {

const char* describe(errc e) noexcept
{
    switch (e) {
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
    case errc::descriptor_limit:
        return "the file-descriptor limit (RLIMIT_NOFILE) is lower than max_tcp_connections "
               "and the listeners need";
    case errc::invalid_network:
        return "not an IP network in CIDR notation (address/prefix length)";
    }
    return "unknown dns error";
}

} // namespace

const boost::system::error_category& dns_category() noexcept
{
    static const core::enum_category<errc> instance("certfleet.dns", describe);
    return instance;
}

} // namespace certfleet::dns
