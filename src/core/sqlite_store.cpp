#include "core/sqlite_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <signal.h>
#include <sqlite3.h>

#include <array>
#include <cerrno>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/errc.hpp"
#include "core/sqlite_support.hpp"

namespace certfleet::core {
namespace {

using namespace sqlite_detail;

bool process_alive(std::int64_t pid)
{
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

class sqlite_store final : public store
{
public:
    sqlite_store(const std::filesystem::path& file, const sqlite_store_options& options)
        : db_(file.string(),
              SQLite::OPEN_READWRITE | (options.create ? SQLite::OPEN_CREATE : 0) |
                  SQLite::OPEN_FULLMUTEX,
              static_cast<int>(options.busy_timeout.count()))
    {
        db_.exec("PRAGMA journal_mode = WAL");
        // NORMAL in WAL mode: a commit survives the process dying (SIGKILL, a crash) at once,
        // and the writes that must also survive the machine losing power — the keys, the
        // accounts, the settings — are committed under FULL (durable_scope), which syncs every
        // earlier commit with them (an issued version is fetched again from its order).
        // Syncing each step of every order would stall all orders on one disk flush after
        // another.
        db_.exec("PRAGMA synchronous = NORMAL");
        db_.exec("PRAGMA foreign_keys = ON");
        migrate(file);
        deploy_ = make_deploy_store(db_);
    }

    deploy_store& deployments() override { return *deploy_; }

    store_result<ca_account> find_ca(std::string_view name) override
    {
        return guarded([&]() -> store_result<ca_account> {
            auto q = statements_.get(
                "SELECT name, directory_url, contact, eab_key_id, account_url, account_key "
                "FROM cas WHERE name = ?"
            );
            q->bind(1, std::string(name));
            if (!q->executeStep()) {
                return make_error_code(errc::not_found);
            }
            ca_account ca;
            ca.name = q->getColumn(0).getString();
            ca.directory_url = q->getColumn(1).getString();
            ca.contact = parse_list(q->getColumn(2).getString());
            if (!q->getColumn(3).isNull()) {
                ca.eab_key_id = q->getColumn(3).getString();
            }
            ca.account_url = q->getColumn(4).getString();
            ca.account_key_sealed = blob(q->getColumn(5));
            return ca;
        });
    }

    store_result<void> save_ca(const ca_account& ca) override
    {
        return guarded([&] {
            const durable_scope durable(*this); // the account key, before it is used
            auto q = statements_.get(
                "INSERT INTO cas(name, directory_url, contact, eab_key_id, account_url, "
                "account_key) VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "directory_url = excluded.directory_url, contact = excluded.contact, "
                "eab_key_id = excluded.eab_key_id, account_url = excluded.account_url, "
                "account_key = excluded.account_key"
            );
            q->bind(1, ca.name);
            q->bind(2, ca.directory_url);
            q->bind(3, json_list(ca.contact));
            bind_optional(*q, 4, ca.eab_key_id);
            q->bind(5, ca.account_url);
            bind_blob(*q, 6, ca.account_key_sealed);
            q->exec();
        });
    }

    store_result<domain_record> add_domain(const domain_record& d) override
    {
        return guarded([&]() -> store_result<domain_record> {
            auto q = statements_.get(
                "INSERT INTO domains(name, label, created_at) VALUES(?, ?, strftime('%s'))"
            );
            q->bind(1, d.name);
            q->bind(2, d.label);
            q->exec();
            return d;
        });
    }

    store_result<domain_record> find_domain(std::string_view name) override
    {
        return guarded([&]() -> store_result<domain_record> {
            auto q = statements_.get(domain_select + " WHERE name = ?");
            q->bind(1, std::string(name));
            if (!q->executeStep()) {
                return make_error_code(errc::not_found);
            }
            return read_domain(*q);
        });
    }

    store_result<std::vector<domain_record>> list_domains() override
    {
        return guarded([&] {
            auto q = statements_.get(domain_select + " ORDER BY name");
            std::vector<domain_record> out;
            while (q->executeStep()) {
                out.push_back(read_domain(*q));
            }
            return out;
        });
    }

    store_result<void> remove_domain(std::string_view name) override
    {
        return guarded([&]() -> store_result<void> {
            auto q = statements_.get("DELETE FROM domains WHERE name = ?");
            q->bind(1, std::string(name));
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    store_result<row_id> add_api_token(const api_token& t) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "INSERT INTO api_tokens(name, scope, secret_sha256, created_at, expires_at) "
                "VALUES(?, ?, ?, ?, ?)"
            );
            q->bind(1, t.name);
            q->bind(2, t.scope);
            q->bind(3, t.secret_sha256);
            q->bind(4, to_unix(t.created_at));
            bind_time(*q, 5, t.expires_at);
            q->exec();
            return db_.getLastInsertRowid();
        });
    }

    store_result<std::vector<api_token>> list_api_tokens() override
    {
        return guarded([&] {
            auto q = statements_.get(
                "SELECT id, name, scope, secret_sha256, created_at, expires_at, revoked_at "
                "FROM api_tokens ORDER BY id"
            );
            std::vector<api_token> out;
            while (q->executeStep()) {
                api_token t;
                t.id = q->getColumn(0).getInt64();
                t.name = q->getColumn(1).getString();
                t.scope = q->getColumn(2).getString();
                t.secret_sha256 = q->getColumn(3).getString();
                t.created_at = from_unix(q->getColumn(4).getInt64());
                t.expires_at = optional_time(q->getColumn(5));
                t.revoked_at = optional_time(q->getColumn(6));
                out.push_back(std::move(t));
            }
            return out;
        });
    }

    store_result<void> revoke_api_token(std::string_view name, time_point at) override
    {
        return guarded([&]() -> store_result<void> {
            auto q = statements_.get(
                "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL"
            );
            q->bind(1, to_unix(at));
            q->bind(2, std::string(name));
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    store_result<void> record_domain_check(
        std::string_view name, std::string_view status, std::string_view detail, time_point at
    ) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "UPDATE domains SET check_status = ?, check_detail = ?, checked_at = ? "
                "WHERE name = ?"
            );
            q->bind(1, std::string(status));
            q->bind(2, std::string(detail));
            q->bind(3, to_unix(at));
            q->bind(4, std::string(name));
            q->exec();
        });
    }

    store_result<row_id> add_certificate(const certificate_spec& spec, time_point now) override
    {
        return guarded([&] {
            auto q =
                statements_.get("INSERT INTO certificates(names, key_type, ca, profile, state, "
                                "next_attempt_at, created_at) VALUES(?, ?, ?, ?, 'pending', ?, ?)");
            q->bind(1, json_list(spec.names));
            q->bind(2, spec.key_type);
            q->bind(3, spec.ca);
            bind_optional(*q, 4, spec.profile);
            q->bind(5, to_unix(now));
            q->bind(6, to_unix(now));
            q->exec();
            return static_cast<row_id>(db_.getLastInsertRowid());
        });
    }

    store_result<certificate_record> get_certificate(row_id id) override
    {
        return guarded([&]() -> store_result<certificate_record> {
            auto q = statements_.get(certificate_select + " WHERE id = ?");
            q->bind(1, id);
            if (!q->executeStep()) {
                return make_error_code(errc::not_found);
            }
            return read_certificate(*q);
        });
    }

    store_result<std::vector<certificate_record>> list_certificates() override
    {
        return guarded([&] {
            auto q = statements_.get(certificate_select + " ORDER BY id");
            std::vector<certificate_record> out;
            while (q->executeStep()) {
                out.push_back(read_certificate(*q));
            }
            return out;
        });
    }

    store_result<std::vector<certificate_summary>>
    list_certificates_after(row_id after, std::size_t limit) override
    {
        return guarded([&] {
            // One statement for the page and each certificate's newest version.
            auto q = statements_.get(
                "SELECT c.id, c.names, c.key_type, c.ca, c.profile, c.state, "
                "c.next_attempt_at, c.failures, "
                "c.last_problem, c.alert, c.created_at, v.id, v.certificate_id, v.chain_pem, "
                "v.key_sealed, "
                "v.serial, v.sha256, v.not_before, v.not_after, v.ari_cert_id, v.ari_start, "
                "v.ari_end, "
                "v.ari_retry_at, v.created_at FROM certificates c LEFT JOIN "
                "certificate_versions v ON v.id = "
                "(SELECT max(id) FROM certificate_versions WHERE certificate_id = c.id) "
                "WHERE c.id > ? ORDER BY c.id LIMIT ?"
            );
            q->bind(1, after);
            q->bind(2, static_cast<std::int64_t>(limit));
            std::vector<certificate_summary> out;
            while (q->executeStep()) {
                certificate_summary row;
                row.certificate = read_certificate(*q);
                if (!q->getColumn(11).isNull()) {
                    row.newest = read_version(*q, 11);
                }
                out.push_back(std::move(row));
            }
            return out;
        });
    }

    store_result<void> update_certificate(const certificate_record& c) override
    {
        return guarded([&]() -> store_result<void> {
            if (!write_certificate(c)) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    store_result<std::vector<certificate_version>> versions(row_id certificate_id) override
    {
        return guarded([&] {
            auto q = statements_.get(version_select + " WHERE certificate_id = ? ORDER BY id");
            q->bind(1, certificate_id);
            std::vector<certificate_version> out;
            while (q->executeStep()) {
                out.push_back(read_version(*q));
            }
            return out;
        });
    }

    store_result<std::optional<certificate_version>> latest_version(row_id certificate_id) override
    {
        return guarded([&]() -> std::optional<certificate_version> {
            auto q = statements_.get(
                version_select + " WHERE certificate_id = ? ORDER BY id DESC LIMIT 1"
            );
            q->bind(1, certificate_id);
            if (!q->executeStep()) {
                return std::nullopt;
            }
            return read_version(*q);
        });
    }

    store_result<row_id> add_version(
        const certificate_version& v,
        row_id order_id,
        const certificate_record& certificate,
        time_point now
    ) override
    {
        // Not synced on its own: the key went to disk (save_order_key) before the CSR left, and
        // the order it finishes still names its URL, so a machine that loses power before the
        // next synced commit resumes that order and downloads the same certificate again.
        // Syncing here held every order of the thread for a disk flush per certificate.
        return guarded([&] {
            write_scope t(*this);
            auto q = statements_.get(
                "INSERT INTO certificate_versions(certificate_id, chain_pem, key_sealed, "
                "serial, sha256, not_before, not_after, ari_cert_id, ari_start, ari_end, "
                "ari_retry_at, order_id, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"
            );
            q->bind(1, v.certificate_id);
            q->bind(2, v.chain_pem);
            bind_blob(*q, 3, v.key_sealed);
            q->bind(4, v.serial_hex);
            q->bind(5, v.sha256_hex);
            q->bind(6, to_unix(v.not_before));
            q->bind(7, to_unix(v.not_after));
            q->bind(8, v.ari_cert_id);
            bind_time(*q, 9, v.ari_window_start);
            bind_time(*q, 10, v.ari_window_end);
            bind_time(*q, 11, v.ari_retry_at);
            q->bind(12, order_id);
            q->bind(13, to_unix(now));
            q->exec();
            const auto id = static_cast<row_id>(db_.getLastInsertRowid());
            auto latest =
                statements_.get("UPDATE certificates SET latest_version_id = ? WHERE id = ?");
            latest->bind(1, id);
            latest->bind(2, v.certificate_id);
            latest->exec();
            auto close =
                statements_.get("UPDATE orders SET state = 'issued', updated_at = ? WHERE id = ?");
            close->bind(1, to_unix(now));
            close->bind(2, order_id);
            close->exec();
            auto drop = statements_.get("DELETE FROM challenges WHERE order_id = ?");
            drop->bind(1, order_id);
            drop->exec();
            write_certificate(certificate);
            t.commit();
            return id;
        });
    }

    store_result<void> update_ari(
        row_id version_id,
        std::optional<time_point> start,
        std::optional<time_point> end,
        std::optional<time_point> retry_at
    ) override
    {
        return guarded([&] {
            auto q = statements_.get("UPDATE certificate_versions SET ari_start = ?, ari_end = ?, "
                                     "ari_retry_at = ? WHERE id = ?");
            bind_time(*q, 1, start);
            bind_time(*q, 2, end);
            bind_time(*q, 3, retry_at);
            q->bind(4, version_id);
            q->exec();
        });
    }

    store_result<std::optional<order_record>> open_order(row_id certificate_id) override
    {
        return guarded([&]() -> std::optional<order_record> {
            auto q = statements_.get(
                order_select + " WHERE certificate_id = ? AND state NOT IN ('issued', 'failed') "
                               "ORDER BY id DESC LIMIT 1"
            );
            q->bind(1, certificate_id);
            if (!q->executeStep()) {
                return std::nullopt;
            }
            return read_order(*q);
        });
    }

    store_result<row_id> create_order(const order_record& o) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "INSERT INTO orders(certificate_id, state, replaces, attempts, created_at, "
                "updated_at) VALUES(?, ?, ?, ?, ?, ?)"
            );
            q->bind(1, o.certificate_id);
            q->bind(2, std::string(to_string(o.state)));
            bind_optional(*q, 3, o.replaces);
            q->bind(4, o.attempts);
            q->bind(5, to_unix(o.created_at));
            q->bind(6, to_unix(o.updated_at));
            q->exec();
            return static_cast<row_id>(db_.getLastInsertRowid());
        });
    }

    store_result<void> save_order(const order_record& o) override
    {
        return guarded([&] { return write_order(o); });
    }

    store_result<void> save_order_key(const order_record& o) override
    {
        return guarded([&] {
            const durable_scope durable(*this);
            return write_order(o);
        });
    }

    store_result<std::vector<order_record>> unfinished_orders() override
    {
        return guarded([&] {
            auto q = statements_.get(
                order_select + " WHERE state NOT IN ('issued', 'failed') ORDER BY id"
            );
            std::vector<order_record> out;
            while (q->executeStep()) {
                out.push_back(read_order(*q));
            }
            return out;
        });
    }

    store_result<std::vector<order_record>> orders_of(row_id certificate_id) override
    {
        return guarded([&] {
            auto q = statements_.get(order_select + " WHERE certificate_id = ? ORDER BY id");
            q->bind(1, certificate_id);
            std::vector<order_record> out;
            while (q->executeStep()) {
                out.push_back(read_order(*q));
            }
            return out;
        });
    }

    store_result<std::uint64_t> count_orders() override
    {
        return guarded([&] {
            auto q = statements_.get("SELECT count(*) FROM orders");
            q->executeStep();
            return static_cast<std::uint64_t>(q->getColumn(0).getInt64());
        });
    }

    store_result<void> add_challenge(const stored_challenge& c) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "INSERT INTO challenges(order_id, fqdn, value, ttl) VALUES(?, ?, ?, ?) "
                "ON CONFLICT DO UPDATE SET ttl = excluded.ttl"
            );
            q->bind(1, c.order_id);
            q->bind(2, c.fqdn);
            q->bind(3, c.value);
            q->bind(4, static_cast<std::int64_t>(c.ttl.count()));
            q->exec();
        });
    }

    store_result<void>
    remove_challenge(row_id order_id, std::string_view fqdn, std::string_view value) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "DELETE FROM challenges WHERE order_id = ? AND fqdn = ? AND value = ?"
            );
            q->bind(1, order_id);
            q->bind(2, std::string(fqdn));
            q->bind(3, std::string(value));
            q->exec();
        });
    }

    store_result<std::vector<stored_challenge>> challenges_in_flight() override
    {
        return guarded([&] {
            auto q = statements_.get("SELECT order_id, fqdn, value, ttl FROM challenges");
            std::vector<stored_challenge> out;
            while (q->executeStep()) {
                out.push_back(stored_challenge{
                    q->getColumn(0).getInt64(), q->getColumn(1).getString(),
                    q->getColumn(2).getString(), std::chrono::seconds(q->getColumn(3).getInt64())});
            }
            return out;
        });
    }

    store_result<void> add_acmedns_registration(const acmedns_registration& r) override
    {
        return guarded([&] {
            const durable_scope durable(*this); // its key is handed out once: never lose it
            auto q = statements_.get(
                "INSERT INTO acmedns_registrations(username, key_sha256, subdomain, "
                "allowfrom, created_at, created_by) VALUES(?, ?, ?, ?, ?, ?)"
            );
            q->bind(1, r.username);
            bind_blob(*q, 2, r.key_sha256);
            q->bind(3, r.subdomain);
            q->bind(4, json_list(r.allowfrom));
            q->bind(5, to_unix(r.created_at));
            q->bind(6, r.created_by);
            q->exec();
        });
    }

    store_result<acmedns_registration> find_acmedns_registration(std::string_view username) override
    {
        return guarded([&]() -> store_result<acmedns_registration> {
            auto q = statements_.get(registration_select + " WHERE username = ?");
            q->bind(1, std::string(username));
            if (!q->executeStep()) {
                return make_error_code(errc::not_found);
            }
            return read_registration(*q);
        });
    }

    store_result<std::vector<acmedns_registration>> list_acmedns_registrations() override
    {
        return guarded([&] {
            auto q = statements_.get(registration_select + " ORDER BY created_at, rowid");
            std::vector<acmedns_registration> out;
            while (q->executeStep()) {
                out.push_back(read_registration(*q));
            }
            return out;
        });
    }

    store_result<void> remove_acmedns_registration(std::string_view username) override
    {
        return guarded([&]() -> store_result<void> {
            auto q = statements_.get("DELETE FROM acmedns_registrations WHERE username = ?");
            q->bind(1, std::string(username));
            if (q->exec() == 0) {
                return make_error_code(errc::not_found);
            }
            return {};
        });
    }

    store_result<std::vector<acmedns_value>>
    put_acmedns_value(const acmedns_value& v, std::size_t max_values) override
    {
        return guarded([&]() -> store_result<std::vector<acmedns_value>> {
            write_scope t(*this);
            auto owner =
                statements_.get("SELECT subdomain FROM acmedns_registrations WHERE username = ?");
            owner->bind(1, v.username);
            if (!owner->executeStep()) {
                return make_error_code(errc::not_found);
            }
            const auto subdomain = owner->getColumn(0).getString();
            auto drop =
                statements_.get("DELETE FROM acmedns_values WHERE username = ? AND value = ?");
            drop->bind(1, v.username);
            drop->bind(2, v.value);
            drop->exec();
            auto insert = statements_.get(
                "INSERT INTO acmedns_values(username, value, updated_at, expires_at) "
                "VALUES(?, ?, ?, ?)"
            );
            insert->bind(1, v.username);
            insert->bind(2, v.value);
            insert->bind(3, to_unix(v.updated_at));
            insert->bind(4, to_unix(v.expires_at));
            insert->exec();
            auto beyond = statements_.get(
                value_select + " WHERE v.username = ? ORDER BY v.rowid DESC LIMIT -1 OFFSET ?"
            );
            beyond->bind(1, v.username);
            beyond->bind(2, static_cast<std::int64_t>(max_values));
            std::vector<acmedns_value> dropped;
            while (beyond->executeStep()) {
                dropped.push_back(read_value(*beyond));
            }
            for (const auto& old : dropped) {
                drop->reset();
                drop->bind(1, old.username);
                drop->bind(2, old.value);
                drop->exec();
            }
            t.commit();
            return dropped;
        });
    }

    store_result<std::vector<acmedns_value>> purge_acmedns_values(time_point now) override
    {
        return guarded([&] {
            // Read first: the API asks every few seconds, and most times nothing has expired,
            // which then takes no write lock.
            auto q = statements_.get(value_select + " WHERE v.expires_at <= ? ORDER BY v.rowid");
            q->bind(1, to_unix(now));
            std::vector<acmedns_value> out;
            while (q->executeStep()) {
                out.push_back(read_value(*q));
            }
            if (!out.empty()) {
                auto purge = statements_.get("DELETE FROM acmedns_values WHERE expires_at <= ?");
                purge->bind(1, to_unix(now));
                purge->exec();
            }
            return out;
        });
    }

    store_result<std::vector<acmedns_value>> acmedns_values() override
    {
        return guarded([&] {
            auto q = statements_.get(value_select + " ORDER BY v.rowid");
            std::vector<acmedns_value> out;
            while (q->executeStep()) {
                out.push_back(read_value(*q));
            }
            return out;
        });
    }

    store_result<row_id> append_event(const event_record& e) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "INSERT INTO events(at, certificate_id, kind, message) VALUES(?, ?, ?, ?)"
            );
            q->bind(1, to_unix(e.at));
            bind_optional(*q, 2, e.certificate_id);
            q->bind(3, e.kind);
            q->bind(4, e.message);
            q->exec();
            return static_cast<row_id>(db_.getLastInsertRowid());
        });
    }

    store_result<std::vector<event_record>> events(const event_filter& filter) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "SELECT id, at, certificate_id, kind, message FROM events WHERE id > ? AND "
                "(? IS NULL OR certificate_id = ?) AND (? IS NULL OR at >= ?) "
                "ORDER BY id LIMIT ?"
            );
            q->bind(1, filter.after_id);
            if (filter.certificate_id) {
                q->bind(2, *filter.certificate_id);
                q->bind(3, *filter.certificate_id);
            } else {
                q->bind(2);
                q->bind(3);
            }
            bind_time(*q, 4, filter.since);
            bind_time(*q, 5, filter.since);
            q->bind(6, static_cast<std::int64_t>(filter.limit));
            std::vector<event_record> out;
            while (q->executeStep()) {
                event_record e;
                e.id = q->getColumn(0).getInt64();
                e.at = from_unix(q->getColumn(1).getInt64());
                if (!q->getColumn(2).isNull()) {
                    e.certificate_id = q->getColumn(2).getInt64();
                }
                e.kind = q->getColumn(3).getString();
                e.message = q->getColumn(4).getString();
                out.push_back(std::move(e));
            }
            return out;
        });
    }

    store_result<bool>
    try_lock_certificate(row_id certificate_id, const lock_owner& owner, time_point now) override
    {
        return guarded([&] {
            write_scope t(*this);
            auto q =
                statements_.get("SELECT host, pid, expires_at FROM locks WHERE certificate_id = ?");
            q->bind(1, certificate_id);
            if (q->executeStep()) {
                const auto host = q->getColumn(0).getString();
                const auto pid = q->getColumn(1).getInt64();
                const auto expires = from_unix(q->getColumn(2).getInt64());
                const bool mine = host == owner.host && pid == owner.pid;
                const bool holder_dead = host == owner.host && !process_alive(pid);
                if (!mine && !holder_dead && expires > now) {
                    return false;
                }
            }
            q->reset();
            auto take = statements_.get(
                "INSERT INTO locks(certificate_id, host, pid, expires_at) VALUES(?, ?, ?, ?) "
                "ON CONFLICT(certificate_id) DO UPDATE SET host = excluded.host, "
                "pid = excluded.pid, expires_at = excluded.expires_at"
            );
            take->bind(1, certificate_id);
            take->bind(2, owner.host);
            take->bind(3, owner.pid);
            take->bind(4, to_unix(now + owner.lease));
            take->exec();
            t.commit();
            return true;
        });
    }

    store_result<void> unlock_certificate(row_id certificate_id, const lock_owner& owner) override
    {
        return guarded([&] {
            auto q = statements_.get(
                "DELETE FROM locks WHERE certificate_id = ? AND host = ? AND pid = ?"
            );
            q->bind(1, certificate_id);
            q->bind(2, owner.host);
            q->bind(3, owner.pid);
            q->exec();
        });
    }

    store_result<std::optional<std::string>> setting(std::string_view key) override
    {
        return guarded([&]() -> std::optional<std::string> {
            auto q = statements_.get("SELECT value FROM settings WHERE key = ?");
            q->bind(1, std::string(key));
            if (!q->executeStep()) {
                return std::nullopt;
            }
            return q->getColumn(0).getString();
        });
    }

    store_result<void> put_setting(std::string_view key, std::string_view value) override
    {
        return guarded([&] {
            const durable_scope durable(*this);
            auto q = statements_.get("INSERT INTO settings(key, value) VALUES(?, ?) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
            q->bind(1, std::string(key));
            q->bind(2, std::string(value));
            q->exec();
        });
    }

    store_result<std::vector<planning_row>> planning_rows() override
    {
        return guarded([&] {
            auto q = statements_.get(
                "SELECT c.id, c.state, c.failures, c.next_attempt_at, v.not_before, "
                "v.not_after, v.ari_start, v.ari_end, v.ari_retry_at FROM certificates c "
                "LEFT JOIN certificate_versions v ON v.id = c.latest_version_id "
                "WHERE c.state != 'revoked'"
            );
            // Sized first: growing a vector of a million rows copied it twenty times over.
            auto count =
                statements_.get("SELECT count(*) FROM certificates WHERE state != 'revoked'");
            std::vector<planning_row> out;
            if (count->executeStep()) {
                out.reserve(static_cast<std::size_t>(count->getColumn(0).getInt64()));
            }
            while (q->executeStep()) {
                planning_row r;
                r.certificate_id = q->getColumn(0).getInt64();
                r.state = certificate_state_from_string(q->getColumn(1).getText())
                              .value_or(certificate_state::pending);
                r.consecutive_failures = q->getColumn(2).getInt();
                r.next_attempt_at = optional_time(q->getColumn(3));
                r.not_before = optional_time(q->getColumn(4));
                r.not_after = optional_time(q->getColumn(5));
                r.ari_window_start = optional_time(q->getColumn(6));
                r.ari_window_end = optional_time(q->getColumn(7));
                r.ari_retry_at = optional_time(q->getColumn(8));
                out.push_back(r);
            }
            return out;
        });
    }

    store_result<certificate_totals> summarize_certificates() override
    {
        return guarded([&] {
            auto q =
                statements_.get("SELECT c.state, count(*), min(v.not_after), "
                                "coalesce(sum(c.alert != 0), 0) FROM certificates c "
                                "LEFT JOIN certificate_versions v ON v.id = c.latest_version_id "
                                "GROUP BY c.state");
            certificate_totals out;
            while (q->executeStep()) {
                const auto state = certificate_state_from_string(q->getColumn(0).getText())
                                       .value_or(certificate_state::pending);
                out.by_state[state] += static_cast<std::uint64_t>(q->getColumn(1).getInt64());
                if (state == certificate_state::revoked) {
                    continue;
                }
                if (const auto earliest = optional_time(q->getColumn(2))) {
                    out.earliest_not_after =
                        std::min(out.earliest_not_after.value_or(*earliest), *earliest);
                }
                out.alerts += static_cast<std::uint64_t>(q->getColumn(3).getInt64());
            }
            return out;
        });
    }

    store_result<void> backup_to(const std::filesystem::path& file) override
    {
        return guarded([&]() -> store_result<void> {
            std::error_code exists;
            if (std::filesystem::exists(file, exists)) {
                return make_error_code(errc::already_exists);
            }
            // VACUUM INTO reads one consistent snapshot while writers go on (WAL).
            auto q = statements_.get("VACUUM INTO ?");
            q->bind(1, file.string());
            q->exec();
            return {};
        });
    }

    store_result<void> in_transaction(const std::function<store_result<void>()>& body) override
    {
        return guarded([&]() -> store_result<void> {
            write_scope t(*this);
            ++batch_depth_;
            store_result<void> r;
            try {
                r = body();
            } catch (...) {
                --batch_depth_;
                throw;
            }
            --batch_depth_;
            if (r) {
                t.commit();
            }
            return r;
        });
    }

private:
    // The UPDATE behind save_order and save_order_key; a final order's challenges go with it.
    store_result<void> write_order(const order_record& o)
    {
        auto q = statements_.get(
            "UPDATE orders SET state = ?, order_url = ?, finalize_url = ?, "
            "certificate_url = ?, authorization_urls = ?, key_sealed = ?, replaces = ?, "
            "attempts = ?, last_problem = ?, updated_at = ? WHERE id = ?"
        );
        q->bind(1, std::string(to_string(o.state)));
        q->bind(2, o.order_url);
        q->bind(3, o.finalize_url);
        q->bind(4, o.certificate_url);
        q->bind(5, json_list(o.authorization_urls));
        bind_blob(*q, 6, o.key_sealed);
        bind_optional(*q, 7, o.replaces);
        q->bind(8, o.attempts);
        q->bind(9, o.last_problem);
        q->bind(10, to_unix(o.updated_at));
        q->bind(11, o.id);
        if (q->exec() == 0) {
            return make_error_code(errc::not_found);
        }
        if (is_final(o.state)) {
            auto drop = statements_.get("DELETE FROM challenges WHERE order_id = ?");
            drop->bind(1, o.id);
            drop->exec();
        }
        return {};
    }

    // The commits made while it lives reach the disk before they return (synchronous FULL).
    class durable_scope
    {
    public:
        explicit durable_scope(sqlite_store& s) : store_(s)
        {
            if (store_.batch_depth_ == 0) {
                store_.db_.exec("PRAGMA synchronous = FULL");
                active_ = true;
            }
        }
        durable_scope(const durable_scope&) = delete;
        durable_scope& operator=(const durable_scope&) = delete;
        ~durable_scope()
        {
            if (active_) {
                try {
                    store_.db_.exec("PRAGMA synchronous = NORMAL");
                } catch (...) { // NOLINT(bugprone-empty-catch): FULL stays, which is only slower
                }
            }
        }

    private:
        sqlite_store& store_;
        bool active_ = false;
    };

    // A write transaction (BEGIN IMMEDIATE), or nothing inside in_transaction(), whose own
    // transaction holds every write. Rolls back unless committed.
    class write_scope
    {
    public:
        explicit write_scope(sqlite_store& s) : store_(s)
        {
            if (store_.batch_depth_ == 0) {
                store_.db_.exec("BEGIN IMMEDIATE");
                open_ = true;
            }
        }
        write_scope(const write_scope&) = delete;
        write_scope& operator=(const write_scope&) = delete;
        ~write_scope()
        {
            if (open_) {
                try {
                    store_.db_.exec("ROLLBACK");
                } catch (...) { // NOLINT(bugprone-empty-catch): nothing more to undo
                }
            }
        }
        void commit()
        {
            if (open_) {
                store_.db_.exec("COMMIT");
                open_ = false;
            }
        }

    private:
        sqlite_store& store_;
        bool open_ = false;
    };

    bool write_certificate(const certificate_record& c)
    {
        auto q =
            statements_.get("UPDATE certificates SET state = ?, next_attempt_at = ?, failures = ?, "
                            "last_problem = ?, alert = ? WHERE id = ?");
        q->bind(1, std::string(to_string(c.state)));
        bind_time(*q, 2, c.next_attempt_at);
        q->bind(3, c.consecutive_failures);
        q->bind(4, c.last_problem);
        q->bind(5, c.alert ? 1 : 0);
        q->bind(6, c.id);
        return q->exec() != 0;
    }

    void migrate(const std::filesystem::path& file)
    {
        const int current = db_.execAndGet("PRAGMA user_version").getInt();
        const int known = static_cast<int>(migrations().size());
        if (current > known) {
            throw store_open_error(
                "the database " + file.string() + " has schema version " + std::to_string(current) +
                ", newer than this certfleet knows (" + std::to_string(known) +
                "): run the certfleet version that wrote it, or upgrade this one"
            );
        }
        for (int v = current; v < known; ++v) {
            SQLite::Transaction t(db_, SQLite::TransactionBehavior::IMMEDIATE);
            // Another process may have migrated while we waited for the write lock.
            if (db_.execAndGet("PRAGMA user_version").getInt() > v) {
                continue;
            }
            db_.exec(std::string(migrations()[static_cast<std::size_t>(v)]));
            db_.exec("PRAGMA user_version = " + std::to_string(v + 1));
            t.commit();
        }
    }

    static domain_record read_domain(SQLite::Statement& q)
    {
        domain_record d;
        d.name = q.getColumn(0).getString();
        d.label = q.getColumn(1).getString();
        d.check_status = q.getColumn(2).getString();
        d.check_detail = q.getColumn(3).getString();
        d.checked_at = optional_time(q.getColumn(4));
        return d;
    }

    static certificate_record read_certificate(SQLite::Statement& q, int at = 0)
    {
        certificate_record c;
        c.id = q.getColumn(at + 0).getInt64();
        c.spec.names = parse_list(q.getColumn(at + 1).getString());
        c.spec.key_type = q.getColumn(at + 2).getString();
        c.spec.ca = q.getColumn(at + 3).getString();
        if (!q.getColumn(at + 4).isNull()) {
            c.spec.profile = q.getColumn(at + 4).getString();
        }
        c.state = certificate_state_from_string(q.getColumn(5).getText())
                      .value_or(certificate_state::pending);
        c.next_attempt_at = optional_time(q.getColumn(6));
        c.consecutive_failures = q.getColumn(7).getInt();
        c.last_problem = q.getColumn(8).getString();
        c.alert = q.getColumn(9).getInt() != 0;
        c.created_at = from_unix(q.getColumn(10).getInt64());
        return c;
    }

    static certificate_version read_version(SQLite::Statement& q, int at = 0)
    {
        certificate_version v;
        v.id = q.getColumn(at + 0).getInt64();
        v.certificate_id = q.getColumn(at + 1).getInt64();
        v.chain_pem = q.getColumn(at + 2).getString();
        v.key_sealed = blob(q.getColumn(at + 3));
        v.serial_hex = q.getColumn(at + 4).getString();
        v.sha256_hex = q.getColumn(at + 5).getString();
        v.not_before = from_unix(q.getColumn(at + 6).getInt64());
        v.not_after = from_unix(q.getColumn(at + 7).getInt64());
        v.ari_cert_id = q.getColumn(at + 8).getString();
        v.ari_window_start = optional_time(q.getColumn(at + 9));
        v.ari_window_end = optional_time(q.getColumn(at + 10));
        v.ari_retry_at = optional_time(q.getColumn(at + 11));
        v.created_at = from_unix(q.getColumn(at + 12).getInt64());
        return v;
    }

    static order_record read_order(SQLite::Statement& q)
    {
        order_record o;
        o.id = q.getColumn(0).getInt64();
        o.certificate_id = q.getColumn(1).getInt64();
        o.state = order_state_from_string(q.getColumn(2).getText()).value_or(order_state::failed);
        o.order_url = q.getColumn(3).getString();
        o.finalize_url = q.getColumn(4).getString();
        o.certificate_url = q.getColumn(5).getString();
        o.authorization_urls = parse_list(q.getColumn(6).getString());
        o.key_sealed = blob(q.getColumn(7));
        if (!q.getColumn(8).isNull()) {
            o.replaces = q.getColumn(8).getString();
        }
        o.attempts = q.getColumn(9).getInt();
        o.last_problem = q.getColumn(10).getString();
        o.created_at = from_unix(q.getColumn(11).getInt64());
        o.updated_at = from_unix(q.getColumn(12).getInt64());
        return o;
    }

    static acmedns_registration read_registration(SQLite::Statement& q)
    {
        acmedns_registration r;
        r.username = q.getColumn(0).getString();
        r.key_sha256 = blob(q.getColumn(1));
        r.subdomain = q.getColumn(2).getString();
        r.allowfrom = parse_list(q.getColumn(3).getString());
        r.created_at = from_unix(q.getColumn(4).getInt64());
        r.created_by = q.getColumn(5).getString();
        return r;
    }

    static acmedns_value read_value(SQLite::Statement& q)
    {
        acmedns_value v;
        v.username = q.getColumn(0).getString();
        v.subdomain = q.getColumn(1).getString();
        v.value = q.getColumn(2).getString();
        v.updated_at = from_unix(q.getColumn(3).getInt64());
        v.expires_at = from_unix(q.getColumn(4).getInt64());
        return v;
    }

    inline static const std::string domain_select =
        "SELECT name, label, check_status, check_detail, checked_at FROM domains";
    inline static const std::string certificate_select =
        "SELECT id, names, key_type, ca, profile, state, next_attempt_at, failures, "
        "last_problem, alert, created_at FROM certificates";
    inline static const std::string version_select =
        "SELECT id, certificate_id, chain_pem, key_sealed, serial, sha256, not_before, "
        "not_after, ari_cert_id, ari_start, ari_end, ari_retry_at, created_at "
        "FROM certificate_versions";
    inline static const std::string order_select =
        "SELECT id, certificate_id, state, order_url, finalize_url, certificate_url, "
        "authorization_urls, key_sealed, replaces, attempts, last_problem, created_at, "
        "updated_at FROM orders";

    inline static const std::string registration_select =
        "SELECT username, key_sha256, subdomain, allowfrom, created_at, created_by "
        "FROM acmedns_registrations";
    inline static const std::string value_select =
        "SELECT v.username, r.subdomain, v.value, v.updated_at, v.expires_at "
        "FROM acmedns_values v JOIN acmedns_registrations r ON r.username = v.username";

    SQLite::Database db_;
    statement_cache statements_{db_};      // on db_: destroyed before it
    std::unique_ptr<deploy_store> deploy_; // on db_: declared after it, destroyed before it
    int batch_depth_ = 0;
};

} // namespace

int sqlite_schema_version() noexcept
{
    return static_cast<int>(migrations().size());
}

namespace {

// Why the database did not open, and what to do. A full disk is told apart: SQLite says
// SQLITE_FULL, or only "disk I/O error" when it cannot make its shared-memory file there.
std::string open_failure_text(const std::filesystem::path& file, const SQLite::Exception& e)
{
    std::error_code ec;
    const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    const auto space = std::filesystem::space(dir, ec);
    if ((e.getErrorCode() & 0xff) == SQLITE_FULL || (!ec && space.available == 0)) {
        return "cannot open the database " + file.string() + ": the disk holding it is full (" +
               e.what() + "). Free some space on it and start again.";
    }
    return "cannot open the database " + file.string() + ": " + e.what() +
           ". Check the path and its permissions, or run `certfleet init` first.";
}

} // namespace

std::unique_ptr<store>
open_sqlite_store(const std::filesystem::path& file, const sqlite_store_options& options)
{
    try {
        return std::make_unique<sqlite_store>(file, options);
    } catch (const SQLite::Exception& e) {
        throw store_open_error(open_failure_text(file, e));
    }
}

} // namespace certfleet::core
