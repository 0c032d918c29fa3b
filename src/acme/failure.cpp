#include "acme/failure.hpp"

#include <stdexcept>

namespace certfleet::acme {

std::string failure::message() const
{
    std::string out = context.empty() ? std::string() : context + ": ";
    out += code.message();
    if (ca_problem) {
        out += " — CA says: " + ca_problem->summary();
    }
    return out;
}

void throw_exception_from_error(const failure& f, const boost::source_location&)
{
    throw std::runtime_error(f.message());
}

} // namespace certfleet::acme
