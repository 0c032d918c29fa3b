#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "core/sqlite_support.hpp"

using certfleet::core::sqlite_detail::statement_cache;

namespace {

// A database file of its own, in WAL mode as the store keeps it, holding t = {1: one, 2: two}.
struct scratch_db
{
    std::filesystem::path file = std::filesystem::temp_directory_path() /
                                 ("certfleet-statements-" + std::to_string(::getpid()) + ".db");
    SQLite::Database db;
    scratch_db() : db(open(file))
    {
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)");
        db.exec("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
    }
    static SQLite::Database open(const std::filesystem::path& file)
    {
        std::filesystem::remove(file);
        return {file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};
    }
    ~scratch_db()
    {
        for (const auto* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(file.string() + suffix);
        }
    }
};

} // namespace

TEST_CASE("statement cache: a statement is prepared once and comes back reset and unbound")
{
    scratch_db scratch;
    auto& db = scratch.db;
    statement_cache statements(db);
    const std::string sql = "SELECT v FROM t WHERE k >= ? ORDER BY k";

    const SQLite::Statement* first = nullptr;
    {
        auto q = statements.get(sql);
        first = &*q;
        q->bind(1, 1);
        REQUIRE(q->executeStep());
        CHECK(q->getColumn(0).getString() == "one");
        // Left in the middle of its rows: the lease's end resets it.
    }
    {
        auto q = statements.get(sql);
        CHECK(&*q == first);
        // Not reset, it would go on to 'two'; still bound, it would start again at 'one'.
        CHECK_FALSE(q->executeStep()); // unbound: k >= NULL matches nothing
    }
}

TEST_CASE("statement cache: the same SQL leased twice at once gets two statements")
{
    scratch_db scratch;
    auto& db = scratch.db;
    statement_cache statements(db);
    const std::string sql = "SELECT v FROM t WHERE k = ?";
    auto outer = statements.get(sql);
    outer->bind(1, 1);
    REQUIRE(outer->executeStep());
    auto inner = statements.get(sql);
    CHECK(&*inner != &*outer);
    inner->bind(1, 2);
    REQUIRE(inner->executeStep());
    CHECK(inner->getColumn(0).getString() == "two");
    CHECK(outer->getColumn(0).getString() == "one");
}

TEST_CASE("statement cache: an ended lease holds no read snapshot")
{
    scratch_db scratch;
    auto& db = scratch.db;
    statement_cache statements(db);
    {
        auto q = statements.get("SELECT v FROM t ORDER BY k");
        REQUIRE(q->executeStep()); // one row of two read: a read transaction is open
    }
    // Another connection's change is seen at once, and a full checkpoint is not held back by a
    // reader, which an unreset statement would be.
    SQLite::Database other(scratch.file.string(), SQLite::OPEN_READWRITE);
    other.exec("UPDATE t SET v = 'uno' WHERE k = 1");
    {
        auto q = statements.get("SELECT v FROM t WHERE k = 1");
        REQUIRE(q->executeStep());
        CHECK(q->getColumn(0).getString() == "uno");
    }
    CHECK(db.execAndGet("PRAGMA wal_checkpoint(TRUNCATE)").getInt() == 0); // not busy
}
