// The deploy half of the SQLite store (deploy_store.hpp), on the store's own connection.
#include <SQLiteCpp/SQLiteCpp.h>

#include "core/deploy_store.hpp"
#include "core/errc.hpp"
#include "core/sqlite_support.hpp"

namespace certfleet::core::sqlite_detail {
namespace {

constexpr const char* agent_columns = "id, name, public_point, windows, enabled, enrolled_at, "
                                      "last_seen_at, last_address, agent_version, deploy_now";
constexpr const char* assignment_columns =
    "a.id, a.agent_id, a.certificate_id, a.target, a.options, a.created_at, a.staged_version, "
    "a.deployed_version, a.last_status, a.last_result, a.last_result_at, a.drift";

std::optional<std::int64_t> optional_int(const SQLite::Column& c)
{
    if (c.isNull()) {
        return std::nullopt;
    }
    return c.getInt64();
}

agent_record read_agent(SQLite::Statement& q)
{
    agent_record a;
    a.id = q.getColumn(0).getInt64();
    a.name = q.getColumn(1).getString();
    a.public_point = blob(q.getColumn(2));
    a.windows = q.getColumn(3).getString();
    a.enabled = q.getColumn(4).getInt() != 0;
    a.enrolled_at = from_unix(q.getColumn(5).getInt64());
    a.last_seen_at = optional_time(q.getColumn(6));
    a.last_address = q.getColumn(7).getString();
    a.agent_version = q.getColumn(8).getString();
    a.deploy_now = q.getColumn(9).getInt64();
    return a;
}

assignment_record read_assignment(SQLite::Statement& q)
{
    assignment_record a;
    a.id = q.getColumn(0).getInt64();
    a.agent_id = q.getColumn(1).getInt64();
    a.certificate_id = q.getColumn(2).getInt64();
    a.target = q.getColumn(3).getString();
    a.options_json = q.getColumn(4).getString();
    a.created_at = from_unix(q.getColumn(5).getInt64());
    a.staged_version = optional_int(q.getColumn(6));
    a.deployed_version = optional_int(q.getColumn(7));
    a.last_status = q.getColumn(8).getString();
    a.last_result_json = q.getColumn(9).getString();
    a.last_result_at = optional_time(q.getColumn(10));
    a.drift = q.getColumn(11).getString();
    return a;
}

class sqlite_deploy_store final : public deploy_store
{
public:
    explicit sqlite_deploy_store(SQLite::Database& db) : db_(db) {}

    deploy_result<deploy_row_id> add_join_token(const agent_join_token& t) override
    {
        return guarded([&] {
            auto q =
                statements_.get("INSERT INTO agent_join_tokens(agent_name, secret_sha256, windows, "
                                "created_at, expires_at) VALUES(?, ?, ?, ?, ?)");
            q->bind(1, t.agent_name);
            q->bind(2, t.secret_sha256);
            q->bind(3, t.windows);
            q->bind(4, to_unix(t.created_at));
            q->bind(5, to_unix(t.expires_at));
            q->exec();
            return db_.getLastInsertRowid();
        });
    }

    deploy_result<enrollment> enroll_agent(
        std::string_view secret_sha256,
        std::string_view public_point,
        std::string_view version,
        std::string_view address,
        deploy_time now
    ) override
    {
        return guarded([&]() -> deploy_result<enrollment> {
            SQLite::Transaction t(db_, SQLite::TransactionBehavior::IMMEDIATE);
            auto token = statements_.get(
                "SELECT id, agent_name, windows, expires_at, used_at FROM agent_join_tokens "
                "WHERE secret_sha256 = ?"
            );
            token->bind(1, std::string(secret_sha256));
            enrollment out;
            if (!token->executeStep()) {
                out.refused = "unknown";
                return out;
            }
            if (!token->getColumn(4).isNull()) {
                out.refused = "used";
                return out;
            }
            if (from_unix(token->getColumn(3).getInt64()) <= now) {
                out.refused = "expired";
                return out;
            }
            const auto token_id = token->getColumn(0).getInt64();
            const std::string name = token->getColumn(1).getString();
            const std::string windows = token->getColumn(2).getString();
            auto taken = statements_.get("SELECT 1 FROM agents WHERE name = ?");
            taken->bind(1, name);
            if (taken->executeStep()) {
                out.refused = "name taken";
                return out;
            }
            auto insert = statements_.get(
                "INSERT INTO agents(name, public_point, windows, enrolled_at, last_seen_at, "
                "last_address, agent_version) VALUES(?, ?, ?, ?, ?, ?, ?)"
            );
            insert->bind(1, name);
            bind_blob(*insert, 2, public_point);
            insert->bind(3, windows);
            insert->bind(4, to_unix(now));
            insert->bind(5, to_unix(now));
            insert->bind(6, std::string(address));
            insert->bind(7, std::string(version));
            insert->exec();
            auto used = statements_.get("UPDATE agent_join_tokens SET used_at = ? WHERE id = ?");
            used->bind(1, to_unix(now));
            used->bind(2, token_id);
            used->exec();
            t.commit();
            auto agent = find(name);
            if (!agent) {
                return make_error_code(errc::storage_failure);
            }
            out.agent = std::move(*agent);
            return out;
        });
    }

    deploy_result<agent_record> find_agent(std::string_view name) override
    {
        return guarded([&]() -> deploy_result<agent_record> {
            auto agent = find(name);
            if (!agent) {
                return make_error_code(errc::not_found);
            }
            return std::move(*agent);
        });
    }

    deploy_result<std::vector<agent_record>> list_agents() override
    {
        return guarded([&] {
            auto q = statements_.get(
                std::string("SELECT ") + agent_columns + " FROM agents ORDER BY name"
            );
            std::vector<agent_record> out;
            while (q->executeStep()) {
                out.push_back(read_agent(*q));
            }
            return out;
        });
    }

    deploy_result<void> set_agent_enabled(std::string_view name, bool enabled) override
    {
        return change_agent("UPDATE agents SET enabled = ? WHERE name = ?", enabled ? 1 : 0, name);
    }

    deploy_result<void> remove_agent(std::string_view name) override
    {
        return guarded([&]() -> deploy_result<void> {
            auto q = statements_.get("DELETE FROM agents WHERE name = ?");
            q->bind(1, std::string(name));
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    deploy_result<void> set_agent_windows(std::string_view name, std::string_view windows) override
    {
        return guarded([&]() -> deploy_result<void> {
            auto q = statements_.get("UPDATE agents SET windows = ? WHERE name = ?");
            q->bind(1, std::string(windows));
            q->bind(2, std::string(name));
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    deploy_result<std::int64_t> request_deploy_now(std::string_view name) override
    {
        return guarded([&]() -> deploy_result<std::int64_t> {
            auto q = statements_.get("UPDATE agents SET deploy_now = deploy_now + 1 WHERE name = ? "
                                     "RETURNING deploy_now");
            q->bind(1, std::string(name));
            if (!q->executeStep()) {
                return make_error_code(errc::not_found);
            }
            return q->getColumn(0).getInt64();
        });
    }

    deploy_result<void> record_contact(
        deploy_row_id agent_id, std::string_view address, std::string_view version, deploy_time at
    ) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "UPDATE agents SET last_seen_at = ?, last_address = ?, agent_version = ? "
                "WHERE id = ?"
            );
            q->bind(1, to_unix(at));
            q->bind(2, std::string(address));
            q->bind(3, std::string(version));
            q->bind(4, agent_id);
            q->exec();
        });
    }

    deploy_result<deploy_row_id> add_assignment(const assignment_record& a) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "INSERT INTO assignments(agent_id, certificate_id, target, options, "
                "created_at) VALUES(?, ?, ?, ?, ?)"
            );
            q->bind(1, a.agent_id);
            q->bind(2, a.certificate_id);
            q->bind(3, a.target);
            q->bind(4, a.options_json);
            q->bind(5, to_unix(a.created_at));
            q->exec();
            return db_.getLastInsertRowid();
        });
    }

    deploy_result<void> remove_assignment(deploy_row_id id) override
    {
        return guarded([&]() -> deploy_result<void> {
            auto q = statements_.get("DELETE FROM assignments WHERE id = ?");
            q->bind(1, id);
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    deploy_result<std::vector<assignment_view>> assignments_of_agent(deploy_row_id agent_id
    ) override
    {
        return guarded([&] {
            auto q = statements_.get(
                std::string("SELECT ") + assignment_columns +
                ", (SELECT max(v.id) FROM certificate_versions v WHERE v.certificate_id "
                "= a.certificate_id) FROM assignments a WHERE a.agent_id = ? ORDER BY a.id"
            );
            q->bind(1, agent_id);
            std::vector<assignment_view> out;
            while (q->executeStep()) {
                assignment_view v;
                v.assignment = read_assignment(*q);
                v.newest_version = optional_int(q->getColumn(12));
                out.push_back(std::move(v));
            }
            return out;
        });
    }

    deploy_result<std::vector<assignment_record>>
    assignments_of_certificate(deploy_row_id certificate_id) override
    {
        return guarded([&] {
            auto q = statements_.get(
                std::string("SELECT ") + assignment_columns +
                " FROM assignments a WHERE a.certificate_id = ? ORDER BY a.id"
            );
            q->bind(1, certificate_id);
            std::vector<assignment_record> out;
            while (q->executeStep()) {
                out.push_back(read_assignment(*q));
            }
            return out;
        });
    }

    deploy_result<deploy_row_id>
    record_report(deploy_row_id agent_id, const agent_report& r) override
    {
        return guarded([&]() -> deploy_result<deploy_row_id> {
            // A version only moves forward: a late report of an older one keeps the newer.
            auto q = statements_.get(
                "UPDATE assignments SET last_status = ?, last_result = ?, last_result_at = ?, "
                "drift = ?, "
                "staged_version = CASE WHEN ? = 'staged' THEN max(coalesce(staged_version, 0), ?) "
                "ELSE staged_version END, "
                "deployed_version = CASE WHEN ? = 'deployed' THEN max(coalesce(deployed_version, "
                "0), ?) ELSE deployed_version END WHERE id = ? AND agent_id = ? "
                "RETURNING certificate_id"
            );
            q->bind(1, r.status);
            q->bind(2, r.result_json);
            q->bind(3, to_unix(r.at));
            q->bind(4, r.drift);
            q->bind(5, r.status);
            q->bind(6, r.version);
            q->bind(7, r.status);
            q->bind(8, r.version);
            q->bind(9, r.assignment_id);
            q->bind(10, agent_id);
            if (!q->executeStep()) {
                return make_error_code(errc::not_found);
            }
            return deploy_row_id{q->getColumn(0).getInt64()};
        });
    }

    deploy_result<std::int64_t> generation() override
    {
        return guarded([&] {
            return db_.execAndGet("SELECT value FROM deploy_generation WHERE id = 1").getInt64();
        });
    }

private:
    std::optional<agent_record> find(std::string_view name)
    {
        auto q =
            statements_.get(std::string("SELECT ") + agent_columns + " FROM agents WHERE name = ?");
        q->bind(1, std::string(name));
        if (!q->executeStep()) {
            return std::nullopt;
        }
        return read_agent(*q);
    }

    deploy_result<void> change_agent(const char* sql, int value, std::string_view name)
    {
        return guarded([&]() -> deploy_result<void> {
            auto q = statements_.get(sql);
            q->bind(1, value);
            q->bind(2, std::string(name));
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    SQLite::Database& db_;
    statement_cache statements_{db_};
};

} // namespace

std::unique_ptr<deploy_store> make_deploy_store(SQLite::Database& db)
{
    return std::make_unique<sqlite_deploy_store>(db);
}

} // namespace certfleet::core::sqlite_detail
