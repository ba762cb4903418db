#pragma once
// The worker's share of steps without handlers (signals, sleeps, subflows): their waits end in the
// database (pgflow_cpp.wake_due_waits) when some worker, of any flow, asks it to. Each session
// asks about once per wait_check_interval, and sooner when the next wait is due sooner, in the
// round trip it sends anyway; a waiting run holds no thread and no connection of its own.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/statements.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pgflow::detail {

class wait_waker {
public:
    using clock = std::chrono::steady_clock;

    /// Waits handled per call; a full batch is followed at once by another call.
    static constexpr int batch = 100;

    /// `interval`: the longest time between two calls; `floor`: the shortest, so that a due wait
    /// another session holds locked is not asked about in a busy loop.
    wait_waker(std::chrono::milliseconds interval, std::chrono::milliseconds floor)
        : interval_(std::max(interval, std::chrono::milliseconds{1})), floor_(std::min(floor, interval_)) {}

    [[nodiscard]] bool due(clock::time_point now) const noexcept { return now >= next_; }
    [[nodiscard]] clock::time_point next() const noexcept { return next_; }

    /// The two statements of a call: wake, then the time to the next wait.
    static void add(std::vector<pq::pipelined_statement>& pipeline) {
        pipeline.push_back({std::string(statements::wake_due_waits.name), {}, pq::parameters(batch)});
        pipeline.push_back({std::string(statements::next_wake.name), {}, {}});
    }

    /// Schedules the next call from the outcomes of add()'s statements; returns a line for the log
    /// when the call failed.
    std::optional<std::string> settle(const pq::pipelined_outcome& woken, const pq::pipelined_outcome& next_wake,
                                      clock::time_point now) {
        const auto* handled = std::get_if<pq::result>(&woken);
        const auto* next = std::get_if<pq::result>(&next_wake);
        if (handled == nullptr || next == nullptr) {
            next_ = now + interval_;
            const auto& e = handled == nullptr ? std::get<database_error>(woken) : std::get<database_error>(next_wake);
            return "waking due waits (signal timeouts, sleeps, subflow retries) failed: " + std::string(e.what());
        }
        const int count = handled->empty() || handled->is_null(0, 0) ? 0 : handled->get<int>(0, 0);
        handled_ += count;
        if (count >= batch) {
            next_ = now;  // a full batch: there may be more due
            return std::nullopt;
        }
        std::optional<long long> due_in;
        if (!next->empty() && !next->is_null(0, 0)) due_in = next->get<long long>(0, 0);
        next_ = now + delay_until_next(due_in);
        return std::nullopt;
    }

    /// How long until the next call, given the milliseconds until the next pending wait (none:
    /// nothing pending that this session knows of; other sessions may add some meanwhile).
    [[nodiscard]] std::chrono::milliseconds delay_until_next(std::optional<long long> due_in_ms) const {
        if (!due_in_ms) return interval_;
        // + 1: the wait is due once its time has passed, not at it.
        return std::clamp(std::chrono::milliseconds{*due_in_ms + 1}, floor_, interval_);
    }

    /// Waits this session has handled so far (for tests and diagnostics).
    [[nodiscard]] long long handled() const noexcept { return handled_; }

private:
    std::chrono::milliseconds interval_, floor_;
    clock::time_point next_{};
    long long handled_ = 0;
};

}  // namespace pgflow::detail
