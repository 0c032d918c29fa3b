#pragma once
// The local control channel of `certfleet serve`: a Unix socket beside the database (mode 0600,
// so only the server's user can use it), through which a CLI on the same store hands work to the
// running server instead of competing for its DNS port. One JSON request a line, answered by
// JSON lines:
//   {"op":"renew","ids":[1,2]}  → one {"result":{...}} line per certificate as it finishes,
//                                 then {"done":true}
//   {"op":"reschedule","ids":[3]} → {"done":true} (a certificate was added or changed)
// A malformed request is answered {"error":"..."} and the connection closed.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/scheduler.hpp"

namespace certfleet::app {

[[nodiscard]] nlohmann::json to_json(const run_result& r);
[[nodiscard]] run_result run_result_from_json(const nlohmann::json& j);

class control_server
{
public:
    control_server(boost::asio::any_io_executor executor, std::filesystem::path path, scheduler& s);
    ~control_server();

    // Listens; a stale socket file (no server behind it) is replaced. Errors: address_in_use when
    // another server answers there.
    [[nodiscard]] boost::system::error_code start();
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);

    boost::asio::any_io_executor executor_;
    std::filesystem::path path_;
    scheduler& scheduler_;
    std::optional<boost::asio::local::stream_protocol::acceptor> acceptor_;
};

// The CLI's side, blocking. nullopt when no server listens at `path`.
class control_client
{
public:
    [[nodiscard]] static std::optional<control_client> connect(const std::filesystem::path& path);
    control_client(control_client&& other) noexcept;
    control_client& operator=(control_client&&) = delete;
    control_client(const control_client&) = delete;
    ~control_client();

    // Sends the ids to renew; calls `on_result` as each finishes. False when the server went
    // away before it finished.
    bool renew(
        const std::vector<core::row_id>& ids,
        const std::function<void(const run_result&)>& on_result
    );
    bool reschedule(const std::vector<core::row_id>& ids);

private:
    explicit control_client(int fd) : fd_(fd) {}
    bool
    request(const nlohmann::json& body, const std::function<void(const nlohmann::json&)>& on_line);

    int fd_ = -1;
};

} // namespace certfleet::app
