#pragma once
// The stages of a worker's stop (docs/runtime.md, "Stopping"): from the request, running
// handlers have the shutdown grace to return while the worker still reports results; then their
// stop tokens are requested; `abandon_after` later the worker stops, whatever still runs or is
// unreported. The decisions only, with the time as an argument (tests/unit/stop_sequence_test.cpp):
// the worker session logs and acts on them.

#include <chrono>
#include <cstddef>

namespace pgflow::detail {

class stop_sequence {
public:
    using clock = std::chrono::steady_clock;

    explicit stop_sequence(clock::duration abandon_after) : abandon_after_(abandon_after) {}

    [[nodiscard]] bool stopping() const noexcept { return stopping_; }

    /// Begins the stop, its grace period counting from `since` (a request is noticed only between
    /// round trips, which may be long). False when it had begun: the first request counts.
    bool begin(clock::time_point since, clock::duration grace) {
        if (stopping_) return false;
        stopping_ = true;
        grace_end_ = since + grace;
        return true;
    }

    /// What the loop does at `now`.
    struct stage {
        bool cancel_handlers = false;  ///< request the running handlers' stop tokens (said once)
        bool give_up = false;          ///< abandon what still runs and what is unreported
        bool done = false;             ///< nothing runs and nothing is left to report: the loop ends
    };
    [[nodiscard]] stage at(clock::time_point now, std::size_t running, std::size_t unreported) {
        stage s;
        if (!stopping_) return s;
        if (!handlers_cancelled_ && running > 0 && now >= grace_end_) {
            handlers_cancelled_ = true;
            s.cancel_handlers = true;
        }
        s.done = running == 0 && unreported == 0;
        s.give_up = !s.done && now >= grace_end_ + abandon_after_;
        return s;
    }

    /// When the next stage is due, for the loop's wait (while stopping).
    [[nodiscard]] clock::time_point next_due() const noexcept {
        return handlers_cancelled_ ? grace_end_ + abandon_after_ : grace_end_;
    }

private:
    clock::duration abandon_after_;
    clock::time_point grace_end_{};
    bool stopping_ = false, handlers_cancelled_ = false;
};

}  // namespace pgflow::detail
