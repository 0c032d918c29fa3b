#pragma once
// Sending a batch of UDP answers with sendmmsg(2), one failing message at a time.
//
// sendmmsg stops at the first message the kernel refuses and reports that error only when it is
// the first of the call; a reply to an address it will not send to (a query "from" source port
// 0 gets EINVAL) must cost that one reply, not every answer queued behind it.

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <span>

namespace certfleet::dns {

struct udp_send_result
{
    std::size_t sent = 0;
    std::size_t failed = 0; // refused one by one, or left unsent when the socket buffer is full
};

// `send(span of headers)` behaves as sendmmsg: the number of messages sent from the front, or
// -1 with errno set when the first one fails.
template <class Send> udp_send_result send_batch(std::span<mmsghdr> messages, Send&& send) noexcept
{
    udp_send_result result;
    std::size_t next = 0;
    while (next < messages.size()) {
        const int n = send(messages.subspan(next));
        if (n > 0) {
            next += static_cast<std::size_t>(n);
            result.sent += static_cast<std::size_t>(n);
            continue;
        }
        const int error = n < 0 ? errno : EIO;
        if (error == EINTR) {
            continue;
        }
        if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
            // The socket buffer is full: the rest would fail alike. UDP answers may be lost;
            // the clients retry.
            result.failed += messages.size() - next;
            break;
        }
        ++result.failed; // this message only (EINVAL, EPERM, EHOSTUNREACH, ...)
        ++next;
    }
    return result;
}

} // namespace certfleet::dns
