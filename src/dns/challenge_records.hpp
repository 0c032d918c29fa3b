#pragma once
// The DNS-01 challenge record set: TXT values the ACME client (or the acme-dns API) puts at
// challenge names, answered by the authority from memory. It knows nothing of the wire codec
// beyond canonical names.
//
// Every change publishes a new immutable challenge_set; the server's threads read the one they
// hold without a lock (see snapshot.hpp), and one answer reads one set, so it never mixes the
// values of two moments.

#include <mutex>
#include <vector>

#include "core/challenge_board.hpp"
#include "dns/snapshot.hpp"
#include "dns/zone.hpp"

namespace certfleet::dns {

// One immutable state of the challenge records.
class challenge_set
{
public:
    struct value
    {
        std::string text;
        std::uint32_t ttl;
    };

    // The TXT values at `canonical` (wire, lower case), or null.
    [[nodiscard]] const std::vector<value>* find_txt(std::string_view canonical) const noexcept
    {
        if (values_.empty()) {
            return nullptr; // the usual case between orders: no name to hash
        }
        const auto it = values_.find(canonical);
        return it == values_.end() ? nullptr : &it->second;
    }
    // True when `canonical` holds values or some challenge name lies below it (an empty
    // non-terminal): the name exists, so a query for another type gets NODATA, not NXDOMAIN.
    [[nodiscard]] bool name_exists(std::string_view canonical) const noexcept
    {
        return !values_.empty() &&
               (values_.contains(canonical) || descendants_.contains(canonical));
    }
    [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }

private:
    friend class challenge_records;
    name_map<std::vector<value>> values_;
    name_map<std::size_t> descendants_; // ancestor → number of challenge names below it
};

class challenge_records final : public core::challenge_board
{
public:
    using value = challenge_set::value;

    challenge_records();

    [[nodiscard]] boost::system::error_code
    present(std::string_view fqdn, std::string_view text, std::chrono::seconds ttl) override;
    void cleanup(std::string_view fqdn, std::string_view text) override;

    // The current set; it never changes, later changes publish another one.
    [[nodiscard]] std::shared_ptr<const challenge_set> snapshot() const
    {
        return published_.load().first;
    }
    [[nodiscard]] const published<challenge_set>& snapshots() const noexcept { return published_; }

    // Calls f(values) when `canonical` (wire, lower case) holds TXT values in the current set;
    // returns whether it did.
    template <class F> bool visit_txt(std::string_view canonical, F&& f) const
    {
        const auto set = snapshot();
        const auto* values = set->find_txt(canonical);
        if (values == nullptr) {
            return false;
        }
        f(*values);
        return true;
    }
    [[nodiscard]] bool name_exists(std::string_view canonical) const
    {
        return snapshot()->name_exists(canonical);
    }
    [[nodiscard]] std::size_t size() const { return snapshot()->size(); }

private:
    std::mutex writer_; // one change at a time: each copies the last set
    std::shared_ptr<const challenge_set> last_;
    published<challenge_set> published_;
};

} // namespace certfleet::dns
