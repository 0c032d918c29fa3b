#include <array>

#include "core/sqlite_support.hpp"

namespace certfleet::core::sqlite_detail {
namespace {

constexpr std::array<std::string_view, 4> all_migrations{
    R"sql(
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cas(
    name TEXT PRIMARY KEY,
    directory_url TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '[]',
    eab_key_id TEXT,
    account_url TEXT NOT NULL DEFAULT '',
    account_key BLOB NOT NULL DEFAULT x'');
CREATE TABLE domains(
    name TEXT PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    check_status TEXT NOT NULL DEFAULT '',
    check_detail TEXT NOT NULL DEFAULT '',
    checked_at INTEGER,
    created_at INTEGER NOT NULL);
CREATE TABLE certificates(
    id INTEGER PRIMARY KEY,
    names TEXT NOT NULL,
    key_type TEXT NOT NULL,
    ca TEXT NOT NULL,
    profile TEXT,
    state TEXT NOT NULL,
    next_attempt_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_problem TEXT NOT NULL DEFAULT '',
    alert INTEGER NOT NULL DEFAULT 0,
    latest_version_id INTEGER,
    created_at INTEGER NOT NULL);
CREATE TABLE certificate_versions(
    id INTEGER PRIMARY KEY,
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    chain_pem TEXT NOT NULL,
    key_sealed BLOB NOT NULL,
    serial TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    ari_cert_id TEXT NOT NULL DEFAULT '',
    ari_start INTEGER,
    ari_end INTEGER,
    ari_retry_at INTEGER,
    order_id INTEGER,
    created_at INTEGER NOT NULL);
CREATE INDEX versions_by_certificate ON certificate_versions(certificate_id);
CREATE TABLE orders(
    id INTEGER PRIMARY KEY,
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    state TEXT NOT NULL,
    order_url TEXT NOT NULL DEFAULT '',
    finalize_url TEXT NOT NULL DEFAULT '',
    certificate_url TEXT NOT NULL DEFAULT '',
    authorization_urls TEXT NOT NULL DEFAULT '[]',
    key_sealed BLOB NOT NULL DEFAULT x'',
    replaces TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_problem TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);
CREATE INDEX open_orders ON orders(certificate_id) WHERE state NOT IN ('issued', 'failed');
CREATE TABLE challenges(
    order_id INTEGER NOT NULL REFERENCES orders(id),
    fqdn TEXT NOT NULL,
    value TEXT NOT NULL,
    ttl INTEGER NOT NULL,
    PRIMARY KEY(order_id, fqdn, value));
CREATE TABLE events(
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    certificate_id INTEGER,
    kind TEXT NOT NULL,
    message TEXT NOT NULL);
CREATE INDEX events_by_certificate ON events(certificate_id, id);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TABLE locks(
    certificate_id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    expires_at INTEGER NOT NULL);
)sql",
    // 2: API tokens, kept as the SHA-256 of their secret; a name is unique among live tokens.
    R"sql(
CREATE TABLE api_tokens(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revoked_at IS NULL;
)sql",
    // 3: the acme-dns compatible API: registrations (the key only as its SHA-256) and their TXT
    // values, several per registration, each until it expires. A value's rowid orders the values
    // of a registration by their last update (an update deletes and inserts).
    R"sql(
CREATE TABLE acmedns_registrations(
    username TEXT PRIMARY KEY,
    key_sha256 BLOB NOT NULL,
    subdomain TEXT NOT NULL UNIQUE,
    allowfrom TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT '');
CREATE TABLE acmedns_values(
    username TEXT NOT NULL REFERENCES acmedns_registrations(username) ON DELETE CASCADE,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE(username, value));
CREATE INDEX acmedns_values_by_expiry ON acmedns_values(expires_at);
)sql",
    // 4: deploy (DESIGN section 6): join tokens (their secret only as its SHA-256), agents,
    // assignments with what their agent last reported, and a generation counter that triggers
    // bump on every change an agent must hear about, so the long-poll sees changes made by any
    // process without reading every agent.
    R"sql(
CREATE TABLE agent_join_tokens(
    id INTEGER PRIMARY KEY,
    agent_name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    windows TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER);
CREATE TABLE agents(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    public_point BLOB NOT NULL,
    windows TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    enrolled_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    last_address TEXT NOT NULL DEFAULT '',
    agent_version TEXT NOT NULL DEFAULT '',
    deploy_now INTEGER NOT NULL DEFAULT 0);
CREATE TABLE assignments(
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    target TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    staged_version INTEGER,
    deployed_version INTEGER,
    last_status TEXT NOT NULL DEFAULT '',
    last_result TEXT NOT NULL DEFAULT '',
    last_result_at INTEGER,
    drift TEXT NOT NULL DEFAULT '',
    UNIQUE(agent_id, certificate_id, target, options));
CREATE INDEX assignments_by_certificate ON assignments(certificate_id);
CREATE TABLE deploy_generation(id INTEGER PRIMARY KEY CHECK(id = 1), value INTEGER NOT NULL);
INSERT INTO deploy_generation VALUES(1, 1);
CREATE TRIGGER deploy_on_version AFTER INSERT ON certificate_versions BEGIN
    UPDATE deploy_generation SET value = value + 1; END;
CREATE TRIGGER deploy_on_assign AFTER INSERT ON assignments BEGIN
    UPDATE deploy_generation SET value = value + 1; END;
CREATE TRIGGER deploy_on_unassign AFTER DELETE ON assignments BEGIN
    UPDATE deploy_generation SET value = value + 1; END;
CREATE TRIGGER deploy_on_agent AFTER UPDATE OF enabled, windows, deploy_now ON agents BEGIN
    UPDATE deploy_generation SET value = value + 1; END;
CREATE TRIGGER deploy_on_agent_removed AFTER DELETE ON agents BEGIN
    UPDATE deploy_generation SET value = value + 1; END;
)sql",
};

} // namespace

std::span<const std::string_view> migrations() noexcept
{
    return all_migrations;
}

} // namespace certfleet::core::sqlite_detail
