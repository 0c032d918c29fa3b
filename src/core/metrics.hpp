#pragma once
// Counters for monitoring, added to by the modules that count (dns, acme, app) and read at scrape
// time by the app's GET /metrics (app/metrics.hpp). Pure: no I/O, no metric names or help
// texts (the renderer owns those).
//
// - local_counter: written by one thread, read by any. A relaxed load and store, no locked
//   instruction: for hot paths that keep one counter per thread (the DNS server's shards) and
//   sum them when read.
// - counter: added to from any thread (a relaxed fetch_add).
// - counter_family: counts by label values, for a fixed list of label names. Thread-safe; it
//   takes a lock per add, so it is for events that are rare next to a lock (ACME requests,
//   issuance runs), never for a per-packet path. It keeps every combination of values it was
//   ever given: callers pass values from small fixed sets (an endpoint kind, a problem type's
//   short name), never free text.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::core {

// The count both kinds of counter keep: read from any thread.
class counter_base
{
public:
    [[nodiscard]] std::uint64_t get() const noexcept
    {
        return value_.load(std::memory_order_relaxed);
    }

protected:
    [[nodiscard]] std::atomic<std::uint64_t>& value() noexcept { return value_; }

private:
    std::atomic<std::uint64_t> value_{0};
};

class local_counter : public counter_base
{
public:
    // Only ever called by the thread that owns the counter.
    void add(std::uint64_t n = 1) noexcept
    {
        value().store(value().load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

class counter : public counter_base
{
public:
    void add(std::uint64_t n = 1) noexcept { value().fetch_add(n, std::memory_order_relaxed); }
};

class counter_family
{
public:
    using values = std::span<const std::string_view>;

    counter_family(std::initializer_list<std::string_view> label_names);

    // Adds n to the series with these label values, one per label name in order (the series
    // starts at 0). Throws std::invalid_argument when the count of values is wrong: a broken
    // invariant, the same at every call of that place.
    void add(values label_values, std::uint64_t n = 1);
    void add(std::initializer_list<std::string_view> label_values, std::uint64_t n = 1)
    {
        add(values(label_values.begin(), label_values.size()), n);
    }
    // Makes the series exist at 0, so that a rate over it starts from a known point.
    void touch(std::initializer_list<std::string_view> label_values) { add(label_values, 0); }

    struct series
    {
        std::vector<std::string> label_values;
        std::uint64_t count = 0;
    };
    // Every series, ordered by label values.
    [[nodiscard]] std::vector<series> snapshot() const;
    // One series' count; 0 when it does not exist.
    [[nodiscard]] std::uint64_t get(std::initializer_list<std::string_view> label_values) const;
    [[nodiscard]] const std::vector<std::string>& label_names() const noexcept
    {
        return label_names_;
    }

private:
    // Orders stored label values against each other and against looked-up views.
    struct values_less
    {
        using is_transparent = void;
        template <class A, class B> bool operator()(const A& a, const B& b) const noexcept
        {
            return std::lexicographical_compare(
                a.begin(), a.end(), b.begin(), b.end(),
                [](std::string_view x, std::string_view y) { return x < y; }
            );
        }
    };

    std::vector<std::string> label_names_;
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::uint64_t, values_less> counts_;
};

} // namespace certfleet::core
