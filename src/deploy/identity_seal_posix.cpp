// identity_seal.hpp on Linux: the file's mode (0600, in a 0700 directory) protects it.
#include "deploy/identity_seal.hpp"

namespace certfleet::deploy {

boost::system::result<core::secret> seal_identity(std::string_view plain)
{
    return core::secret{plain};
}

boost::system::result<core::secret> open_identity(std::string_view stored)
{
    return core::secret{stored};
}

} // namespace certfleet::deploy
