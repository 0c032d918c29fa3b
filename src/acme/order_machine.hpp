#pragma once
// The order machine (RFC 8555 7.4–7.4.2): one order for one certificate, sans-I/O.
// resume(event) returns the next action; the driver (acme::client) performs it and feeds the
// result back. Time and randomness come in through events; the machine reads no clock.
//
// Flow: newOrder → fetch each authorization (valid ones are skipped) → present every DNS-01
// TXT value → answer each challenge → poll the order → clean up the TXT values (whatever the
// outcome) → create the key and CSR → finalize → poll → download the chain (and alternates
// when a preferred issuer is asked for) → finished.
//
// Transient failures retry the step that met them, whichever it is: a transport error (the
// request_failed event, bad_nonce_exhausted included), HTTP 5xx, a badNonce problem (the
// driver's own retries ran out), HTTP 429 or a rateLimited problem. The retry waits the CA's
// Retry-After when it sent one, else a backoff that doubles from first_retry_delay up to
// max_retry_delay; at most max_transient_retries times in a row, and never past the order's
// deadline: then the order fails with the last failure's code and problem. A finalize that
// failed may still have reached the CA, so it is never simply sent again: the machine fetches
// the order and finalizes again only if the order is still "ready"; an orderNotReady answer to
// finalize leads to the same check.
//
// A CA that refuses `replaces` (RFC 9773 5: alreadyReplaced, or HTTP 409 with another type)
// gets the order once more without it.
//
// Resumable: a machine built with resume_order_url starts by fetching that order and carries
// on from whatever state the CA reports.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "acme/failure.hpp"
#include "acme/objects.hpp"
#include "acme/request_outcome.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/key_type.hpp"
#include "net/http_message.hpp"

namespace certfleet::acme {

using clock_time = std::chrono::system_clock::time_point;

struct order_request
{
    std::vector<std::string> names; // DNS names; "*.example.com" for a wildcard
    core::key_type key_type = core::key_type::ec_p256;
    std::optional<std::string> replaces; // ARI certID of the certificate this one renews
    std::optional<std::string> profile;
    std::optional<std::string> preferred_chain_issuer; // issuer CN of the chain's top
    std::chrono::seconds timeout{600};                 // the whole order, polling included
    std::chrono::seconds challenge_ttl{10};
    std::optional<std::string> resume_order_url; // continue an order after a restart
};

struct challenge_record
{
    std::string fqdn;  // core::challenge_name_for(identifier) (RFC 8555 8.4)
    std::string value; // base64url(SHA-256(key authorization))
    std::chrono::seconds ttl{10};
    friend bool operator==(const challenge_record&, const challenge_record&) = default;
};

// ---- actions (machine → driver)
struct send_request
{
    std::string url;
    std::optional<nlohmann::json> payload; // nullopt: POST-as-GET (RFC 8555 6.3)
    bool accept_pem_chain = false;
    std::string step; // for error messages and logs
    endpoint where = endpoint::order;
};
struct present_challenges
{
    std::vector<challenge_record> records;
};
struct cleanup_challenges
{
    std::vector<challenge_record> records;
};
struct create_key_and_csr
{
    std::vector<std::string> names;
    core::key_type type;
    std::string order_url; // the key belongs to this order: stored before the CSR is sent
};
struct wait_until
{
    clock_time at;
};
struct order_result
{
    std::string certificate_pem;               // leaf first, then the chain
    std::vector<core::certificate_info> chain; // certificate_pem parsed
    std::string order_url;
    std::string certificate_url;
    std::vector<std::string> alternate_urls;
};
struct finished
{
    outcome<order_result> result;
};
using action = std::variant<
    send_request,
    present_challenges,
    cleanup_challenges,
    create_key_and_csr,
    wait_until,
    finished>;

// ---- events (driver → machine)
struct started
{
    clock_time now;
};
struct response_received
{
    net::http_response response;
    clock_time now;
};
struct request_failed
{
    boost::system::error_code error; // transport: timeout, refused, TLS, bad nonce exhausted
    clock_time now;
};
struct challenges_presented
{
    boost::system::error_code error;
};
struct challenges_cleaned
{};
struct csr_created
{
    boost::system::result<std::string> csr_der;
};
struct timer_fired
{
    clock_time now;
};
using event = std::variant<
    started,
    response_received,
    request_failed,
    challenges_presented,
    challenges_cleaned,
    csr_created,
    timer_fired>;

enum class order_phase
{
    creating,
    fetching_authorizations,
    presenting,
    answering,
    polling_validation,
    collecting_errors,
    cleaning_up,
    creating_csr,
    finalizing,
    polling_issuance,
    downloading,
    fetching_alternates,
    done,
};
[[nodiscard]] std::string_view to_string(order_phase p) noexcept;

struct order_machine_options
{
    std::string new_order_url;
    std::string account_thumbprint; // RFC 7638 thumbprint of the account key
    std::chrono::milliseconds first_poll_delay{50};
    std::chrono::milliseconds max_poll_delay{10'000};
    int max_transient_retries = 10; // in a row, per step (see above)
    std::chrono::milliseconds first_retry_delay{500};
    std::chrono::milliseconds max_retry_delay{30'000};
    // After finalize. Short: many CAs answer finalize with the order valid already (no poll at
    // all), and the others issue within a few hundred milliseconds; the backoff doubles from
    // here, so a slow CA sees one or two more polls, not a storm.
    std::chrono::milliseconds first_issuance_poll_delay{10};
};

class order_machine
{
public:
    order_machine(order_request request, order_machine_options options);

    [[nodiscard]] action resume(const event& e);

    [[nodiscard]] order_phase phase() const noexcept { return phase_; }
    [[nodiscard]] const std::string& order_url() const noexcept { return order_url_; }
    [[nodiscard]] const std::string& finalize_url() const noexcept { return finalize_url_; }
    [[nodiscard]] const std::string& certificate_url() const noexcept { return certificate_url_; }
    [[nodiscard]] const std::vector<std::string>& authorization_urls() const noexcept
    {
        return authorization_urls_;
    }
    [[nodiscard]] const std::vector<challenge_record>& presented() const noexcept
    {
        return presented_;
    }

private:
    static constexpr std::chrono::seconds max_retry_after{3600}; // a longer wait is cut to this

    // Sends r now; is_finalize: r is the finalize POST (a 2xx then confirms the CSR).
    action send(send_request r, bool is_finalize = false);
    // Waits until `at`, then sends r (the timer_fired event sends it).
    action send_at(clock_time at, send_request r);
    action create_order();
    action fetch_order(std::string step);
    action create_csr();
    action finalize();
    action on_response(const net::http_response& r);
    action on_error_response(const net::http_response& r);
    action on_order(const order& o, std::optional<std::chrono::seconds> retry_after);
    action on_authorization(const authorization& a);
    action next_authorization();
    action answer_next_challenge();
    void collect_errors(const authorization& a);
    action collect_next_error();
    action on_certificate(const net::http_response& r);
    action on_alternate(const net::http_response& r);
    action poll_later(std::optional<std::chrono::seconds> retry_after);
    action on_transient_failure(
        boost::system::error_code code,
        std::optional<problem> p,
        std::optional<std::chrono::seconds> retry_after
    );
    action fail(
        boost::system::error_code code, std::string context, std::optional<problem> p = std::nullopt
    );
    action finish_failure();

    order_request request_;
    order_machine_options options_;
    order_phase phase_ = order_phase::creating;
    clock_time now_{};
    clock_time deadline_{};
    std::string order_url_;
    std::string finalize_url_;
    std::string certificate_url_;
    std::vector<std::string> authorization_urls_;
    std::size_t next_authorization_ = 0;
    std::vector<std::string> challenge_urls_; // to answer, in order
    std::size_t next_challenge_ = 0;
    bool answered_ = false;
    std::vector<challenge_record> pending_records_;
    std::vector<challenge_record> presented_;
    std::string csr_der_;
    bool finalize_in_flight_ = false; // last_request_ is the finalize POST
    bool finalize_confirmed_ = false; // the CA answered 2xx to a finalize
    int finalize_attempts_ = 0;
    bool replaces_dropped_ = false;
    std::chrono::milliseconds poll_delay_{0};
    clock_time waiting_until_{};     // the end of the last wait asked for
    bool woken_early_ = false;       // it ended sooner: the CA was seen validating (order_wakeup)
    send_request last_request_;      // in flight, or sent when the timer fires
    int transient_retries_ = 0;      // of the step in flight, in a row
    std::optional<failure> failure_; // set once the order has failed; finished after cleanup
    std::optional<problem> order_problem_;
    std::vector<subproblem> collected_;
    order_result result_;
    std::size_t next_alternate_ = 0;
};

// RFC 8555 8.1 and 8.4: base64url(SHA-256(token "." thumbprint)).
[[nodiscard]] std::string
dns01_txt_value(std::string_view token, std::string_view account_thumbprint);

} // namespace certfleet::acme
