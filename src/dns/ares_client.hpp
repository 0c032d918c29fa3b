#pragma once
// A blocking DNS client over c-ares for the checkers that ask the world's DNS as a CA would: one
// channel, the given recursive resolvers (or resolv.conf), a per-try timeout and a number of
// tries. It returns whole responses, which the callers read with our own codec (message.hpp).
//
// Blocking: a query takes at most about timeout × tries per resolver. Run it off the
// io_context's thread. Thread safety: one client per thread; c-ares' library initialisation is
// done once for the process, safely.
//
// A client may be kept for many queries (its channel, sockets and the system's resolver
// configuration are set up once), and `prefetch` asks many questions at once: later `query` calls
// for them return the answers kept, until `forget_prefetched`.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dns/message.hpp"

struct ares_channeldata;

namespace certfleet::dns {

struct ares_settings
{
    // Resolvers "host:port" ("127.0.0.1:5353", "[::1]:53"); empty: the system's resolv.conf.
    std::vector<std::string> resolvers;
    std::chrono::milliseconds timeout{2000};
    int tries = 2;
};

enum class ares_outcome
{
    answered,     // NOERROR with records in the answer section (of any type: CNAMEs count)
    no_such_name, // NXDOMAIN
    no_data,      // NOERROR with an empty answer section
    failed,       // no usable answer: timeout, SERVFAIL, REFUSED, a malformed response, ...
};

struct ares_answer
{
    ares_outcome outcome = ares_outcome::failed;
    std::vector<std::uint8_t> message; // the response as received, when answered
    std::string error;                 // why it failed, for humans
};

class ares_client
{
public:
    // Never throws for the resolver's sake: when c-ares cannot start or a resolver address is not
    // "host:port", the client is unusable and setup_error() says why.
    explicit ares_client(const ares_settings& settings);
    ~ares_client();
    ares_client(const ares_client&) = delete;
    ares_client& operator=(const ares_client&) = delete;

    [[nodiscard]] const std::string& setup_error() const noexcept { return setup_error_; }

    // Asks for `name` (presentation form) and `type`, class IN, recursion desired; blocks until
    // the answer. On an unusable client, fails with setup_error().
    [[nodiscard]] ares_answer query(const std::string& name, rr_type type);

    // Asks every question at once and keeps the answers for `query`; blocks until the last one.
    void prefetch(const std::vector<std::pair<std::string, rr_type>>& questions);
    void forget_prefetched() noexcept { prefetched_.clear(); }

private:
    using question = std::pair<std::string, rr_type>;
    struct channel_deleter
    {
        void operator()(ares_channeldata* channel) const noexcept;
    };
    std::unique_ptr<ares_channeldata, channel_deleter> channel_;
    std::string setup_error_;
    std::map<question, ares_answer> prefetched_;
};

} // namespace certfleet::dns
