#pragma once
// A self-pipe that wakes a thread blocked in poll(): the worker's main loop sleeps on its database
// socket and this pipe, so a finished task or a stop request interrupts the sleep at once.

#include <pgflow/error.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace pgflow::detail {

class runtime_wakeup {
public:
    runtime_wakeup() {
        if (::pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0)
            throw error(std::string("pgflow: cannot create a wake-up pipe: ") + std::strerror(errno));
    }
    runtime_wakeup(const runtime_wakeup&) = delete;
    runtime_wakeup& operator=(const runtime_wakeup&) = delete;
    ~runtime_wakeup() {
        ::close(fds_[0]);
        ::close(fds_[1]);
    }

    /// Async-signal-safe and thread-safe. A full pipe already means "wake up", so EAGAIN is fine.
    void notify() const noexcept {
        const char byte = 1;
        [[maybe_unused]] auto n = ::write(fds_[1], &byte, 1);
    }

    /// Empties the pipe after a wake-up.
    void drain() const noexcept {
        char buffer[64];
        while (::read(fds_[0], buffer, sizeof buffer) > 0) {
        }
    }

    /// Sleeps until a notification or until `duration` has passed (for a thread with no
    /// connection to wait on), and empties the pipe.
    void sleep_for(std::chrono::milliseconds duration) const noexcept {
        pollfd fd{fds_[0], POLLIN, 0};
        while (::poll(&fd, 1, static_cast<int>(std::max<long long>(0, duration.count()))) < 0 && errno == EINTR) {
        }
        drain();
    }

    [[nodiscard]] int fd() const noexcept { return fds_[0]; }

private:
    int fds_[2] = {-1, -1};
};

}  // namespace pgflow::detail
