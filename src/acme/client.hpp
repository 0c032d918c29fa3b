#pragma once
// The ACME client (RFC 8555): one account at one CA. Many operations may run at once as
// coroutines on one io_context; they share the directory, the nonce pool and the account.
// Not thread-safe: use it from the thread of its http_client's executor.
//
// Every request is a JWS-signed POST (RFC 8555 6.2) with a nonce from the pool, refilled from
// every Replay-Nonce header; newNonce is asked only when the pool is empty. A badNonce error is
// retried with the fresh nonce it carries, at most max_bad_nonce_retries times; then the
// request fails with bad_nonce_exhausted, the CA's problem beside it (issue() retries the step
// later, see order_machine.hpp).
//
// Plain http:// is refused (insecure_url) for the directory and every URL it names, unless the
// host is loopback (127.0.0.0/8, ::1, localhost). Operations that need an account fail with
// no_account until register_account or find_account has succeeded.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>

#include "acme/ari.hpp"
#include "acme/directory.hpp"
#include "acme/failure.hpp"
#include "acme/nonce_pool.hpp"
#include "acme/order_machine.hpp"
#include "acme/request_outcome.hpp"
#include "core/challenge_board.hpp"
#include "core/crypto/private_key.hpp"
#include "net/http_client.hpp"
#include "net/work_gate.hpp"

namespace certfleet::acme {

template <class T> using task = boost::asio::awaitable<outcome<T>>;

struct external_account_binding
{
    std::string key_id;
    std::string hmac_key; // base64url, as the CA hands it out
};

struct account_options
{
    std::vector<std::string> contact; // "mailto:ops@example.com"
    bool agree_to_terms = false;
    std::optional<external_account_binding> eab;
};

struct account_info
{
    std::string url;
    account details;
};

struct client_options
{
    std::string directory_url; // https://, or http:// to a loopback host only
    int max_bad_nonce_retries = 5;
    std::chrono::milliseconds first_poll_delay{50};
    std::chrono::milliseconds max_poll_delay{10'000};
    std::chrono::milliseconds first_issuance_poll_delay{10}; // after finalize
    // Told of every HTTP request once it ended (badNonce retries included), on the client's
    // executor; for metrics. May be empty.
    std::function<void(const request_report&)> on_request;
};

struct issued_certificate
{
    std::string certificate_pem;
    std::vector<core::certificate_info> chain; // certificate_pem parsed, leaf first
    core::private_key key;
    std::string order_url;
    std::string certificate_url;
    std::vector<std::string> alternate_urls;
};

struct renewal_info_result
{
    renewal_window window;
    std::optional<std::chrono::seconds> retry_after;
    std::string cert_id;
};

// Where an order stands, handed to the issuer before each step so that it can be stored first
// (write-ahead): the effect that depends on a URL happens only after the URL is persisted.
struct order_progress
{
    order_phase phase = order_phase::creating;
    std::string order_url;
    std::string finalize_url;
    std::string certificate_url;
    std::vector<std::string> authorization_urls;
};

// Cuts an order's wait short when the CA is seen validating (our own DNS answered its TXT
// query): the order then polls `grace` after that query instead of at its next backoff step.
// Honoured once per order, and only while it waits for validation, so a CA is never polled more
// than one extra time. The grace is what the CA needs between our answer and recording it:
// Pebble's authorization is valid within 1-2 ms (a 10 ms grace left each order idle for 8 ms:
// bench/issue one at a time, 1.27 of the floor against 0.92 with 2 ms). A CA that validates from
// several places takes longer; the early poll then finds it pending and the backoff goes on.
// Use from the client's executor only (post to it from other threads).
class order_wakeup
{
public:
    explicit order_wakeup(std::chrono::milliseconds grace = std::chrono::milliseconds(2))
        : grace_(grace)
    {}
    // The CA asked for one of this order's TXT records at `seen`.
    void poke(std::chrono::system_clock::time_point seen);
    // Used by the driver: when the wait ending at `at` should end instead.
    [[nodiscard]] std::chrono::system_clock::time_point
    shorten(std::chrono::system_clock::time_point at, order_phase phase);
    // The driver's timer, while it waits; nullptr otherwise.
    std::function<void()> cancel_wait;

private:
    std::chrono::milliseconds grace_;
    std::optional<std::chrono::system_clock::time_point> seen_;
    bool used_ = false;
};

// Hooks into the issuer's store. save_key is called with each new certificate key BEFORE its
// CSR is sent, so that a crash after finalize loses nothing; load_key finds the key of an
// order being resumed; on_progress is called before every step with the order's URLs and
// phase, and the step waits for it (an error stops the order: nothing unrecorded happens).
struct key_hooks
{
    std::function<boost::system::error_code(std::string_view order_url, const core::private_key&)>
        save_key;
    std::function<std::optional<core::private_key>(std::string_view order_url)> load_key;
    std::function<boost::system::error_code(const order_progress&)> on_progress;
    std::shared_ptr<order_wakeup> wakeup;
};

struct client_stats
{
    std::uint64_t requests = 0;
    std::uint64_t nonces_fetched = 0;
    std::uint64_t bad_nonce_retries = 0;
};

class client
{
public:
    client(net::http_client& http, core::private_key account_key, client_options options);

    // Fetches the directory once (callers at the same time wait for that fetch and share its
    // outcome); later calls return the cached copy. Errors: insecure_url (before any request, or
    // for a plain http:// resource URL in the directory), a transport error, problem, or the
    // directory's parse errors.
    task<directory> load_directory();
    // newAccount (RFC 8555 7.3): creates the account, or finds the one this key already has.
    task<account_info> register_account(account_options options);
    // newAccount with onlyReturnExisting (RFC 8555 7.3.1): fails with accountDoesNotExist.
    task<account_info> find_account();
    // The account this key registered earlier, by the URL that registration gave: no request.
    // A CA that no longer knows it answers accountDoesNotExist; register_account then finds
    // or makes it again.
    void use_account(std::string url) { account_url_ = std::move(url); }
    task<account_info> update_contact(std::vector<std::string> contact);
    // Key rollover (RFC 8555 7.3.5): afterwards this client signs with new_key.
    task<void> rollover_key(core::private_key new_key);
    task<void> deactivate_account();

    // Issues one certificate through the order machine. TXT values go through `board`. Many
    // may run at once; their newOrder requests go one at a time (the next is sent when the CA
    // has answered the last): CAs index an account's orders, and creations racing on that
    // index have failed (step-ca's compare-and-swap) or deadlocked the CA (Pebble 2.4 takes its
    // store's lock then an authorization's in one handler, the other way round in another).
    task<issued_certificate>
    issue(order_request request, core::challenge_board& board, key_hooks hooks = {});

    // ARI (RFC 9773): the CA's suggested renewal window for a certificate (leaf PEM).
    task<renewal_info_result> renewal_info(std::string leaf_pem);
    // The same by the certificate's ARI identifier (section 4.1), as ari_cert_id() makes it.
    task<renewal_info_result> renewal_info_by_id(std::string cert_id);

    // Revocation (RFC 8555 7.6) signed by the account key, or by the certificate's own key
    // when given. reason: RFC 5280 CRLReason code (0 unspecified, 1 keyCompromise, 4 superseded,
    // 5 cessationOfOperation...).
    task<void> revoke(
        std::string leaf_pem,
        int reason,
        std::optional<core::private_key> certificate_key = std::nullopt
    );

    [[nodiscard]] const std::string& account_url() const noexcept { return account_url_; }
    [[nodiscard]] const core::private_key& account_key() const noexcept { return key_; }
    [[nodiscard]] const client_stats& stats() const noexcept { return stats_; }

private:
    enum class signer
    {
        account_kid, // kid = account URL (RFC 8555 6.2)
        account_jwk, // jwk = account public key (newAccount)
    };
    struct post_options
    {
        endpoint where = endpoint::account;
        signer by = signer::account_kid;
        const core::private_key* key = nullptr; // another key (certificate-key revocation)
        bool accept_pem = false;
    };

    task<net::http_response> post(
        std::string url,
        std::optional<nlohmann::json> payload,
        post_options options,
        std::string step
    );
    // Sends one request, counted in stats() and reported to options.on_request.
    boost::asio::awaitable<boost::system::result<net::http_response>>
    fetch(net::http_request request, endpoint where);
    task<directory> fetch_directory(); // one GET, uncached (load_directory() caches)
    task<std::string> take_nonce();
    task<account_info> new_account(nlohmann::json payload, std::string step);
    task<account_info> post_account(nlohmann::json payload, std::string step);
    boost::asio::awaitable<boost::system::result<core::private_key>>
    generate_key(core::key_type type);

    net::http_client& http_;
    core::private_key key_;
    client_options options_;
    std::optional<directory> directory_;
    std::uint64_t directory_fetches_ = 0;                    // fetches finished, for their waiters
    std::optional<outcome<directory>> last_directory_fetch_; // what the last one gave them
    nonce_pool nonces_;
    std::string account_url_;
    client_stats stats_;
    std::unique_ptr<boost::asio::thread_pool> key_workers_; // RSA generation off the I/O thread
    std::unique_ptr<net::work_gate> new_orders_;            // one newOrder in flight (issue())
    std::unique_ptr<net::work_gate> directory_loads_;       // one directory fetch in flight
};

// Turns a non-2xx response into a failure carrying the CA's problem document.
[[nodiscard]] failure response_failure(
    const net::http_response& r, std::string step, std::chrono::system_clock::time_point now
);

} // namespace certfleet::acme
