#include "dns/challenge_records.hpp"

#include <algorithm>
#include <limits>
#include <mutex>

#include "dns/errc.hpp"

namespace certfleet::dns {

boost::system::error_code
challenge_records::present(std::string_view fqdn, std::string_view text, std::chrono::seconds ttl)
{
    auto key = canonical_name(fqdn);
    if (!key) {
        return key.error();
    }
    if (text.size() > 255) {
        return errc::value_too_long;
    }
    const auto seconds = std::clamp<std::chrono::seconds::rep>(
        ttl.count(), 0, std::numeric_limits<std::int32_t>::max()
    );
    std::unique_lock lock(mutex_);
    auto [it, inserted] = values_.try_emplace(*key);
    if (inserted) {
        for_each_ancestor(*key, 0, [&](std::string_view ancestor) {
            ++descendants_[std::string(ancestor)];
        });
    }
    auto& values = it->second;
    const auto existing =
        std::find_if(values.begin(), values.end(), [&](const value& v) { return v.text == text; });
    if (existing != values.end()) {
        existing->ttl = static_cast<std::uint32_t>(seconds);
    } else {
        values.push_back(value{std::string(text), static_cast<std::uint32_t>(seconds)});
    }
    return {};
}

void challenge_records::cleanup(std::string_view fqdn, std::string_view text)
{
    auto key = canonical_name(fqdn);
    if (!key) {
        return;
    }
    std::unique_lock lock(mutex_);
    const auto it = values_.find(*key);
    if (it == values_.end()) {
        return;
    }
    std::erase_if(it->second, [&](const value& v) { return v.text == text; });
    if (!it->second.empty()) {
        return;
    }
    values_.erase(it);
    for_each_ancestor(*key, 0, [&](std::string_view ancestor) {
        const auto d = descendants_.find(ancestor);
        if (d != descendants_.end() && --d->second == 0) {
            descendants_.erase(d);
        }
    });
}

bool challenge_records::name_exists(std::string_view canonical) const
{
    std::shared_lock lock(mutex_);
    return values_.contains(canonical) || descendants_.contains(canonical);
}

std::size_t challenge_records::size() const
{
    std::shared_lock lock(mutex_);
    return values_.size();
}

} // namespace certfleet::dns
