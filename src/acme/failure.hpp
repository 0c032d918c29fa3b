#pragma once
// What went wrong with an ACME operation: our error code, plus the CA's problem document when
// the CA sent one. The CA's text is kept apart from ours (and escaped by problem::summary()).

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>

#include "acme/errc.hpp"
#include "acme/problem.hpp"

namespace certfleet::acme {

struct failure
{
    boost::system::error_code code;
    std::optional<problem> ca_problem;
    std::string context; // ours: which step failed, e.g. "finalize"

    // One line for humans: our context and code, then the CA's summary if any.
    [[nodiscard]] std::string message() const;
    // When the CA asked us to come back later (rateLimited, 429, 503 with Retry-After).
    [[nodiscard]] std::optional<std::chrono::seconds> retry_after() const
    {
        return ca_problem ? ca_problem->retry_after : std::nullopt;
    }
};

// A short stable class of a failure, for metrics labels (a small fixed set, never the CA's text):
// the CA's problem type (registered_short_type(); for "compound", its first subproblem's), else
// our acme::errc name ("timeout", "bad_nonce_exhausted"), else "internal" for certfleet's own
// errors (core: the store, keys) or "network" for the rest (transport, TLS, resolution).
[[nodiscard]] std::string_view failure_class(const failure& f) noexcept;

[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

template <class T> using outcome = boost::system::result<T, failure>;

} // namespace certfleet::acme
