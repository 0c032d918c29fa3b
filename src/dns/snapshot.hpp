#pragma once
// Immutable snapshots published by one side and read by many threads without a lock on the
// read path: the writer swaps in a new shared_ptr and bumps a version; each reader thread keeps
// the snapshot it last loaded in a snapshot_cache and reloads it (under a short lock) only when
// the version has moved. A reader holds one snapshot for as long as it needs a consistent view.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace certfleet::dns {

template <class T> class published
{
public:
    explicit published(std::shared_ptr<const T> initial = nullptr) : current_(std::move(initial)) {}

    // Thread-safe; readers see `next` from their next check of version() on.
    void publish(std::shared_ptr<const T> next)
    {
        std::shared_ptr<const T> old;
        {
            std::lock_guard lock(mutex_);
            old = std::exchange(current_, std::move(next));
            version_.fetch_add(1, std::memory_order_release);
        }
        // `old` is released here, outside the lock; readers still holding it keep it alive.
    }

    // The current snapshot and its version, consistent with each other.
    [[nodiscard]] std::pair<std::shared_ptr<const T>, std::uint64_t> load() const
    {
        std::lock_guard lock(mutex_);
        return {current_, version_.load(std::memory_order_relaxed)};
    }

    [[nodiscard]] std::uint64_t version() const noexcept
    {
        return version_.load(std::memory_order_acquire);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const T> current_;
    std::atomic<std::uint64_t> version_{0};
};

// One reader thread's view of a published<T>: get() costs one atomic load while nothing changed.
template <class T> class snapshot_cache
{
public:
    [[nodiscard]] const T* get(const published<T>& source)
    {
        if (!loaded_ || source.version() != version_) {
            auto [snapshot, version] = source.load();
            held_ = std::move(snapshot);
            version_ = version;
            loaded_ = true;
        }
        return held_.get();
    }

private:
    std::shared_ptr<const T> held_;
    std::uint64_t version_ = 0;
    bool loaded_ = false;
};

} // namespace certfleet::dns
