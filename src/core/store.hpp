#pragma once
// The store port (DESIGN section 7): everything certfleet remembers — CAs and their accounts,
// managed domains, certificates and their versions, orders in flight with every URL the CA gave,
// the challenge records those orders publish, an append-only event log, and the per-certificate
// issuance locks. SQLite implements it (sqlite_store.hpp); no SQL leaves that file, so a
// PostgreSQL implementation can follow.
//
// Contract:
// - Every write is durable when the call returns (a crash after it loses nothing), and each call
//   is atomic: it happens whole or not at all.
// - Private keys arrive and leave sealed (key_vault.hpp): the store never sees key material.
// - Errors: not_found, already_exists, storage_full (nothing written), storage_failure, busy.
// - Thread safety: one store object is used from one thread at a time; several processes may
//   open the same database (SQLite's WAL and busy timeout serialize them).

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/deploy_store.hpp"
#include "core/issuance_state.hpp"

namespace certfleet::core {

using time_point = std::chrono::system_clock::time_point;
using row_id = std::int64_t;

struct ca_account
{
    std::string name;          // "default", "letsencrypt": how certificates refer to it
    std::string directory_url; // RFC 8555 7.1.1
    std::vector<std::string> contact;
    std::optional<std::string> eab_key_id;
    std::string account_url;        // empty until registered
    std::string account_key_sealed; // sealed PKCS#8; empty until created
};

struct domain_record
{
    std::string name;         // lower case, no final dot: "www.example.com"
    std::string label;        // the stable, unguessable label its _acme-challenge CNAME points at
    std::string check_status; // "" (never checked), "correct", "missing", ...
    std::string check_detail;
    std::optional<time_point> checked_at;
};

struct certificate_spec
{
    std::vector<std::string> names; // first is the subject; "*.example.com" for wildcards
    std::string key_type = "ec-p256";
    std::string ca = "default";
    std::optional<std::string> profile;
};

struct certificate_record
{
    row_id id = 0;
    certificate_spec spec;
    certificate_state state = certificate_state::pending;
    std::optional<time_point> next_attempt_at; // when the scheduler acts on it next
    int consecutive_failures = 0;
    std::string last_problem; // the CA's or the checker's own words, for humans
    bool alert = false;       // it will expire before its next attempt
    time_point created_at{};
};

struct certificate_version
{
    row_id id = 0;
    row_id certificate_id = 0;
    std::string chain_pem; // leaf first
    std::string key_sealed;
    std::string serial_hex;
    std::string sha256_hex;
    time_point not_before{};
    time_point not_after{};
    std::string ari_cert_id;
    std::optional<time_point> ari_window_start;
    std::optional<time_point> ari_window_end;
    std::optional<time_point> ari_retry_at; // ask the CA again at this time (its Retry-After)
    time_point created_at{};
};

struct certificate_summary
{
    certificate_record certificate;
    std::optional<certificate_version> newest;
};

struct order_record
{
    row_id id = 0;
    row_id certificate_id = 0;
    order_state state = order_state::ordering;
    std::string order_url;
    std::string finalize_url;
    std::string certificate_url;
    std::vector<std::string> authorization_urls;
    std::string key_sealed; // the certificate key, stored before the CSR leaves
    std::optional<std::string> replaces;
    int attempts = 0;
    std::string last_problem;
    time_point created_at{};
    time_point updated_at{};
};

struct stored_challenge
{
    row_id order_id = 0;
    std::string fqdn; // where it is served: "<label>.<zone>"
    std::string value;
    std::chrono::seconds ttl{10};
};

struct event_record
{
    row_id id = 0;
    time_point at{};
    std::optional<row_id> certificate_id;
    std::string kind; // "issued", "failed", "preflight_failed", "alert", "order_created", ...
    std::string message;
};

struct event_filter
{
    std::optional<row_id> certificate_id;
    std::optional<time_point> since;
    row_id after_id = 0;
    std::size_t limit = 100;
};

// A bearer token of the HTTPS API. Only the SHA-256 of its secret is kept: the secret is shown
// once, when it is made.
struct api_token
{
    row_id id = 0;
    std::string name;
    std::string scope;         // "admin", "read", "renew", "register"
    std::string secret_sha256; // lower-case hex
    time_point created_at{};
    std::optional<time_point> expires_at;
    std::optional<time_point> revoked_at;
};

// What the renewal planner needs of each active certificate, read in one pass.
struct planning_row
{
    row_id certificate_id = 0;
    certificate_state state = certificate_state::pending;
    int consecutive_failures = 0;
    std::optional<time_point> next_attempt_at;
    std::optional<time_point> not_before; // of the newest version; none before the first
    std::optional<time_point> not_after;
    std::optional<time_point> ari_window_start;
    std::optional<time_point> ari_window_end;
    std::optional<time_point> ari_retry_at; // ask the CA for its window again at this time
};

// What monitoring reads of the certificates (GET /metrics), in one pass.
struct certificate_totals
{
    std::map<certificate_state, std::uint64_t> by_state; // a state no certificate is in: absent
    // The earliest not_after of a newest version, over the certificates that are not revoked;
    // none until one is issued.
    std::optional<time_point> earliest_not_after;
    std::uint64_t alerts = 0; // certificates not revoked whose alert is set
};

// Who holds a certificate's issuance lock: a process on a host. A lock whose holder is dead (its
// PID gone on this host) or whose lease ran out may be taken over.
struct lock_owner
{
    std::string host;
    std::int64_t pid = 0;
    std::chrono::seconds lease{120};
};

// A registration of the acme-dns compatible API: a client that may set TXT values at
// <subdomain>.<challenge zone>. Its key is never stored, only its SHA-256.
struct acmedns_registration
{
    std::string username;               // a UUID, lower case
    std::string key_sha256;             // 32 bytes: SHA-256 of the 40-character key
    std::string subdomain;              // a UUID, lower case: the label in the challenge zone
    std::vector<std::string> allowfrom; // CIDR networks updates may come from; empty: any
    time_point created_at{};
    std::string created_by; // who registered it, for operators: "cli", "api from 192.0.2.7", ...
};

// A live TXT value of a registration, served at <subdomain>.<challenge zone> until expires_at.
struct acmedns_value
{
    std::string username;
    std::string subdomain;
    std::string value;
    time_point updated_at{};
    time_point expires_at{};
};

template <class T> using store_result = boost::system::result<T>;

class store
{
public:
    virtual ~store() = default;

    // ---- CAs and accounts
    virtual store_result<ca_account> find_ca(std::string_view name) = 0;
    // Inserts or updates by name.
    virtual store_result<void> save_ca(const ca_account& ca) = 0;

    // ---- domains
    // already_exists when the name is there; the label must be unique too.
    virtual store_result<domain_record> add_domain(const domain_record& d) = 0;
    virtual store_result<domain_record> find_domain(std::string_view name) = 0;
    virtual store_result<std::vector<domain_record>> list_domains() = 0;
    virtual store_result<void> remove_domain(std::string_view name) = 0;
    virtual store_result<void> record_domain_check(
        std::string_view name, std::string_view status, std::string_view detail, time_point at
    ) = 0;

    // ---- certificates
    virtual store_result<row_id> add_certificate(const certificate_spec& spec, time_point now) = 0;
    virtual store_result<certificate_record> get_certificate(row_id id) = 0;
    virtual store_result<std::vector<certificate_record>> list_certificates() = 0;
    // At most `limit` certificates with an id above `after`, by id, each with its newest
    // version: one page of a long list.
    virtual store_result<std::vector<certificate_summary>>
    list_certificates_after(row_id after, std::size_t limit) = 0;
    // State, next attempt, failure count, last problem and alert, as the scheduler decided.
    virtual store_result<void> update_certificate(const certificate_record& c) = 0;

    virtual store_result<std::vector<certificate_version>> versions(row_id certificate_id) = 0;
    virtual store_result<std::optional<certificate_version>> latest_version(row_id certificate_id
    ) = 0;
    // Stores the issued version, closes its order (issued) and updates the certificate (state,
    // next attempt, as update_certificate) in one transaction: a crash leaves all or none.
    virtual store_result<row_id> add_version(
        const certificate_version& v,
        row_id order_id,
        const certificate_record& certificate,
        time_point now
    ) = 0;
    virtual store_result<void> update_ari(
        row_id version_id,
        std::optional<time_point> start,
        std::optional<time_point> end,
        std::optional<time_point> retry_at
    ) = 0;

    // ---- orders
    // The certificate's order that is not final, if any.
    virtual store_result<std::optional<order_record>> open_order(row_id certificate_id) = 0;
    virtual store_result<row_id> create_order(const order_record& o) = 0;
    // A step of the order: it survives the process dying, not the machine losing power (after a
    // power loss the order resumes from its key, whose save is synced).
    virtual store_result<void> save_order(const order_record& o) = 0;
    // The save that gives the order its key (o.key_sealed): on the disk before it returns, so that
    // no key the CA may certify is ever lost.
    virtual store_result<void> save_order_key(const order_record& o) = 0;
    virtual store_result<std::vector<order_record>> unfinished_orders() = 0;
    // Every order of the certificate, oldest first.
    virtual store_result<std::vector<order_record>> orders_of(row_id certificate_id) = 0;
    virtual store_result<std::uint64_t> count_orders() = 0;

    // ---- challenge records of orders in flight
    virtual store_result<void> add_challenge(const stored_challenge& c) = 0;
    virtual store_result<void>
    remove_challenge(row_id order_id, std::string_view fqdn, std::string_view value) = 0;
    virtual store_result<std::vector<stored_challenge>> challenges_in_flight() = 0;

    // ---- registrations of the acme-dns compatible API and their TXT values
    // already_exists when the username or the subdomain is taken.
    virtual store_result<void> add_acmedns_registration(const acmedns_registration& r) = 0;
    virtual store_result<acmedns_registration> find_acmedns_registration(std::string_view username
    ) = 0;
    // Ordered by creation time.
    virtual store_result<std::vector<acmedns_registration>> list_acmedns_registrations() = 0;
    // Removes the registration with its values; not_found when there is none.
    virtual store_result<void> remove_acmedns_registration(std::string_view username) = 0;
    // Stores `v` (an existing equal value gets the new times) and keeps at most `max_values`
    // values for the registration, dropping the least recently updated ones first. Returns the
    // values it dropped, so that the caller takes them out of the zone. not_found when the
    // registration is gone.
    virtual store_result<std::vector<acmedns_value>>
    put_acmedns_value(const acmedns_value& v, std::size_t max_values) = 0;
    // Removes the values that expired at `now` (expires_at <= now) and returns them.
    virtual store_result<std::vector<acmedns_value>> purge_acmedns_values(time_point now) = 0;
    // Every stored value, its subdomain filled in, oldest first.
    virtual store_result<std::vector<acmedns_value>> acmedns_values() = 0;

    // ---- events (append-only)
    virtual store_result<row_id> append_event(const event_record& e) = 0;
    virtual store_result<std::vector<event_record>> events(const event_filter& filter) = 0;

    // ---- issuance locks
    // True when taken (or already held by `owner`), false when another live holder has it.
    virtual store_result<bool>
    try_lock_certificate(row_id certificate_id, const lock_owner& owner, time_point now) = 0;
    virtual store_result<void>
    unlock_certificate(row_id certificate_id, const lock_owner& owner) = 0;

    // ---- API tokens
    // already_exists when a live (not revoked) token has the name, or the secret is known.
    virtual store_result<row_id> add_api_token(const api_token& t) = 0;
    // Every token, revoked ones too, oldest first.
    virtual store_result<std::vector<api_token>> list_api_tokens() = 0;
    // not_found when no live token has the name.
    virtual store_result<void> revoke_api_token(std::string_view name, time_point at) = 0;

    // ---- settings the server keeps about itself (the master-key check value, ...)
    virtual store_result<std::optional<std::string>> setting(std::string_view key) = 0;
    virtual store_result<void> put_setting(std::string_view key, std::string_view value) = 0;

    // ---- deploy: agents, join tokens, assignments (deploy_store.hpp); lives as long as this
    virtual deploy_store& deployments() = 0;

    // ---- planning and maintenance
    virtual store_result<std::vector<planning_row>> planning_rows() = 0;
    virtual store_result<certificate_totals> summarize_certificates() = 0;
    // Runs `body` as one transaction: the writes it makes through this store commit together
    // when it returns success, and none do otherwise (bulk imports, tools).
    virtual store_result<void> in_transaction(const std::function<store_result<void>()>& body) = 0;
    // A consistent copy of the whole store, taken while others read and write.
    virtual store_result<void> backup_to(const std::filesystem::path& file) = 0;
};

} // namespace certfleet::core
