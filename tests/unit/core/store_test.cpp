#include "core/store.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>

#include "core/errc.hpp"
#include "core/key_vault.hpp"
#include "core/sqlite_store.hpp"
#include "support/store_fixture.hpp"

namespace certfleet::core {
namespace {

using namespace std::chrono_literals;
const time_point t0 = time_point(std::chrono::seconds(1'800'000'000));

using test::temp_database;

void set_user_version(const std::filesystem::path& file, int version)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    const auto sql = "PRAGMA user_version = " + std::to_string(version);
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

template <class T> bool ok(const store_result<T>& r)
{
    return r.has_value();
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("store: migrations run once, and a database newer than the program is refused")
    {
        temp_database tmp;
        {
            auto s = open_sqlite_store(tmp.file());
            REQUIRE(ok(s->put_setting("k", "v")));
        }
        {
            auto s = open_sqlite_store(tmp.file()); // reopening migrates nothing and keeps data
            CHECK(s->setting("k").value().value() == "v");
        }
        set_user_version(tmp.file(), sqlite_schema_version() + 1);
        try {
            (void)open_sqlite_store(tmp.file());
            FAIL("a newer database was opened");
        } catch (const store_open_error& e) {
            CHECK(std::string(e.what()).find("newer than this certfleet") != std::string::npos);
        }
    }

    TEST_CASE("store: a missing database is not created unless asked")
    {
        temp_database tmp;
        CHECK_THROWS_AS((void)open_sqlite_store(tmp.file(), {.create = false}), store_open_error);
        CHECK_FALSE(std::filesystem::exists(tmp.file()));
    }

    TEST_CASE("store: domains, certificates, versions, orders and challenges round-trip")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        REQUIRE(ok(s->add_domain({"www.example.com", "k3f9", "", "", std::nullopt})));
        CHECK(
            s->add_domain({"www.example.com", "other", "", "", std::nullopt}).error() ==
            errc::already_exists
        );
        CHECK(
            s->add_domain({"api.example.com", "k3f9", "", "", std::nullopt}).error() ==
            errc::already_exists
        );
        REQUIRE(ok(s->record_domain_check("www.example.com", "correct", "fine", t0)));
        const auto d = s->find_domain("www.example.com").value();
        CHECK(d.label == "k3f9");
        CHECK(d.check_status == "correct");
        CHECK(d.checked_at.value() == t0);
        CHECK(s->find_domain("nope.example.com").error() == errc::not_found);

        certificate_spec spec{
            {"www.example.com", "*.example.com"}, "ec-p384", "default", "shortlived"};
        const auto id = s->add_certificate(spec, t0).value();
        auto cert = s->get_certificate(id).value();
        CHECK(cert.spec.names == spec.names);
        CHECK(cert.spec.profile.value() == "shortlived");
        CHECK(cert.state == certificate_state::pending);
        CHECK(cert.next_attempt_at.value() == t0);

        order_record o;
        o.certificate_id = id;
        o.created_at = o.updated_at = t0;
        o.replaces = "aki.serial";
        o.id = s->create_order(o).value();
        o.state = order_state::validating;
        o.order_url = "https://ca/order/1";
        o.finalize_url = "https://ca/order/1/finalize";
        o.authorization_urls = {"https://ca/authz/1", "https://ca/authz/2"};
        o.key_sealed = std::string("\x01\x00sealed", 8);
        REQUIRE(ok(s->save_order_key(o)));
        auto missing = o;
        missing.id = o.id + 1000;
        CHECK(s->save_order_key(missing).error() == errc::not_found);
        CHECK(s->save_order(missing).error() == errc::not_found);
        REQUIRE(ok(s->add_challenge({o.id, "k3f9.acme.example.net", "value1", 10s})));
        REQUIRE(s->add_challenge({o.id, "k3f9.acme.example.net", "value1", 20s})); // idempotent
        REQUIRE(ok(s->add_challenge({o.id, "k3f9.acme.example.net", "value2", 10s})));
        CHECK(s->challenges_in_flight().value().size() == 2);
        const auto open = s->open_order(id).value();
        REQUIRE(open.has_value());
        CHECK(open->order_url == o.order_url);
        CHECK(open->authorization_urls == o.authorization_urls);
        CHECK(open->key_sealed == o.key_sealed);
        CHECK(open->replaces.value() == "aki.serial");
        CHECK(s->unfinished_orders().value().size() == 1);

        certificate_version v;
        v.certificate_id = id;
        v.chain_pem = "PEM";
        v.key_sealed = o.key_sealed;
        v.serial_hex = "01";
        v.sha256_hex = "ab";
        v.not_before = t0;
        v.not_after = t0 + 47 * 24h;
        cert.state = certificate_state::valid;
        cert.next_attempt_at = t0 + 30 * 24h;
        const auto vid = s->add_version(v, o.id, cert, t0).value();
        CHECK(s->get_certificate(id).value().state == certificate_state::valid);
        CHECK_FALSE(s->open_order(id).value().has_value());
        CHECK(s->unfinished_orders().value().empty());
        CHECK(s->challenges_in_flight().value().empty()); // closed with its order
        REQUIRE(ok(s->update_ari(vid, t0 + 30 * 24h, t0 + 31 * 24h, t0 + 6h)));
        const auto latest = s->latest_version(id).value();
        REQUIRE(latest.has_value());
        CHECK(latest->ari_window_start.value() == t0 + 30 * 24h);
        CHECK(latest->ari_retry_at.value() == t0 + 6h);
        const auto rows = s->planning_rows().value();
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].not_after.value() == v.not_after);
        CHECK(rows[0].ari_window_end.value() == t0 + 31 * 24h);
        CHECK(s->count_orders().value() == 1);
    }

    TEST_CASE("store: certificates page by id, and API tokens keep one live name and only a hash")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        const auto now = std::chrono::system_clock::now();
        for (int i = 0; i < 5; ++i) {
            certificate_spec spec;
            spec.names = {"n" + std::to_string(i) + ".example.com"};
            REQUIRE(ok(s->add_certificate(spec, now)));
        }
        certificate_record issued = s->get_certificate(1).value();
        issued.state = certificate_state::valid;
        for (const char* serial : {"01", "02"}) {
            certificate_version v;
            v.certificate_id = 1;
            v.chain_pem = "-";
            v.key_sealed = "-";
            v.serial_hex = serial;
            v.not_before = now;
            v.not_after = now + std::chrono::hours(24);
            REQUIRE(ok(s->add_version(v, 0, issued, now)));
        }
        const auto first = s->list_certificates_after(0, 2).value();
        REQUIRE(first.size() == 2);
        REQUIRE(first.front().newest.has_value());
        CHECK(first.front().newest.value().serial_hex == "02"); // the newest of two
        CHECK(first.front().certificate.state == certificate_state::valid);
        const auto rest = s->list_certificates_after(first.back().certificate.id, 10).value();
        CHECK(rest.size() == 3);
        CHECK(rest.front().certificate.id == first.back().certificate.id + 1);
        CHECK_FALSE(rest.front().newest.has_value());
        CHECK(s->list_certificates_after(rest.back().certificate.id, 10).value().empty());

        api_token t;
        t.name = "ci";
        t.scope = "renew";
        t.secret_sha256 = std::string(64, 'a');
        t.created_at = std::chrono::time_point_cast<std::chrono::seconds>(now);
        REQUIRE(ok(s->add_api_token(t)));
        t.secret_sha256 = std::string(64, 'b');
        CHECK(s->add_api_token(t).error() == errc::already_exists); // the name is live
        REQUIRE(ok(s->revoke_api_token("ci", now)));
        CHECK(s->revoke_api_token("ci", now).error() == errc::not_found);
        REQUIRE(ok(s->add_api_token(t))); // the name is free again
        const auto all = s->list_api_tokens().value();
        REQUIRE(all.size() == 2);
        CHECK(all[0].revoked_at.has_value());
        CHECK_FALSE(all[1].revoked_at.has_value());
        CHECK(all[1].secret_sha256 == std::string(64, 'b'));
    }

    TEST_CASE("store: the event log is append-only and filterable")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        for (int i = 0; i < 5; ++i) {
            REQUIRE(ok(s->append_event(
                {0, t0 + std::chrono::seconds(i), i % 2, "kind", "message " + std::to_string(i)}
            )));
        }
        event_filter by_certificate;
        by_certificate.certificate_id = 1;
        CHECK(s->events(by_certificate).value().size() == 2);
        event_filter page;
        page.limit = 2;
        const auto first = s->events(page).value();
        REQUIRE(first.size() == 2);
        page.after_id = first.back().id;
        CHECK(s->events(page).value().front().message == "message 2");
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(tmp.file().c_str(), &db) == SQLITE_OK);
        CHECK(
            sqlite3_exec(db, "UPDATE events SET message = 'x'", nullptr, nullptr, nullptr) !=
            SQLITE_OK
        );
        CHECK(sqlite3_exec(db, "DELETE FROM events", nullptr, nullptr, nullptr) != SQLITE_OK);
        sqlite3_close(db);
    }

    TEST_CASE("store: a certificate lock is held by one live process, and a dead holder's lock is "
              "taken over")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        const lock_owner me{"host-a", ::getpid(), 120s};
        const lock_owner other_live{"host-a", 1, 120s}; // PID 1 is always alive
        const lock_owner dead{"host-a", 999'999'999, 120s};
        const lock_owner remote{"host-b", 42, 120s};
        CHECK(s->try_lock_certificate(7, me, t0).value());
        CHECK(s->try_lock_certificate(7, me, t0).value()); // re-entrant for its holder
        CHECK_FALSE(s->try_lock_certificate(7, other_live, t0).value());
        CHECK_FALSE(s->try_lock_certificate(7, remote, t0).value());
        CHECK(s->try_lock_certificate(7, remote, t0 + 121s).value()); // the lease ran out
        REQUIRE(ok(s->unlock_certificate(7, remote)));
        CHECK(s->try_lock_certificate(8, dead, t0).value());
        CHECK(s->try_lock_certificate(8, me, t0).value()); // its holder is gone
    }

    TEST_CASE("store: acme-dns registrations round-trip, and removing one removes its values")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        const acmedns_registration r{
            "0b3ae2c1-8d4f-4a8e-9d3c-3f1e2a4b5c6d",
            std::string(32, '\x01'),
            "7f1c2d3e-4b5a-4c6d-8e9f-a0b1c2d3e4f5",
            {"192.0.2.0/24", "2001:db8::/32"},
            t0,
            "cli"};
        REQUIRE(ok(s->add_acmedns_registration(r)));
        const auto found = s->find_acmedns_registration(r.username).value();
        CHECK(found.key_sha256 == r.key_sha256);
        CHECK(found.subdomain == r.subdomain);
        CHECK(found.allowfrom == r.allowfrom);
        CHECK(found.created_at == t0);
        CHECK(found.created_by == "cli");
        CHECK(s->find_acmedns_registration("nobody").error() == errc::not_found);

        auto same_subdomain = r;
        same_subdomain.username = "1c4bf3d2-9e5a-4b9f-8e4d-4a2f3b5c6d7e";
        CHECK(s->add_acmedns_registration(same_subdomain).error() == errc::already_exists);
        CHECK(s->add_acmedns_registration(r).error() == errc::already_exists);

        REQUIRE(ok(s->put_acmedns_value({r.username, "", "value-a", t0, t0 + 1h}, 8)));
        CHECK(s->acmedns_values().value().size() == 1);
        REQUIRE(ok(s->remove_acmedns_registration(r.username)));
        CHECK(s->acmedns_values().value().empty());
        CHECK(s->list_acmedns_registrations().value().empty());
        CHECK(s->remove_acmedns_registration(r.username).error() == errc::not_found);
        CHECK(
            s->put_acmedns_value({r.username, "", "value-b", t0, t0 + 1h}, 8).error() ==
            errc::not_found
        );
    }

    TEST_CASE("store: acme-dns values keep the newest max_values and expire")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        const std::string user = "0b3ae2c1-8d4f-4a8e-9d3c-3f1e2a4b5c6d";
        REQUIRE(ok(s->add_acmedns_registration({user, "k", "sub", {}, t0, "cli"})));
        for (int i = 0; i < 3; ++i) {
            const auto dropped =
                s->put_acmedns_value({user, "", "v" + std::to_string(i), t0, t0 + 10s}, 3);
            REQUIRE(ok(dropped));
            CHECK(dropped.value().empty());
        }
        // Updating v0 again makes it the newest: v1 is now the oldest and goes first.
        REQUIRE(ok(s->put_acmedns_value({user, "", "v0", t0 + 1s, t0 + 20s}, 3)));
        const auto dropped = s->put_acmedns_value({user, "", "v3", t0 + 2s, t0 + 30s}, 3).value();
        REQUIRE(dropped.size() == 1);
        CHECK(dropped[0].value == "v1");
        CHECK(dropped[0].subdomain == "sub");

        auto values = s->acmedns_values().value();
        REQUIRE(values.size() == 3);
        CHECK(values[0].value == "v2");
        CHECK(values[1].value == "v0");
        CHECK(values[1].expires_at == t0 + 20s);
        CHECK(values[2].value == "v3");
        CHECK(values[2].subdomain == "sub");

        const auto purged = s->purge_acmedns_values(t0 + 20s).value();
        REQUIRE(purged.size() == 2); // expires_at <= now
        CHECK(purged[0].value == "v2");
        CHECK(purged[1].value == "v0");
        values = s->acmedns_values().value();
        REQUIRE(values.size() == 1);
        CHECK(values[0].value == "v3");
        CHECK(s->purge_acmedns_values(t0 + 20s).value().empty());
    }

    TEST_CASE("store: backup makes a consistent copy and never overwrites")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        REQUIRE(ok(s->add_domain({"www.example.com", "k3f9", "", "", std::nullopt})));
        const auto copy = tmp.dir / "copy.db";
        REQUIRE(ok(s->backup_to(copy)));
        CHECK(s->backup_to(copy).error() == errc::already_exists);
        auto restored = open_sqlite_store(copy, {.create = false});
        CHECK(restored->find_domain("www.example.com").value().label == "k3f9");
    }

    TEST_CASE(
        "key vault: seals to a row, refuses a wrong key or another row, verifies its check value"
    )
    {
        temp_database tmp;
        const auto file = tmp.dir / "master.key";
        REQUIRE_FALSE(key_vault::create_file(file));
        CHECK(
            (std::filesystem::status(file).permissions() & std::filesystem::perms::group_all) ==
            std::filesystem::perms::none
        );
        CHECK(key_vault::create_file(file) == boost::system::errc::file_exists);
        const auto vault = key_vault::load(file, std::nullopt).value();
        const auto sealed = vault.seal("private key", "certificate-key/1").value();
        CHECK(sealed.find("private key") == std::string::npos);
        CHECK(vault.open(sealed, "certificate-key/1").value().view() == "private key");
        CHECK(vault.open(sealed, "certificate-key/2").error() == errc::authentication_failed);
        const auto other =
            key_vault::from_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").value();
        CHECK(other.open(sealed, "certificate-key/1").error() == errc::authentication_failed);
        const auto check = vault.make_check_value().value();
        CHECK(vault.verifies(check));
        CHECK_FALSE(other.verifies(check));
        CHECK_FALSE(key_vault::from_text("not base64!").has_value());
        CHECK(key_vault::from_text("AAAA").error() == errc::invalid_key);
        CHECK_FALSE(key_vault::load(tmp.dir / "missing.key", std::nullopt).has_value());
        // The environment wins over the file.
        CHECK(
            key_vault::load(tmp.dir / "missing.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .has_value()
        );
    }

    TEST_CASE("store: the certificate summary counts by state and takes the earliest expiry of "
              "newest versions, revoked ones aside")
    {
        temp_database tmp;
        auto s = open_sqlite_store(tmp.file());
        const auto empty = s->summarize_certificates().value();
        CHECK(empty.by_state.empty());
        CHECK_FALSE(empty.earliest_not_after.has_value());

        using test::store_certificate;
        using state = certificate_state;
        // An older version's earlier expiry does not count: the newest is in service.
        store_certificate(
            *s, {{"a.example.com"}, state::valid, {t0 + 10 * 24h, t0 + 60 * 24h}}, t0
        );
        store_certificate(
            *s, {{"b.example.com"}, state::valid, {t0 + 30 * 24h}, "default", true}, t0
        );
        store_certificate(*s, {{"c.example.com"}, state::failed, {t0 + 20 * 24h}}, t0);
        store_certificate(*s, {{"d.example.com"}, state::revoked, {t0 + 24h}, "default", true}, t0);
        store_certificate(*s, {{"e.example.com"}, state::pending, {}}, t0);

        const auto summary = s->summarize_certificates().value();
        CHECK(summary.by_state.at(state::valid) == 2);
        CHECK(summary.by_state.at(state::failed) == 1);
        CHECK(summary.by_state.at(state::revoked) == 1);
        CHECK(summary.by_state.at(state::pending) == 1);
        CHECK_FALSE(summary.by_state.contains(state::issuing));
        CHECK(summary.earliest_not_after.value() == t0 + 20 * 24h);
        CHECK(summary.alerts == 1);
    }
}

} // namespace certfleet::core
