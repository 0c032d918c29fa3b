#pragma once
// The store on SQLite (one file, WAL mode, zero set-up). Versioned migrations run when it
// opens; a database written by a newer certfleet is refused, never modified.

#include <memory>
#include <stdexcept>

#include "core/store.hpp"

namespace certfleet::core {

// Start-up failures of the store: a database that cannot be opened, is newer than this program,
// or cannot be migrated. The message says what is wrong and what to do.
class store_open_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// The schema version this program writes.
[[nodiscard]] int sqlite_schema_version() noexcept;

struct sqlite_store_options
{
    bool create = true; // create the file when missing
    std::chrono::milliseconds busy_timeout{10'000};
};

// Opens (creating and migrating) the database at `file`. Throws store_open_error.
[[nodiscard]] std::unique_ptr<store>
open_sqlite_store(const std::filesystem::path& file, const sqlite_store_options& options = {});

} // namespace certfleet::core
