#include "dns/ares_client.hpp"

#include <ares.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <mutex>

namespace certfleet::dns {
namespace {

struct pending_query
{
    bool done = false;
    int status = ARES_SUCCESS;
    std::vector<std::uint8_t> message;
};

void on_answer(void* arg, int status, int, unsigned char* abuf, int alen)
{
    auto* query = static_cast<pending_query*>(arg);
    query->done = true;
    query->status = status;
    if (abuf != nullptr && alen > 0) {
        query->message.assign(abuf, abuf + alen);
    }
}

// Polls the channel's sockets until every query's callback has run; c-ares' own timers bound it.
void run_until_done(ares_channel channel, const std::vector<pending_query>& queries)
{
    const auto all_done = [&queries] {
        return std::all_of(queries.begin(), queries.end(), [](const auto& q) { return q.done; });
    };
    while (!all_done()) {
        std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> sockets{};
        const int mask = ares_getsock(channel, sockets.data(), ARES_GETSOCK_MAXNUM);
        std::vector<pollfd> fds;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(mask, i)) {
                events |= POLLIN;
            }
            if (ARES_GETSOCK_WRITABLE(mask, i)) {
                events |= POLLOUT;
            }
            if (events != 0) {
                fds.push_back(pollfd{sockets[static_cast<std::size_t>(i)], events, 0});
            }
        }
        timeval tv{};
        const timeval* wait = ares_timeout(channel, nullptr, &tv);
        const int timeout_ms =
            wait == nullptr ? 100 : static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000);
        ::poll(fds.data(), fds.size(), timeout_ms);
        if (fds.empty()) {
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (const auto& p : fds) {
            ares_process_fd(
                channel, (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 ? p.fd : ARES_SOCKET_BAD,
                (p.revents & POLLOUT) != 0 ? p.fd : ARES_SOCKET_BAD
            );
        }
    }
}

// c-ares maps the RCODE and an empty answer section to these statuses (ares_query.c).
ares_answer answer_of(pending_query& pending)
{
    switch (pending.status) {
    case ARES_SUCCESS:
        return {ares_outcome::answered, std::move(pending.message), {}};
    case ARES_ENOTFOUND:
        return {ares_outcome::no_such_name, {}, {}};
    case ARES_ENODATA:
        return {ares_outcome::no_data, {}, {}};
    case ARES_ESERVFAIL:
        return {
            ares_outcome::failed,
            {},
            "SERVFAIL (the resolver got no answer from the name's servers)"};
    case ARES_EREFUSED:
        return {ares_outcome::failed, {}, "REFUSED (the resolver does not answer us)"};
    default:
        return {ares_outcome::failed, {}, ares_strerror(pending.status)};
    }
}

} // namespace

void ares_client::channel_deleter::operator()(ares_channeldata* channel) const noexcept
{
    ares_destroy(channel);
}

ares_client::ares_client(const ares_settings& settings)
{
    static std::once_flag library_once;
    std::call_once(library_once, [] { ares_library_init(ARES_LIB_INIT_ALL); });

    ares_options options{};
    options.timeout = static_cast<int>(settings.timeout.count());
    options.tries = settings.tries;
    // Report SERVFAIL and REFUSED as they are: without this flag c-ares skips a server that
    // answers so, and out of servers says "Could not contact DNS servers", which misleads.
    options.flags = ARES_FLAG_NOCHECKRESP;
    ares_channel raw = nullptr;
    constexpr int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    if (ares_init_options(&raw, &options, mask) != ARES_SUCCESS) {
        setup_error_ = "cannot initialise the resolver library";
        return;
    }
    channel_.reset(raw);
    if (!settings.resolvers.empty()) {
        std::string csv;
        for (const auto& r : settings.resolvers) {
            csv += (csv.empty() ? "" : ",") + r;
        }
        if (ares_set_servers_ports_csv(channel_.get(), csv.c_str()) != ARES_SUCCESS) {
            setup_error_ =
                "invalid resolver address '" + csv + "': use host:port, e.g. 127.0.0.1:53";
            channel_.reset();
        }
    }
}

ares_client::~ares_client() = default;

ares_answer ares_client::query(const std::string& name, rr_type type)
{
    if (!channel_) {
        return {ares_outcome::failed, {}, setup_error_};
    }
    if (const auto kept = prefetched_.find(question{name, type}); kept != prefetched_.end()) {
        return kept->second;
    }
    std::vector<pending_query> pending(1);
    ares_query(
        channel_.get(), name.c_str(), class_in, static_cast<int>(type), on_answer, pending.data()
    );
    run_until_done(channel_.get(), pending);
    return answer_of(pending.front());
}

void ares_client::prefetch(const std::vector<std::pair<std::string, rr_type>>& questions)
{
    if (!channel_ || questions.empty()) {
        return;
    }
    // Not resized after this: the callbacks hold pointers into it.
    std::vector<pending_query> pending(questions.size());
    for (std::size_t i = 0; i < questions.size(); ++i) {
        const auto& [name, type] = questions[i];
        ares_query(
            channel_.get(), name.c_str(), class_in, static_cast<int>(type), on_answer, &pending[i]
        );
    }
    run_until_done(channel_.get(), pending);
    for (std::size_t i = 0; i < questions.size(); ++i) {
        prefetched_.insert_or_assign(questions[i], answer_of(pending[i]));
    }
}

} // namespace certfleet::dns
