#include "app/control.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "app/log.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr std::size_t max_request_bytes = 1024 * 1024;

std::optional<std::int64_t> seconds_of(const std::optional<std::chrono::system_clock::time_point>& t
)
{
    if (!t) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

std::vector<core::row_id> ids_of(const nlohmann::json& request)
{
    std::vector<core::row_id> ids;
    const auto it = request.find("ids");
    if (it == request.end() || !it->is_array()) {
        return ids;
    }
    for (const auto& id : *it) {
        if (id.is_number_integer()) {
            ids.push_back(id.get<core::row_id>());
        }
    }
    return ids;
}

std::string error_line(std::string_view message)
{
    nlohmann::json j;
    j["error"] = message;
    return j.dump() + "\n";
}

} // namespace

nlohmann::json to_json(const run_result& r)
{
    nlohmann::json j{
        {"id", r.certificate_id}, {"names", r.names}, {"outcome", to_string(r.outcome)},
        {"problem", r.problem},   {"alert", r.alert}, {"duration_ms", r.duration.count()},
    };
    if (auto t = seconds_of(r.next_attempt_at)) {
        j["next_attempt_at"] = *t;
    }
    if (auto t = seconds_of(r.not_after)) {
        j["not_after"] = *t;
    }
    if (!r.serial_hex.empty()) {
        j["serial"] = r.serial_hex;
    }
    return j;
}

run_result run_result_from_json(const nlohmann::json& j)
{
    run_result r;
    r.certificate_id = j.value("id", core::row_id{0});
    if (auto it = j.find("names"); it != j.end() && it->is_array()) {
        for (const auto& n : *it) {
            if (n.is_string()) {
                r.names.push_back(n.get<std::string>());
            }
        }
    }
    const auto outcome = j.value("outcome", std::string("failed"));
    for (auto o : all_run_outcomes) {
        if (to_string(o) == outcome) {
            r.outcome = o;
        }
    }
    r.problem = j.value("problem", std::string());
    r.alert = j.value("alert", false);
    r.duration = std::chrono::milliseconds(j.value("duration_ms", std::int64_t{0}));
    r.serial_hex = j.value("serial", std::string());
    if (j.contains("next_attempt_at") && j["next_attempt_at"].is_number_integer()) {
        r.next_attempt_at = std::chrono::system_clock::time_point(
            std::chrono::seconds(j["next_attempt_at"].get<std::int64_t>())
        );
    }
    if (j.contains("not_after") && j["not_after"].is_number_integer()) {
        r.not_after = std::chrono::system_clock::time_point(
            std::chrono::seconds(j["not_after"].get<std::int64_t>())
        );
    }
    return r;
}

namespace {

std::string result_line(const run_result& r)
{
    nlohmann::json j;
    j["result"] = to_json(r);
    return j.dump() + "\n";
}

} // namespace

control_server::control_server(
    asio::any_io_executor executor, std::filesystem::path path, scheduler& s
)
    : executor_(std::move(executor)), path_(std::move(path)), scheduler_(s)
{}

control_server::~control_server()
{
    stop();
}

boost::system::error_code control_server::start()
{
    if (control_client::connect(path_)) {
        return make_error_code(boost::system::errc::address_in_use);
    }
    std::error_code ignored;
    std::filesystem::remove(path_, ignored); // a stale socket from a server that died
    boost::system::error_code ec;
    acceptor_.emplace(executor_);
    acceptor_->open(local(), ec);
    const auto old_mask = ::umask(0077); // the socket file is created 0600
    if (!ec) {
        acceptor_->bind(local::endpoint(path_.string()), ec);
    }
    ::umask(old_mask);
    if (!ec) {
        acceptor_->listen(16, ec);
    }
    if (ec) {
        acceptor_.reset();
        return ec;
    }
    asio::co_spawn(executor_, accept_loop(), asio::detached);
    return {};
}

void control_server::stop()
{
    if (acceptor_) {
        boost::system::error_code ignored;
        acceptor_->close(ignored);
        acceptor_.reset();
        std::error_code also_ignored;
        std::filesystem::remove(path_, also_ignored);
    }
}

asio::awaitable<void> control_server::accept_loop()
{
    while (acceptor_ && acceptor_->is_open()) {
        boost::system::error_code ec;
        auto socket =
            co_await acceptor_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted) {
                co_return;
            }
            continue;
        }
        asio::co_spawn(executor_, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> control_server::serve(local::socket socket)
{
    asio::streambuf buffer(max_request_bytes);
    boost::system::error_code ec;
    const auto n = co_await asio::async_read_until(
        socket, buffer, '\n', asio::redirect_error(asio::use_awaitable, ec)
    );
    if (ec) {
        co_return;
    }
    std::string line(
        asio::buffers_begin(buffer.data()),
        asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n)
    );
    // GCC 12 miscompiles braced temporaries inside a co_await expression: every reply is built
    // first, then sent.
    auto send = [&socket](std::string text) -> asio::awaitable<bool> {
        boost::system::error_code write_ec;
        co_await asio::async_write(
            socket, asio::buffer(text), asio::redirect_error(asio::use_awaitable, write_ec)
        );
        co_return !write_ec;
    };
    const auto request = nlohmann::json::parse(line, nullptr, false);
    const std::string done_line = nlohmann::json{{"done", true}}.dump() + "\n";
    if (request.is_discarded() || !request.is_object() || !request.contains("op")) {
        std::string reply = error_line("expected one JSON object with an \"op\"");
        co_await send(std::move(reply));
        co_return;
    }
    const auto op = request.value("op", std::string());
    const auto ids = ids_of(request);
    if (op == "reschedule") {
        for (auto id : ids) {
            scheduler_.reschedule(id);
        }
        co_await send(done_line);
        co_return;
    }
    if (op != "renew") {
        std::string reply = error_line("unknown op");
        co_await send(std::move(reply));
        co_return;
    }
    // Every certificate runs at once (within its CA's bound); results go out as they come.
    auto progress = scheduler_.start_all_now(ids);
    auto& wake = progress->wake;
    auto& results = progress->results;
    std::size_t sent = 0;
    while (sent < ids.size()) {
        if (sent == results.size()) {
            wake.expires_at(std::chrono::system_clock::time_point::max());
            boost::system::error_code wait_ec;
            co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
            continue;
        }
        std::string reply = result_line(results[sent]);
        if (!co_await send(std::move(reply))) {
            co_return;
        }
        ++sent;
    }
    co_await send(done_line);
}

std::optional<control_client> control_client::connect(const std::filesystem::path& path)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const auto text = path.string();
    if (text.size() >= sizeof(address.sun_path)) {
        return std::nullopt;
    }
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    return control_client(fd);
}

control_client::control_client(control_client&& other) noexcept : fd_(std::exchange(other.fd_, -1))
{}

control_client::~control_client()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool control_client::request(
    const nlohmann::json& body, const std::function<void(const nlohmann::json&)>& on_line
)
{
    const auto text = body.dump() + "\n";
    for (std::size_t sent = 0; sent < text.size();) {
        const auto n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string pending;
    char chunk[4096];
    for (;;) {
        const auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n <= 0) {
            return false;
        }
        pending.append(chunk, static_cast<std::size_t>(n));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            const auto line = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
            pending.erase(0, nl + 1);
            if (line.is_discarded() || line.contains("error")) {
                return false;
            }
            if (line.contains("done")) {
                return true;
            }
            on_line(line);
        }
    }
}

bool control_client::renew(
    const std::vector<core::row_id>& ids, const std::function<void(const run_result&)>& on_result
)
{
    return request(nlohmann::json{{"op", "renew"}, {"ids", ids}}, [&](const nlohmann::json& line) {
        if (line.contains("result")) {
            on_result(run_result_from_json(line["result"]));
        }
    });
}

bool control_client::reschedule(const std::vector<core::row_id>& ids)
{
    return request(nlohmann::json{{"op", "reschedule"}, {"ids", ids}}, [](const nlohmann::json&) {
    });
}

} // namespace certfleet::app
