#pragma once
// Exponential back-off with jitter for reconnecting: initial, ×2 per failure, capped.

#include <algorithm>
#include <chrono>
#include <random>

namespace pgflow::detail {

class runtime_backoff {
public:
    runtime_backoff(std::chrono::milliseconds initial, std::chrono::milliseconds maximum)
        : initial_(std::max(initial, std::chrono::milliseconds{1})), maximum_(std::max(maximum, initial_)),
          next_(initial_) {}

    /// The delay before the next attempt; each call doubles the following one.
    std::chrono::milliseconds next() {
        const auto base = next_;
        next_ = std::min(maximum_, next_ * 2);
        // ±20 % so that many workers losing one server do not reconnect in lockstep.
        std::uniform_real_distribution<double> jitter(0.8, 1.2);
        return std::chrono::milliseconds{static_cast<long long>(static_cast<double>(base.count()) * jitter(engine_))};
    }

    void reset() noexcept { next_ = initial_; }

private:
    std::chrono::milliseconds initial_, maximum_, next_;
    std::minstd_rand engine_{std::random_device{}()};
};

}  // namespace pgflow::detail
