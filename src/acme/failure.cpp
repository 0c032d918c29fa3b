#include "acme/failure.hpp"

#include <stdexcept>

#include "core/errc.hpp"

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

std::string_view failure_class(const failure& f) noexcept
{
    if (f.ca_problem) {
        const auto& p = *f.ca_problem;
        if (p.is("compound") && !p.subproblems.empty()) {
            return registered_short_type(p.subproblems.front().type);
        }
        return registered_short_type(p.type);
    }
    if (f.code.category() == acme_category()) {
        return to_string(static_cast<errc>(f.code.value()));
    }
    if (f.code == core::errc::storage_full) {
        return "storage_full"; // our disk, not the CA
    }
    return f.code.category() == core::core_category() ? "internal" : "network";
}

void throw_exception_from_error(const failure& f, const boost::source_location&)
{
    throw std::runtime_error(f.message());
}

} // namespace certfleet::acme
