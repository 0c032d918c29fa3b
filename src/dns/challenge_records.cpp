#include "dns/challenge_records.hpp"

#include <algorithm>
#include <limits>

#include "dns/errc.hpp"

namespace certfleet::dns {

challenge_records::challenge_records()
    : last_(std::make_shared<const challenge_set>()), published_(last_)
{}

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
    const auto seconds = static_cast<std::uint32_t>(std::clamp<std::chrono::seconds::rep>(
        ttl.count(), 0, std::numeric_limits<std::int32_t>::max()
    ));
    std::lock_guard lock(writer_);
    // Copy on write: challenge sets are small (the names of the orders in flight), and readers
    // never wait for a writer.
    auto next = std::make_shared<challenge_set>(*last_);
    auto [it, inserted] = next->values_.try_emplace(*key);
    if (inserted) {
        for_each_ancestor(*key, 0, [&](std::string_view ancestor) {
            ++next->descendants_[std::string(ancestor)];
        });
    }
    auto& values = it->second;
    const auto existing =
        std::find_if(values.begin(), values.end(), [&](const value& v) { return v.text == text; });
    if (existing != values.end()) {
        existing->ttl = seconds;
    } else {
        values.push_back(value{std::string(text), seconds});
    }
    last_ = next;
    published_.publish(std::move(next));
    return {};
}

void challenge_records::cleanup(std::string_view fqdn, std::string_view text)
{
    auto key = canonical_name(fqdn);
    if (!key) {
        return;
    }
    std::lock_guard lock(writer_);
    const auto* values = last_->find_txt(*key);
    if (values == nullptr || std::none_of(values->begin(), values->end(), [&](const value& v) {
            return v.text == text;
        })) {
        return; // nothing to remove: no new set
    }
    auto next = std::make_shared<challenge_set>(*last_);
    const auto it = next->values_.find(*key);
    std::erase_if(it->second, [&](const value& v) { return v.text == text; });
    if (it->second.empty()) {
        next->values_.erase(it);
        for_each_ancestor(*key, 0, [&](std::string_view ancestor) {
            const auto d = next->descendants_.find(ancestor);
            if (d != next->descendants_.end() && --d->second == 0) {
                next->descendants_.erase(d);
            }
        });
    }
    last_ = next;
    published_.publish(std::move(next));
}

} // namespace certfleet::dns
