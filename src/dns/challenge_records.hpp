#pragma once
// The DNS-01 challenge record set: TXT values the ACME client (or the acme-dns API) puts at
// challenge names, answered by the authority from memory. It knows nothing of the wire codec
// beyond canonical names; the responder reads it through visit_txt().

#include <shared_mutex>

#include "core/challenge_board.hpp"
#include "dns/zone.hpp"

namespace certfleet::dns {

class challenge_records final : public core::challenge_board
{
public:
    struct value
    {
        std::string text;
        std::uint32_t ttl;
    };

    [[nodiscard]] boost::system::error_code
    present(std::string_view fqdn, std::string_view text, std::chrono::seconds ttl) override;
    void cleanup(std::string_view fqdn, std::string_view text) override;

    // Calls f(values) under a shared lock when `canonical` (wire, lower case) holds TXT values;
    // returns whether it did.
    template <class F> bool visit_txt(std::string_view canonical, F&& f) const
    {
        std::shared_lock lock(mutex_);
        const auto it = values_.find(canonical);
        if (it == values_.end()) {
            return false;
        }
        f(it->second);
        return true;
    }

    // True when `canonical` holds values or some challenge name lies below it (an empty
    // non-terminal): the name exists, so a query for another type gets NODATA, not NXDOMAIN.
    [[nodiscard]] bool name_exists(std::string_view canonical) const;
    [[nodiscard]] std::size_t size() const;

private:
    mutable std::shared_mutex mutex_;
    name_map<std::vector<value>> values_;
    name_map<std::size_t> descendants_; // ancestor → number of challenge names below it
};

} // namespace certfleet::dns
