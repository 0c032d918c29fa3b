#include "net/http_error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace certfleet::net {

std::string http_error::message() const
{
    std::string out = code.message();
    if (!detail.empty()) {
        out += ": ";
        out += detail;
    }
    if (cause) {
        out += " (";
        out += cause.message();
        out += ')';
    }
    return out;
}

void throw_exception_from_error(const http_error& e, const boost::source_location& loc)
{
    // system_error appends code.message() to the text given here.
    std::string what = "HTTP request failed";
    if (!e.detail.empty()) {
        what += ": ";
        what += e.detail;
    }
    if (e.cause) {
        what += " (";
        what += e.cause.message();
        what += ')';
    }
    boost::throw_exception(boost::system::system_error(e.code, what), loc);
}

} // namespace certfleet::net
