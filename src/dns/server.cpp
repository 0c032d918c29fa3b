#include "dns/server.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <optional>
#include <thread>

#include "dns/errc.hpp"
#include "dns/server_shard.hpp"
#include "dns/tcp_listener.hpp"
#include "dns/udp_listener.hpp"

namespace certfleet::dns {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace detail {

void shard_stats::add_to(server_stats& s) const noexcept
{
    s.udp_queries += udp_queries.get();
    s.tcp_queries += tcp_queries.get();
    s.dropped += dropped.get();
    s.tcp_refused_connections += tcp_refused_connections.get();
    s.tcp_evicted_connections += tcp_evicted_connections.get();
    s.tcp_expired_connections += tcp_expired_connections.get();
    s.accept_errors += accept_errors.get();
    s.rate_limited_dropped += rate_limited_dropped.get();
    s.rate_limited_truncated += rate_limited_truncated.get();
    for (std::size_t i = 0; i < rcode_slots; ++i) {
        s.responses[i] += responses[i].get();
    }
}

tcp_registry::decision tcp_registry::admit(const std::shared_ptr<tcp_connection>& connection)
{
    const auto candidate = connection->state();
    std::lock_guard lock(mutex_);
    states_.clear();
    for (const auto& c : open_) {
        states_.push_back(c->state());
    }
    const auto verdict =
        admit_tcp(states_, candidate.source, std::chrono::steady_clock::now(), limits_);
    decision d;
    switch (verdict.what) {
    case tcp_admission::verdict::refuse:
        return d;
    case tcp_admission::verdict::admit_after_evicting:
        d.victim = std::move(open_[verdict.victim]);
        open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(verdict.victim));
        break;
    case tcp_admission::verdict::admit:
        break;
    }
    open_.push_back(connection);
    d.admitted = true;
    return d;
}

void tcp_registry::remove(const tcp_connection* connection) noexcept
{
    std::lock_guard lock(mutex_);
    std::erase_if(open_, [&](const auto& c) { return c.get() == connection; });
}

std::vector<std::shared_ptr<tcp_connection>> tcp_registry::take_all()
{
    std::lock_guard lock(mutex_);
    return std::exchange(open_, {});
}

server_core::server_core(server_options opts, const zone_data& data)
    : options(std::move(opts)),
      // The caller owns the first catalog and keeps it for the server's life: no deleter.
      zones(std::shared_ptr<const catalog>(std::shared_ptr<const catalog>{}, data.zones)),
      challenges(data.challenges),
      limiter(
          options.rate_limit.enabled ? std::make_unique<rate_limiter>(options.rate_limit) : nullptr
      ),
      registry(tcp_limits{
          options.max_tcp_connections, options.max_tcp_per_source,
          std::min<std::chrono::milliseconds>(
              options.tcp_idle_timeout / 2, std::chrono::milliseconds{1000}
          )})
{}

} // namespace detail

namespace {

// Descriptors kept for the rest of the process: standard streams, logs, the configuration,
// resolver sockets of the delegation checker, a reloaded records file.
constexpr std::size_t reserved_descriptors = 64;

// Makes sure RLIMIT_NOFILE holds `needed` descriptors, raising the soft limit towards the hard
// one if need be.
bool descriptors_available(std::size_t needed)
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return true; // cannot tell: let accept() back off if it comes to that
    }
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) {
        return true;
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
        return false;
    }
    limit.rlim_cur = static_cast<rlim_t>(needed);
    return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

} // namespace

std::string_view rcode_slot_name(std::size_t slot) noexcept
{
    static constexpr std::array<std::string_view, rcode_slots> names{
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other"};
    return slot < names.size() ? names[slot] : "other";
}

std::size_t available_cpus()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return std::max(1U, std::thread::hardware_concurrency());
}

std::size_t descriptors_needed(const server_options& options, std::size_t threads)
{
    // Per thread: an epoll and an eventfd or timerfd for its io_context, a UDP socket (served
    // by a thread of its own) and an acceptor per address. One more per TCP connection, and one
    // for a connection being accepted and refused.
    return reserved_descriptors + threads * (3 + 2 * options.listen.size()) +
           options.max_tcp_connections + 1;
}

struct server::impl
{
    impl(asio::io_context& context, server_options opts, const zone_data& data)
        : io(context), core(std::move(opts), data)
    {}

    struct own_thread
    {
        std::unique_ptr<asio::io_context> io;
        std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
        std::thread thread;
    };

    asio::io_context& io;
    detail::server_core core;
    std::vector<std::unique_ptr<detail::shard>> shards; // [0] runs on `io`
    std::vector<own_thread> threads;                    // for shards[1...]
    // One per shard and address; udp_listeners[i] and tcp_listeners[i] share one.
    std::vector<std::unique_ptr<detail::udp_listener>> udp_listeners;
    std::vector<std::shared_ptr<detail::tcp_listener>> tcp_listeners;
    std::vector<const detail::shard*> listener_shard; // of both [i]
    // The counters of every UDP thread, kept after stop() for stats().
    std::vector<std::shared_ptr<const detail::lane>> udp_lanes;

    boost::system::error_code open(const udp::endpoint& requested);
    void close_shard(
        const detail::shard& s,
        const std::vector<std::shared_ptr<detail::tcp_connection>>& connections
    );
};

// Opens UDP and TCP on `requested` for every shard. With port 0 the kernel picks UDP's port,
// which TCP may hold already: try a few.
boost::system::error_code server::impl::open(const udp::endpoint& requested)
{
    const bool shared_port = shards.size() > 1;
    if (shared_port && requested.port() != 0) {
        // SO_REUSEPORT lets any process of the same user bind a port that the threads share,
        // and the kernel would then split the queries between two servers without a word (a
        // second `serve` with its own challenge records). Opening the address once without it
        // fails as one thread's sockets would when another server holds the port.
        detail::udp_listener datagram(core);
        const auto stream = std::make_shared<detail::tcp_listener>(*shards.front());
        auto taken = datagram.open(requested, false);
        if (!taken) {
            taken = stream->open(tcp::endpoint{requested.address(), requested.port()}, false);
        }
        datagram.close();
        stream->close();
        if (taken) {
            return taken;
        }
    }
    const int attempts = requested.port() == 0 ? 16 : 1;
    boost::system::error_code ec;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        std::vector<std::unique_ptr<detail::udp_listener>> u;
        std::vector<std::shared_ptr<detail::tcp_listener>> t;
        auto at = requested;
        for (auto& s : shards) {
            u.push_back(std::make_unique<detail::udp_listener>(core));
            t.push_back(std::make_shared<detail::tcp_listener>(*s));
            if ((ec = u.back()->open(at, shared_port))) {
                break;
            }
            at = u.back()->local_endpoint(); // the port the first one got
            if ((ec = t.back()->open(tcp::endpoint{at.address(), at.port()}, shared_port))) {
                break;
            }
        }
        if (!ec && shared_port) {
            // Without it the kernel's hash still spreads many sources, only less evenly.
            (void)u.front()->spread_datagrams(u.size());
        }
        if (!ec) {
            for (std::size_t i = 0; i < shards.size(); ++i) {
                udp_lanes.push_back(u[i]->counters());
                udp_listeners.push_back(std::move(u[i]));
                tcp_listeners.push_back(std::move(t[i]));
                listener_shard.push_back(shards[i].get());
            }
            return {};
        }
        for (auto& l : u) {
            l->close();
        }
        for (auto& l : t) {
            l->close();
        }
        if (ec != asio::error::address_in_use || attempt + 1 == attempts || u.size() > 1 ||
            t.empty()) {
            break; // only the first TCP bind may meet a port taken by chance
        }
    }
    return ec;
}

void server::impl::close_shard(
    const detail::shard& s, const std::vector<std::shared_ptr<detail::tcp_connection>>& connections
)
{
    for (std::size_t i = 0; i < listener_shard.size(); ++i) {
        if (listener_shard[i] == &s) {
            tcp_listeners[i]->close();
        }
    }
    for (const auto& c : connections) {
        if (&c->owner() == &s) {
            c->close();
        }
    }
}

server::server(asio::io_context& io, server_options options, zone_data data)
{
    options.responder.max_udp_payload =
        std::clamp<std::uint16_t>(options.responder.max_udp_payload, 512, detail::max_udp_message);
    impl_ = std::make_unique<impl>(io, std::move(options), data);
}

server::~server()
{
    stop();
}

boost::system::error_code server::start()
{
    auto& m = *impl_;
    const std::size_t threads =
        m.core.options.threads == 0 ? available_cpus() : m.core.options.threads;
    if (!descriptors_available(descriptors_needed(m.core.options, threads))) {
        return errc::descriptor_limit;
    }
    m.shards.push_back(std::make_unique<detail::shard>(m.io, m.core));
    for (std::size_t i = 1; i < threads; ++i) {
        auto& t = m.threads.emplace_back();
        t.io = std::make_unique<asio::io_context>(1);
        t.work.emplace(t.io->get_executor());
        m.shards.push_back(std::make_unique<detail::shard>(*t.io, m.core));
    }
    for (const auto& requested : m.core.options.listen) {
        if (auto ec = m.open(requested)) {
            stop();
            return ec;
        }
    }
    for (auto& u : m.udp_listeners) {
        u->start();
    }
    for (auto& t : m.tcp_listeners) {
        t->start();
    }
    for (auto& t : m.threads) {
        t.thread = std::thread([io = t.io.get()] { io->run(); });
    }
    return {};
}

void server::stop()
{
    auto& m = *impl_;
    // UDP first: each thread is woken and joined here.
    for (auto& u : m.udp_listeners) {
        u->close();
    }
    const auto connections = m.core.registry.take_all();
    if (!m.shards.empty()) {
        m.close_shard(*m.shards.front(), connections);
    }
    // Every other shard closes its own sockets on its own thread, then runs out of work.
    for (std::size_t i = 0; i < m.threads.size(); ++i) {
        auto& t = m.threads[i];
        const auto* s = m.shards[i + 1].get();
        asio::post(*t.io, [&m, s, connections] { m.close_shard(*s, connections); });
        t.work.reset();
    }
    for (auto& t : m.threads) {
        if (t.thread.joinable()) {
            t.thread.join();
        }
    }
    m.udp_listeners.clear();
    m.tcp_listeners.clear();
    m.listener_shard.clear();
}

void server::replace_zones(std::shared_ptr<const catalog> zones)
{
    impl_->core.zones.publish(std::move(zones));
}

std::shared_ptr<const catalog> server::zones() const
{
    return impl_->core.zones.load().first;
}

std::size_t server::thread_count() const noexcept
{
    return impl_->shards.size();
}

std::vector<udp::endpoint> server::local_endpoints() const
{
    std::vector<udp::endpoint> out;
    for (std::size_t i = 0; i < impl_->udp_listeners.size(); ++i) {
        if (impl_->listener_shard[i] == impl_->shards.front().get()) {
            out.push_back(impl_->udp_listeners[i]->local_endpoint());
        }
    }
    return out;
}

server_stats server::stats() const
{
    server_stats total;
    for (const auto& s : impl_->shards) {
        s->stats.add_to(total);
    }
    for (const auto& l : impl_->udp_lanes) {
        l->stats.add_to(total);
        total.udp_queries_by_socket.push_back(l->stats.udp_queries.get());
    }
    return total;
}

boost::system::result<udp::endpoint>
parse_endpoint(std::string_view text, std::uint16_t default_port)
{
    std::string_view host = text;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return errc::invalid_name;
        }
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return errc::invalid_name;
            }
            port_text = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const auto colon = text.find(':');
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    std::uint16_t port = default_port;
    if (!port_text.empty()) {
        const auto* end = port_text.data() + port_text.size();
        auto [p, ec] = std::from_chars(port_text.data(), end, port);
        if (ec != std::errc{} || p != end) {
            return errc::invalid_name;
        }
    }
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(std::string(host), ec);
    if (ec) {
        return ec;
    }
    return udp::endpoint{address, port};
}

} // namespace certfleet::dns
