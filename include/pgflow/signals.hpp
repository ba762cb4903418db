#pragma once
// pgflow::stop_on_signals — turns SIGINT and SIGTERM into a std::stop_token request, for
// `worker.run(signals.token())` in a worker program. The signal handler only writes to a pipe
// (async-signal-safe); a small thread turns that into request_stop().

#include <pgflow/error.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace pgflow {

namespace detail {
inline std::atomic<int> signal_pipe_write_end{-1};
inline std::atomic<int> last_signal{0};
extern "C" inline void pgflow_on_stop_signal(int signal_number) {
    const int saved = errno;
    last_signal.store(signal_number);
    const int fd = signal_pipe_write_end.load();
    if (fd >= 0) {
        const char byte = 1;
        [[maybe_unused]] auto n = ::write(fd, &byte, 1);
    }
    errno = saved;
}
}  // namespace detail

/// While alive, SIGINT and SIGTERM (or the given signals) request a stop instead of ending the
/// process; the previous handlers come back on destruction. One instance at a time.
class stop_on_signals {
public:
    explicit stop_on_signals(std::initializer_list<int> signals = {SIGINT, SIGTERM}) : signals_(signals) {
        for (std::size_t i = 0; i < signals_.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (signals_[i] == signals_[j])  // its second "previous" handler would be ours
                    throw invalid_argument_error("pgflow: stop_on_signals: signal " + std::to_string(signals_[i]) +
                                                 " is given twice");
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            throw error(std::string("pgflow: stop_on_signals cannot create a pipe: ") + std::strerror(errno));
        read_end_ = fds[0];
        write_end_ = fds[1];
        int expected = -1;
        if (!detail::signal_pipe_write_end.compare_exchange_strong(expected, write_end_)) {
            ::close(read_end_);
            ::close(write_end_);
            throw error("pgflow: only one pgflow::stop_on_signals may exist at a time");
        }
        detail::last_signal.store(0);  // what an earlier instance received is not this one's
        // From here on a failure undoes everything: a half-made instance would leave SIGINT and
        // SIGTERM swallowed and the one-instance slot taken for the rest of the process.
        std::size_t installed = 0;
        try {
            previous_.resize(signals_.size());
            for (; installed < signals_.size(); ++installed) {
                struct sigaction action {};
                action.sa_handler = &detail::pgflow_on_stop_signal;
                sigemptyset(&action.sa_mask);
                action.sa_flags = SA_RESTART;
                if (::sigaction(signals_[installed], &action, &previous_[installed]) != 0) {  // SIGKILL, SIGSTOP, ...
                    const int failure = errno;
                    throw invalid_argument_error("pgflow: stop_on_signals cannot handle signal " +
                                                 std::to_string(signals_[installed]) + ": " + std::strerror(failure));
                }
            }
            watcher_ = std::jthread([this](std::stop_token quit) {
                pollfd fd{read_end_, POLLIN, 0};
                while (!quit.stop_requested()) {
                    if (::poll(&fd, 1, 100) > 0) {
                        char buffer[16];
                        if (::read(read_end_, buffer, sizeof buffer) > 0) source_.request_stop();
                    }
                }
            });
        } catch (...) {
            release(installed);
            throw;
        }
    }

    stop_on_signals(const stop_on_signals&) = delete;
    stop_on_signals& operator=(const stop_on_signals&) = delete;

    ~stop_on_signals() {
        watcher_ = {};  // joins
        release(signals_.size());
    }

    [[nodiscard]] std::stop_token token() const noexcept { return source_.get_token(); }
    [[nodiscard]] bool stop_requested() const noexcept { return source_.stop_requested(); }
    /// The signal that requested the stop, 0 if none came.
    [[nodiscard]] int received_signal() const noexcept { return detail::last_signal.load(); }
    /// A stop request from the program itself, as if a signal had come.
    void request_stop() noexcept { source_.request_stop(); }

private:
    // Gives back the first `installed` handlers (in reverse order), the one-instance slot and the pipe.
    void release(std::size_t installed) noexcept {
        while (installed > 0) {
            --installed;
            ::sigaction(signals_[installed], &previous_[installed], nullptr);
        }
        detail::signal_pipe_write_end.store(-1);
        ::close(read_end_);
        ::close(write_end_);
    }

    std::vector<int> signals_;
    std::vector<struct sigaction> previous_;
    int read_end_ = -1, write_end_ = -1;
    std::stop_source source_;
    std::jthread watcher_;
};

}  // namespace pgflow
