#pragma once
// Shared by the SQLite store's files (sqlite_store.cpp, sqlite_deploy_store.cpp): the schema's
// migrations, time and blob conversions, and `guarded`, which turns SQLite's exceptions into the
// store's error codes. Internal to core: nothing outside the SQLite store includes it.

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/deploy_store.hpp"
#include "core/errc.hpp"
#include "core/store.hpp"

namespace certfleet::core::sqlite_detail {

// Each entry moves the schema one version up; never edit one that has shipped.
[[nodiscard]] std::span<const std::string_view> migrations() noexcept;

// The deploy half of the store on `db` (sqlite_deploy_store.cpp).
[[nodiscard]] std::unique_ptr<deploy_store> make_deploy_store(SQLite::Database& db);

inline std::int64_t to_unix(time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

inline time_point from_unix(std::int64_t s)
{
    return time_point(std::chrono::seconds(s));
}

inline std::optional<time_point> optional_time(const SQLite::Column& c)
{
    if (c.isNull()) {
        return std::nullopt;
    }
    return from_unix(c.getInt64());
}

inline void bind_time(SQLite::Statement& q, int index, std::optional<time_point> t)
{
    if (t) {
        q.bind(index, to_unix(*t));
    } else {
        q.bind(index);
    }
}

// A value, or NULL when there is none.
template <class T>
void bind_optional(SQLite::Statement& q, int index, const std::optional<T>& value)
{
    if (value) {
        q.bind(index, *value);
    } else {
        q.bind(index);
    }
}

inline void bind_blob(SQLite::Statement& q, int index, std::string_view bytes)
{
    q.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

inline std::string blob(const SQLite::Column& c)
{
    return std::string(
        static_cast<const char*>(c.getBlob()), static_cast<std::size_t>(c.getBytes())
    );
}

inline std::string json_list(const std::vector<std::string>& items)
{
    return nlohmann::json(items).dump();
}

inline std::vector<std::string> parse_list(const std::string& text)
{
    auto j = nlohmann::json::parse(text, nullptr, false);
    std::vector<std::string> out;
    if (j.is_array()) {
        for (const auto& item : j) {
            if (item.is_string()) {
                out.push_back(item.get<std::string>());
            }
        }
    }
    return out;
}

inline boost::system::error_code error_of(const SQLite::Exception& e)
{
    switch (e.getErrorCode() & 0xff) {
    case SQLITE_FULL:
        return make_error_code(errc::storage_full);
    case SQLITE_CONSTRAINT:
        return make_error_code(errc::already_exists);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return make_error_code(errc::busy);
    default:
        return make_error_code(errc::storage_failure);
    }
}

// Prepared statements kept by their SQL text. Agents' long-polls run the same few small indexed
// queries thousands of times a second, and preparing one costs more than running it. A lease
// resets its statement and clears its bindings when it ends, so no read transaction outlives its
// query and no bound secret stays behind; the same SQL leased twice at once (a nested use) gets
// a statement of its own.
class statement_cache
{
public:
    explicit statement_cache(SQLite::Database& db) : db_(db) {}
    statement_cache(const statement_cache&) = delete;
    statement_cache& operator=(const statement_cache&) = delete;

    class lease
    {
    public:
        lease(SQLite::Statement& statement, bool& in_use) : statement_(&statement), in_use_(&in_use)
        {
            in_use = true;
        }
        explicit lease(std::unique_ptr<SQLite::Statement> own)
            : own_(std::move(own)), statement_(own_.get())
        {}
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease()
        {
            if (in_use_ == nullptr) {
                return;
            }
            try {
                statement_->reset(); // reports the last step's error again: already handled
            } catch (const SQLite::Exception&) {
            }
            try {
                statement_->clearBindings();
            } catch (const SQLite::Exception&) {
            }
            *in_use_ = false;
        }
        SQLite::Statement& operator*() const noexcept { return *statement_; }
        SQLite::Statement* operator->() const noexcept { return statement_; }

    private:
        std::unique_ptr<SQLite::Statement> own_;
        SQLite::Statement* statement_ = nullptr;
        bool* in_use_ = nullptr;
    };

    [[nodiscard]] lease get(const std::string& sql)
    {
        auto it = entries_.find(sql);
        if (it == entries_.end()) {
            if (entries_.size() >= max_entries) {
                std::erase_if(entries_, [](const auto& e) { return !e.second.in_use; });
            }
            auto prepared = std::make_unique<SQLite::Statement>(db_, sql);
            it = entries_.try_emplace(sql, entry{std::move(prepared)}).first;
        }
        if (it->second.in_use) {
            return lease(std::make_unique<SQLite::Statement>(db_, sql));
        }
        return {*it->second.statement, it->second.in_use};
    }

private:
    static constexpr std::size_t max_entries = 128;
    struct entry
    {
        std::unique_ptr<SQLite::Statement> statement;
        bool in_use = false;
    };
    SQLite::Database& db_;
    std::unordered_map<std::string, entry> entries_;
};

template <class T> struct as_result
{
    using type = store_result<T>;
};
template <class T> struct as_result<store_result<T>>
{
    using type = store_result<T>;
};

// Runs `body`, turning SQLite's exceptions into this layer's error codes. `body` returns a
// value, nothing, or a store_result of its own.
template <class F> auto guarded(F&& body) -> typename as_result<decltype(body())>::type
{
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            return {};
        } else {
            return body();
        }
    } catch (const SQLite::Exception& e) {
        return
            typename as_result<decltype(body())>::type(boost::system::in_place_error, error_of(e));
    }
}

} // namespace certfleet::core::sqlite_detail
