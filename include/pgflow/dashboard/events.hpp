#pragma once
// Live run events for the dashboard's server-sent event streams: one LISTEN connection for the
// whole server, on its own thread, listening on the channel of every run some client watches
// (pgflow:run:<id>, runtime/statements.hpp) and handing each notification to that run's clients.
// A client gets `event: snapshot` once its channel is listened to (so a refetch then misses
// nothing), and again after the listener reconnected (it may have missed events meanwhile).

#include <pgflow/connection_options.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/statements.hpp>
#include <pgflow/runtime/wakeup.hpp>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace pgflow::dashboard::detail {

/// One server-sent event frame: `event: <name>` and the data, one `data:` line per line.
inline std::string sse_frame(std::string_view event, std::string_view data) {
    std::string frame = "event: " + std::string(event) + "\n";
    while (true) {
        const auto newline = data.find('\n');
        frame += "data: " + std::string(data.substr(0, newline)) + "\n";
        if (newline == std::string_view::npos) break;
        data.remove_prefix(newline + 1);
    }
    return frame + "\n";
}

class run_event_hub {
public:
    /// Receives frames; called on the hub's thread, so it must only hand them on (post a write).
    using deliver_function = std::function<void(std::string frame)>;

    /// What a client holds while it watches a run; ending it stops the deliveries.
    class subscription {
    public:
        subscription(run_event_hub& hub, std::size_t id) : hub_(&hub), id_(id) {}
        subscription(const subscription&) = delete;
        subscription& operator=(const subscription&) = delete;
        ~subscription() { hub_->unsubscribe(id_); }

    private:
        run_event_hub* hub_;
        std::size_t id_;
    };

    run_event_hub(connection_options db, std::function<void(std::string_view)> log)
        : db_(db.with_application_name("pgflow dashboard events")), log_(std::move(log)) {
        thread_ = std::thread([this] { loop(); });
    }
    run_event_hub(const run_event_hub&) = delete;
    run_event_hub& operator=(const run_event_hub&) = delete;
    ~run_event_hub() { shutdown(); }

    /// Stops listening and delivering (subscriptions may still end afterwards). Idempotent.
    void shutdown() {
        stop_.store(true);
        wake_.notify();
        if (thread_.joinable()) thread_.join();
    }

    /// Starts delivering the events of run `run_id` (a checked UUID text).
    [[nodiscard]] std::unique_ptr<subscription> subscribe(const std::string& run_id, deliver_function deliver) {
        std::size_t id;
        {
            std::lock_guard lock(mutex_);
            id = ++last_id_;
            subscribers_.emplace(id, subscriber{pgflow::detail::run_channel(run_id), std::move(deliver), false});
        }
        wake_.notify();
        return std::make_unique<subscription>(*this, id);
    }

    [[nodiscard]] std::size_t subscribers() const {
        std::lock_guard lock(mutex_);
        return subscribers_.size();
    }

private:
    struct subscriber {
        std::string channel;
        deliver_function deliver;
        bool listening = false;  ///< its snapshot was sent after its channel's LISTEN
    };

    void unsubscribe(std::size_t id) {
        {
            std::lock_guard lock(mutex_);
            subscribers_.erase(id);
        }
        wake_.notify();
    }

    void loop() {
        auto delay = std::chrono::milliseconds{100};
        while (!stop_.load()) {
            wait_for_subscribers();  // no idle connection, and no reconnecting, while nobody watches
            if (stop_.load()) break;
            try {
                auto connection = db_.connect();
                listened_.clear();
                {
                    std::lock_guard lock(mutex_);
                    for (auto& [id, s] : subscribers_) s.listening = false;  // resend snapshots
                }
                delay = std::chrono::milliseconds{100};
                serve(connection);
            } catch (const std::exception& e) {
                if (log_) log_(std::string("pgflow dashboard: run events: ") + e.what());
                wait(delay);
                delay = std::min(delay * 2, std::chrono::milliseconds{5000});
            }
        }
    }

    // Listens and delivers on one connection until it breaks or the hub stops.
    void serve(pq::connection& connection) {
        while (!stop_.load()) {
            synchronize_channels(connection);
            while (auto n = connection.next_notification()) deliver(n->channel, sse_frame("pgflow", n->payload));
            if (connection.wait_for_input(std::chrono::seconds{5}, wake_.fd()) == pq::wait_result::wake) wake_.drain();
        }
    }

    // LISTEN to the channels clients watch, UNLISTEN the others, then send the new clients their
    // snapshot.
    void synchronize_channels(pq::connection& connection) {
        std::set<std::string> wanted;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [id, s] : subscribers_) wanted.insert(s.channel);
        }
        for (const auto& channel : wanted)
            if (!listened_.contains(channel)) connection.listen(channel);
        for (const auto& channel : listened_)
            if (!wanted.contains(channel)) connection.unlisten(channel);
        listened_ = wanted;
        std::lock_guard lock(mutex_);
        for (auto& [id, s] : subscribers_)
            if (!s.listening && listened_.contains(s.channel)) {
                s.listening = true;
                s.deliver(sse_frame("snapshot", "{}"));
            }
    }

    void deliver(const std::string& channel, const std::string& frame) {
        std::lock_guard lock(mutex_);
        for (auto& [id, s] : subscribers_)
            if (s.listening && s.channel == channel) s.deliver(frame);
    }

    void wait_for_subscribers() {
        pollfd wake{wake_.fd(), POLLIN, 0};
        while (!stop_.load() && subscribers() == 0) {
            ::poll(&wake, 1, 1000);
            wake_.drain();
        }
    }

    void wait(std::chrono::milliseconds delay) {
        const auto until = std::chrono::steady_clock::now() + delay;
        while (!stop_.load() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }

    connection_options db_;
    std::function<void(std::string_view)> log_;
    mutable std::mutex mutex_;
    std::map<std::size_t, subscriber> subscribers_;
    std::size_t last_id_ = 0;
    std::set<std::string> listened_;  // the listener thread's own
    pgflow::detail::runtime_wakeup wake_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace pgflow::dashboard::detail
