#include "core/metrics.hpp"

#include <stdexcept>

namespace certfleet::core {

counter_family::counter_family(std::initializer_list<std::string_view> label_names)
    : label_names_(label_names.begin(), label_names.end())
{}

void counter_family::add(values label_values, std::uint64_t n)
{
    if (label_values.size() != label_names_.size()) {
        throw std::invalid_argument(
            "counter_family: " + std::to_string(label_values.size()) + " label values for " +
            std::to_string(label_names_.size()) + " label names"
        );
    }
    std::lock_guard lock(mutex_);
    if (auto it = counts_.find(label_values); it != counts_.end()) {
        it->second += n;
        return;
    }
    counts_.emplace(std::vector<std::string>(label_values.begin(), label_values.end()), n);
}

std::vector<counter_family::series> counter_family::snapshot() const
{
    std::lock_guard lock(mutex_);
    std::vector<series> out;
    out.reserve(counts_.size());
    for (const auto& [label_values, count] : counts_) {
        out.push_back(series{label_values, count});
    }
    return out;
}

std::uint64_t counter_family::get(std::initializer_list<std::string_view> label_values) const
{
    std::lock_guard lock(mutex_);
    const auto it = counts_.find(values(label_values.begin(), label_values.size()));
    return it == counts_.end() ? 0 : it->second;
}

} // namespace certfleet::core
