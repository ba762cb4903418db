#pragma once
// One LISTEN connection per process, database and queue channel, shared by every pgflow::worker of
// that queue in the process. NOTIFY is a broadcast: if each worker listened on its own connection,
// one new task would wake all of them and all but one would pay an empty queue read. The listener
// hands each notification to one idle worker instead (round robin); when none is idle it keeps
// the wake-up for the first worker that becomes idle, up to one per worker. A worker whose claim
// came back full claims again as soon as it has a free handler slot, and passes a wake-up on to
// one more idle worker, so a map step's many messages announced by one notification are spread
// over the idle workers. A claim that drained the queue answers every wake-up kept before it began.
// While a worker of the process lingers (worker_options::claim_linger), the listener keeps every
// wake-up until the linger ends and then hands one to an idle worker: the starts of a stream come
// in one claim instead of one claim each by the process's other idle workers.

#include <pgflow/connection_options.hpp>
#include <pgflow/runtime/backoff.hpp>
#include <pgflow/runtime/wakeup.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace pgflow::detail {

/// The listener registry's key: every effective connection setting (the connection string and the
/// overrides set() and with_database() keep) and the channel, so that workers on two databases of
/// one server never share a listener. application_name is left out: the listener sets its own.
inline std::string listener_key(const connection_options& db, std::string_view channel) {
    auto keywords = db.keywords();
    // The connection string comes first (later settings win over it); each override keyword
    // appears once, so their order says nothing.
    std::sort(keywords.begin() + 1, keywords.end());
    // Length-prefixed, so that no value can pass for a separator.
    auto field = [](std::string_view text) { return std::to_string(text.size()) + ':' + std::string(text); };
    std::string key = field(channel);
    for (const auto& [keyword, value] : keywords)
        if (keyword != "application_name") key += field(keyword) + field(value);
    return key;
}

class runtime_queue_listener {
public:
    using clock = std::chrono::steady_clock;

    /// A worker's side: the listener writes to `wake` and sets `woken` when it hands it a wake-up;
    /// the listener's diagnostics go to the log of its longest-subscribed worker.
    struct subscriber {
        const runtime_wakeup* wake = nullptr;
        const std::function<void(std::string_view)>* log = nullptr;
        std::atomic<bool> woken{false};
    };

    /// The process's listener for `channel` on the database `db`, started on first use and
    /// stopped when the last worker releases it.
    static std::shared_ptr<runtime_queue_listener> acquire(const connection_options& db, const std::string& channel) {
        static std::mutex registry_mutex;
        static std::map<std::string, std::weak_ptr<runtime_queue_listener>> registry;
        std::lock_guard lock(registry_mutex);
        auto& slot = registry[listener_key(db, channel)];
        if (auto existing = slot.lock()) return existing;
        std::shared_ptr<runtime_queue_listener> created(new runtime_queue_listener(db, channel));
        slot = created;
        return created;
    }

    runtime_queue_listener(const runtime_queue_listener&) = delete;
    runtime_queue_listener& operator=(const runtime_queue_listener&) = delete;

    ~runtime_queue_listener() {
        stop_.store(true);
        stop_wake_.notify();
        thread_.join();
    }

    void subscribe(subscriber* s) {
        std::lock_guard lock(mutex_);
        subscribers_.push_back(s);
    }

    void unsubscribe(subscriber* s) {
        std::lock_guard lock(mutex_);
        std::erase(subscribers_, s);
        std::erase(idle_, s);
        pending_wakes_ = std::min(pending_wakes_, subscribers_.size());
    }

    /// The worker is about to sleep waiting for work. Returns true when a wake-up is already
    /// waiting for it (claim now instead of sleeping); none while a worker of the process lingers.
    bool enter_idle(subscriber* s) {
        std::lock_guard lock(mutex_);
        if (take_locked()) return true;
        if (std::find(idle_.begin(), idle_.end(), s) == idle_.end()) idle_.push_back(s);
        return false;
    }

    /// Takes a wake-up kept while every worker was busy, if there is one (none while a worker of
    /// the process lingers): a worker about to send results claims in the same round trip instead
    /// of waiting to become idle.
    bool take_kept_wake() {
        std::lock_guard lock(mutex_);
        return take_locked();
    }

    /// The worker has work again (claiming, or slots full): it gets no more wake-ups until it
    /// calls enter_idle again.
    void leave_idle(subscriber* s) {
        std::lock_guard lock(mutex_);
        std::erase(idle_, s);
    }

    /// A worker's claim came back full: more may be waiting (one notification can stand for many
    /// messages, e.g. a map step's), so wake one more idle worker, if any.
    void pass_on() {
        std::lock_guard lock(mutex_);
        wake_first_idle();
    }

    /// A claim begun at `began` drained the queue: it saw every task whose notification came before
    /// it (a notification follows its transaction's commit), so the wake-ups kept until then are
    /// answered.
    void drained(clock::time_point began) {
        std::lock_guard lock(mutex_);
        if (last_kept_at_ < began) answer_kept_wakes();
    }

    /// A worker lingers until `until`: the process's wake-ups are kept until then. Wake-ups kept
    /// already (every worker was busy) make the listener time its wait by the linger's end.
    void linger(clock::time_point until) {
        std::lock_guard lock(mutex_);
        linger_until_ = std::max(linger_until_, until);
        if (pending_wakes_ > 0 && listening_.load()) stop_wake_.notify();
    }
    /// A worker's completion queued its flow's next steps: no start to gather, the linger ends.
    void end_linger(clock::time_point now) {
        std::lock_guard lock(mutex_);
        linger_until_ = std::min(linger_until_, now);
        release_kept_wakes();
    }

    /// Whether notifications are arriving; while not, workers must poll.
    [[nodiscard]] bool listening() const noexcept { return listening_.load(); }

private:
    runtime_queue_listener(const connection_options& db, std::string channel)
        : db_(db.with_application_name("pgflow listener " + channel)), channel_(std::move(channel)) {
        thread_ = std::thread([this] { run(); });
    }

    // One notification: to the idle worker that has waited longest, or kept for the next one (and
    // while a worker lingers).
    void hand_out_one() {
        std::lock_guard lock(mutex_);
        const auto now = clock::now();
        const bool lingering = now < linger_until_;
        if (lingering || !wake_first_idle()) {
            if (pending_wakes_ < subscribers_.size()) ++pending_wakes_;
            last_kept_at_ = now;
            kept_in_linger_ = kept_in_linger_ || lingering;
        }
    }

    // How long the listener may wait for input: until a linger with wake-ups kept ends. Called
    // before every wait, it also hands out what a linger that has ended kept.
    std::chrono::milliseconds input_timeout() {
        std::lock_guard lock(mutex_);
        release_kept_wakes();
        const auto now = clock::now();
        if (pending_wakes_ == 0 || now >= linger_until_) return std::chrono::hours{1};
        return std::chrono::ceil<std::chrono::milliseconds>(linger_until_ - now);
    }

    // A kept wake-up for a worker about to claim (mutex_ held), unless a linger holds them. The wake-ups a linger
    // gathered are all answered by that one claim (it begins after their notifications; a full
    // claim passes a wake-up on): no second claim splits what gathered.
    bool take_locked() {
        if (pending_wakes_ == 0 || clock::now() < linger_until_) return false;
        if (kept_in_linger_)
            answer_kept_wakes();
        else
            --pending_wakes_;
        return true;
    }

    // One claim begins after every kept notification: none is left to answer (mutex_ held).
    void answer_kept_wakes() {
        pending_wakes_ = 0;
        kept_in_linger_ = false;
    }

    // A linger ended with wake-ups kept: one idle worker claims what gathered, as take_locked
    // (mutex_ held).
    void release_kept_wakes() {
        if (pending_wakes_ > 0 && clock::now() >= linger_until_ && wake_first_idle()) answer_kept_wakes();
    }

    bool wake_first_idle() {  // mutex_ held
        if (idle_.empty()) return false;
        subscriber* s = idle_.front();
        idle_.erase(idle_.begin());
        s->woken.store(true);
        s->wake->notify();
        return true;
    }

    // After (re)connecting: notifications may have been missed, so everyone looks once.
    void wake_everyone() {
        std::lock_guard lock(mutex_);
        for (auto* s : subscribers_) {
            s->woken.store(true);
            s->wake->notify();
        }
        idle_.clear();
    }

    void log(const std::string& line) {
        std::lock_guard lock(mutex_);
        if (!subscribers_.empty() && subscribers_.front()->log != nullptr && *subscribers_.front()->log)
            (*subscribers_.front()->log)("pgflow queue listener " + channel_ + ": " + line);
    }

    void pause(std::chrono::milliseconds duration) {
        pollfd fd{stop_wake_.fd(), POLLIN, 0};
        while (::poll(&fd, 1, static_cast<int>(duration.count())) < 0 && errno == EINTR) {
        }
        stop_wake_.drain();
    }

    void run() {
        runtime_backoff backoff{std::chrono::milliseconds{100}, std::chrono::milliseconds{5000}};
        while (!stop_.load()) {
            std::optional<pq::connection> conn;
            try {
                conn.emplace(db_.connect());
                conn->listen(channel_);
            } catch (const database_error& e) {
                listening_.store(false);
                const auto delay = backoff.next();
                log("cannot listen (" + std::string(e.what()) + "); workers poll meanwhile; retrying in " +
                    std::to_string(delay.count()) + " ms");
                pause(delay);
                continue;
            }
            backoff.reset();
            listening_.store(true);
            wake_everyone();
            try {
                while (!stop_.load()) {
                    const auto why = conn->wait_for_input(input_timeout(), stop_wake_.fd());
                    if (why == pq::wait_result::wake) stop_wake_.drain();
                    if (why != pq::wait_result::input) continue;
                    while (auto n = conn->next_notification())
                        if (n->channel == channel_) hand_out_one();
                }
            } catch (const database_error& e) {
                listening_.store(false);
                log("lost the connection (" + std::string(e.what()) + "); workers poll until it is back");
                wake_everyone();
            }
        }
    }

    connection_options db_;
    std::string channel_;
    runtime_wakeup stop_wake_;
    std::atomic<bool> stop_{false}, listening_{false};
    std::mutex mutex_;
    std::vector<subscriber*> subscribers_, idle_;
    std::size_t pending_wakes_ = 0;
    clock::time_point last_kept_at_{}, linger_until_{};  ///< when a wake-up was last kept; the process's linger
    bool kept_in_linger_ = false;                        ///< some of the kept wake-ups came during a linger
    std::thread thread_;
};

}  // namespace pgflow::detail
