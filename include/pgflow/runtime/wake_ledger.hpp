#pragma once
// Which worker of a process gets a queue's wake-ups: the rules of runtime_queue_listener
// (queue_listener.hpp) without its thread, connection and lock. Every rule takes the time as an
// argument, so that tests drive it with times of their own.
//
// A notification goes to the idle worker that has waited longest; when none is idle it is kept for
// the first worker that becomes idle, up to one per worker. While a worker of the process lingers
// (worker_options::claim_linger) every notification is kept, and when the linger ends one idle
// worker gets them all: its claim begins after their notifications, so it sees every task they
// announced. A claim that drained the queue answers every wake-up kept before it began.

#include <pgflow/runtime/wakeup.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace pgflow::detail {

/// A worker's side of its process's queue listener: the listener writes to `wake` and sets `woken`
/// when it hands it a wake-up; the listener's diagnostics go to the log of its longest-subscribed
/// worker.
struct wake_subscriber {
    const runtime_wakeup* wake = nullptr;
    const std::function<void(std::string_view)>* log = nullptr;
    std::atomic<bool> woken{false};
};

/// Not thread-safe: runtime_queue_listener calls it under its lock.
class wake_ledger {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    void subscribe(wake_subscriber* s) { subscribers_.push_back(s); }

    /// A worker stops claiming (it is stopping): it is no longer idle, and a wake-up it was handed
    /// and has not claimed on (`woken` still set, or `owed`: taken, no claim sent yet) counts as a new
    /// notification, handed to another worker or kept (during a linger, kept). Returns whether
    /// wake-ups are kept during a linger: the listener's wait must then end with the linger.
    bool stop_taking(wake_subscriber* s, time_point now, bool owed = false) {
        std::erase(idle_, s);
        if (s->woken.exchange(false) || owed) notified(now);
        return kept_ > 0 && now < linger_until_;
    }

    /// A worker leaves; what it was handed and did not claim on goes on, as in stop_taking.
    bool unsubscribe(wake_subscriber* s, time_point now, bool owed = false) {
        std::erase(subscribers_, s);
        kept_ = std::min(kept_, subscribers_.size());
        return stop_taking(s, now, owed);
    }

    /// A notification came: to the longest-idle worker, or kept (none idle, or a linger).
    void notified(time_point now) {
        const bool lingering = now < linger_until_;
        if (!lingering && wake_first_idle()) return;
        if (kept_ < subscribers_.size()) ++kept_;
        last_kept_at_ = now;
        kept_in_linger_ = kept_in_linger_ || lingering;
    }

    /// The worker is about to wait for work. True: a kept wake-up is its own (claim instead of
    /// waiting); otherwise it is idle, next in line after those idle before it.
    bool enter_idle(wake_subscriber* s, time_point now) {
        if (take_kept(now)) return true;
        if (std::find(idle_.begin(), idle_.end(), s) == idle_.end()) idle_.push_back(s);
        return false;
    }

    /// The worker has work again (claiming, or its handler slots are full).
    void leave_idle(wake_subscriber* s) { std::erase(idle_, s); }

    /// Takes a kept wake-up, if any and no linger holds them. Those a linger gathered are all
    /// answered by the one claim (it begins after their notifications): no second claim splits what
    /// gathered.
    bool take_kept(time_point now) {
        if (kept_ == 0 || now < linger_until_) return false;
        if (kept_in_linger_)
            answer_kept();
        else
            --kept_;
        return true;
    }

    /// A claim came back full: one notification may stand for many messages (a map step's), so one
    /// more idle worker claims.
    void pass_on() { wake_first_idle(); }

    /// A claim begun at `began` drained the queue: it saw every task whose notification came before
    /// it (a notification follows its transaction's commit).
    void drained(time_point began) {
        if (last_kept_at_ < began) answer_kept();
    }

    /// A worker lingers until `until`. Returns whether wake-ups are kept: the listener's wait must
    /// then end with the linger.
    bool linger(time_point until) {
        linger_until_ = std::max(linger_until_, until);
        return kept_ > 0;
    }

    /// A worker's completion queued its flow's next steps: nothing to gather, the linger ends.
    void end_linger(time_point now) {
        linger_until_ = std::min(linger_until_, now);
        release_kept(now);
    }

    /// Hands what an ended linger kept to an idle worker; returns when the listener must look again
    /// (a linger holds wake-ups until then), or nothing.
    std::optional<time_point> release_kept(time_point now) {
        if (kept_ == 0) return std::nullopt;
        if (now < linger_until_) return linger_until_;
        if (wake_first_idle()) answer_kept();
        return std::nullopt;
    }

    /// The listener (re)connected: notifications may have been missed, so every worker looks once.
    void wake_everyone() {
        for (auto* s : subscribers_) wake(*s);
        idle_.clear();
    }

    [[nodiscard]] std::size_t kept() const noexcept { return kept_; }
    /// Whose log the listener writes to: the longest-subscribed worker's, if any.
    [[nodiscard]] const wake_subscriber* first_subscriber() const noexcept {
        return subscribers_.empty() ? nullptr : subscribers_.front();
    }

private:
    static void wake(wake_subscriber& s) {
        s.woken.store(true);
        s.wake->notify();
    }

    bool wake_first_idle() {
        if (idle_.empty()) return false;
        wake_subscriber* s = idle_.front();
        idle_.erase(idle_.begin());
        wake(*s);
        return true;
    }

    void answer_kept() {
        kept_ = 0;
        kept_in_linger_ = false;
    }

    std::vector<wake_subscriber*> subscribers_, idle_;
    std::size_t kept_ = 0;
    time_point last_kept_at_{}, linger_until_{};  ///< when a wake-up was last kept; the process's linger
    bool kept_in_linger_ = false;                 ///< some of the kept wake-ups came during a linger
};

}  // namespace pgflow::detail
