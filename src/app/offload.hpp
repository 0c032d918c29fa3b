#pragma once
// Runs blocking or CPU-bound work on another executor (a thread pool) from a coroutine on the
// I/O thread, and resumes the coroutine on its own executor with the result. (Awaiting
// `asio::post(pool, use_awaitable)` would not do it: the coroutine resumes on its own executor,
// so the work after it would still run on the I/O thread.)

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace certfleet::app {

// `work` runs on `pool` (or inline when `pool` is empty); its result comes back by value.
template <class Work> auto offload(boost::asio::any_io_executor pool, Work work)
{
    namespace asio = boost::asio;
    using result_type = std::invoke_result_t<Work&>;
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(result_type)>(
        [pool](auto handler, Work w) {
            auto run = [handler = std::move(handler), w = std::move(w)]() mutable {
                auto result = w();
                const auto home = asio::get_associated_executor(handler);
                asio::dispatch(
                    home, [handler = std::move(handler), result = std::move(result)](
                          ) mutable { std::move(handler)(std::move(result)); }
                );
            };
            if (pool) {
                asio::post(pool, std::move(run));
            } else {
                run();
            }
        },
        asio::use_awaitable, std::move(work)
    );
}

} // namespace certfleet::app
