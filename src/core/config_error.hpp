#pragma once
// Configuration errors: thrown at start-up only, with the path of the offending key and what
// was expected, so that the operator can fix the file without reading code.

#include <stdexcept>
#include <string>

namespace certfleet::core {

class config_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace certfleet::core
