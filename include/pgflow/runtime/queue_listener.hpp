#pragma once
// One LISTEN connection per process, database and queue channel, shared by every pgflow::worker of
// that queue in the process. NOTIFY is a broadcast: if each worker listened on its own connection,
// one new task would wake all of them and all but one would pay an empty queue read. The listener
// hands each notification to one worker instead, by the rules of wake_ledger (wake_ledger.hpp): the
// longest-idle worker, or kept for the next; all kept while a worker of the process lingers. A
// worker whose claim came back full passes a wake-up on to one more idle worker, so a map step's
// many messages announced by one notification are spread over the idle workers.

#include <pgflow/connection_options.hpp>
#include <pgflow/runtime/backoff.hpp>
#include <pgflow/runtime/wake_ledger.hpp>
#include <pgflow/runtime/wakeup.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
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
    using clock = wake_ledger::clock;
    using subscriber = wake_subscriber;

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

    // The rules are wake_ledger's; these hold the lock and read the clock.
    void subscribe(subscriber* s) {
        std::lock_guard lock(mutex_);
        ledger_.subscribe(s);
    }
    /// The worker leaves, or stops claiming; `owed`: it took a wake-up and sent no claim since. What it
    /// was handed goes to another worker (wake_ledger::stop_taking).
    void unsubscribe(subscriber* s, bool owed) {
        std::lock_guard lock(mutex_);
        if (ledger_.unsubscribe(s, clock::now(), owed)) time_wait_by_linger();
    }
    void stop_taking(subscriber* s, bool owed) {
        std::lock_guard lock(mutex_);
        if (ledger_.stop_taking(s, clock::now(), owed)) time_wait_by_linger();
    }
    /// The worker is about to sleep waiting for work. Returns true when a wake-up is already
    /// waiting for it (claim now instead of sleeping); none while a worker of the process lingers.
    bool enter_idle(subscriber* s) {
        std::lock_guard lock(mutex_);
        return ledger_.enter_idle(s, clock::now());
    }
    /// Takes a wake-up kept while every worker was busy, if there is one (none while a worker of
    /// the process lingers): a worker about to send results claims in the same round trip instead
    /// of waiting to become idle.
    bool take_kept_wake() {
        std::lock_guard lock(mutex_);
        return ledger_.take_kept(clock::now());
    }
    /// The worker has work again (claiming, or slots full): it gets no more wake-ups until it
    /// calls enter_idle again.
    void leave_idle(subscriber* s) {
        std::lock_guard lock(mutex_);
        ledger_.leave_idle(s);
    }
    /// A worker's claim came back full: wake one more idle worker, if any.
    void pass_on() {
        std::lock_guard lock(mutex_);
        ledger_.pass_on();
    }
    /// A claim begun at `began` drained the queue: the wake-ups kept before it are answered.
    void drained(clock::time_point began) {
        std::lock_guard lock(mutex_);
        ledger_.drained(began);
    }
    /// A worker lingers until `until`: the process's wake-ups are kept until then. Wake-ups kept
    /// already make the listener time its wait by the linger's end.
    void linger(clock::time_point until) {
        std::lock_guard lock(mutex_);
        if (ledger_.linger(until)) time_wait_by_linger();
    }
    /// A worker's completion queued its flow's next steps: no start to gather, the linger ends.
    void end_linger(clock::time_point now) {
        std::lock_guard lock(mutex_);
        ledger_.end_linger(now);
    }

    /// Whether notifications are arriving; while not, workers must poll.
    [[nodiscard]] bool listening() const noexcept { return listening_.load(); }

private:
    runtime_queue_listener(const connection_options& db, std::string channel)
        : db_(db.with_application_name("pgflow listener " + channel)), channel_(std::move(channel)) {
        thread_ = std::thread([this] { run(); });
    }

    // Wake-ups are kept during a linger: the listener's thread computes its wait anew (input_timeout),
    // so that it hands them out when the linger ends.
    void time_wait_by_linger() {
        if (listening_.load()) stop_wake_.notify();
    }

    void hand_out_one() {
        std::lock_guard lock(mutex_);
        ledger_.notified(clock::now());
    }

    // How long the listener may wait for input: until a linger with wake-ups kept ends. Called
    // before every wait, it also hands out what a linger that has ended kept.
    std::chrono::milliseconds input_timeout() {
        std::lock_guard lock(mutex_);
        const auto now = clock::now();
        const auto look_again = ledger_.release_kept(now);
        if (!look_again) return std::chrono::hours{1};
        return std::chrono::ceil<std::chrono::milliseconds>(*look_again - now);
    }

    // After (re)connecting: notifications may have been missed, so everyone looks once.
    void wake_everyone() {
        std::lock_guard lock(mutex_);
        ledger_.wake_everyone();
    }

    void log(const std::string& line) {
        std::lock_guard lock(mutex_);
        const auto* first = ledger_.first_subscriber();
        if (first != nullptr && first->log != nullptr && *first->log)
            (*first->log)("pgflow queue listener " + channel_ + ": " + line);
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
                stop_wake_.sleep_for(delay);
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
    wake_ledger ledger_;  ///< under mutex_
    std::thread thread_;
};

}  // namespace pgflow::detail
