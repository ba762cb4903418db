#pragma once
// pgflow::scheduler — starts the due runs of the schedules in pgflow_cpp.schedules (see
// <pgflow/schedules.hpp> and docs/schedules.md). Run any number, on any hosts: they elect one
// through the database (a lease row with an expiry, renewed every renew_interval), and only the
// holder ticks. A lease, not a session advisory lock: it works through transaction-pooling
// proxies and its handover time is bounded by `lease` even when the holder's connection hangs
// rather than closes. Exactly one run per tick does not rest on the election:
// pgflow_cpp.run_due_schedules locks due rows (SKIP LOCKED) and records each tick under a key.

#include <pgflow/connection_options.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/schedule_queries.hpp>
#include <pgflow/runtime/uuid.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow {

namespace detail {
/// Throws, naming the capability, on a database without pgflow-cpp's schedules (pgflow 0.8.1's own
/// schema, or a pgflow-cpp schema older than them) instead of "function ... does not exist" later.
inline void require_schedules(pq::connection& conn) {
    if (conn.execute("SELECT to_regprocedure('pgflow_cpp.run_due_schedules(integer)') IS NOT NULL").get<bool>(0, 0))
        return;
    throw error(
        "pgflow: the database's pgflow schema has no schedules (capability schedules: pgflow_cpp.schedules, "
        "add_schedule, run_due_schedules). Install pgflow-cpp's schema (`pgflow install` or "
        "client::install_schema) to use them");
}

/// Sleeps for `pause`, or less when `stop` is requested meanwhile.
inline void pause_unless_stopped(const std::stop_token& stop, std::chrono::milliseconds pause) {
    if (pause.count() <= 0) return;
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, pause, [] { return false; });
}
}  // namespace detail

/// One tick a scheduler started (or tried to: error says why it could not).
struct scheduled_start {
    std::string schedule_name;
    std::chrono::system_clock::time_point scheduled_at;
    std::optional<std::string> run_id;  ///< none for a prune tick or a failed start
    std::optional<std::string> error;
};

struct scheduler_options {
    /// This scheduler's name in pgflow_cpp.scheduler_lease; empty: "<host>:<pid>:<random>".
    std::string holder;
    /// How long the lease lasts without renewal: the longest handover after a holder dies. At most
    /// a day (pgflow_cpp.acquire_scheduler_lease refuses more).
    std::chrono::milliseconds lease{3000};
    /// How often the holder renews and the others try to take over; also the longest pause
    /// between two looks at what is due. Must be shorter than lease.
    std::chrono::milliseconds renew_interval{1000};
    /// Most ticks started per call of run_due_schedules (the next call goes on at once).
    int max_runs_per_tick = 60;
    /// False: tick without the election (every such scheduler ticks; still one run per tick).
    bool elect = true;
    std::chrono::milliseconds reconnect_delay{1000};
    /// Diagnostics (connection lost, lease taken or lost); default: stderr.
    std::function<void(std::string_view)> log;
    /// Called for every tick this scheduler started.
    std::function<void(const scheduled_start&)> on_start;
};

class scheduler {
public:
    explicit scheduler(connection_options db = {}, scheduler_options options = {})
        : db_(std::move(db).with_application_name("pgflow scheduler")), o_(std::move(options)) {
        const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
        if (o_.lease.count() <= 0 || o_.lease > std::chrono::hours{24})
            detail::refuse_option("scheduler_options", "lease", "positive and at most a day (86400000 ms)",
                                  ms(o_.lease));
        if (o_.renew_interval.count() <= 0 || o_.renew_interval >= o_.lease)
            detail::refuse_option("scheduler_options", "renew_interval",
                                  "positive and less than lease (" + ms(o_.lease) + ")", ms(o_.renew_interval));
        if (o_.max_runs_per_tick < 1)
            detail::refuse_option("scheduler_options", "max_runs_per_tick", "at least 1",
                                  std::to_string(o_.max_runs_per_tick));
        // The pause after a lost connection: zero would retry a down server in a busy loop.
        if (o_.reconnect_delay.count() <= 0)
            detail::refuse_option("scheduler_options", "reconnect_delay", "positive", ms(o_.reconnect_delay));
        if (o_.holder.empty()) o_.holder = default_holder();
        if (!o_.log)
            o_.log = [](std::string_view line) {
                std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
            };
    }

    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    [[nodiscard]] const std::string& holder() const noexcept { return o_.holder; }
    /// Whether this scheduler held the lease at its last look (any thread).
    [[nodiscard]] bool leading() const noexcept { return leading_.load(); }

    /// Runs until `stop` is requested: takes or renews the lease, starts what is due, sleeps until
    /// the next tick or renewal. Survives lost connections (reconnects after reconnect_delay). On
    /// stop it gives the lease up, so that another scheduler takes over at once.
    void run(std::stop_token stop = {}) {
        std::optional<pq::connection> conn;
        bool has_connected = false;
        while (!stop.stop_requested()) {
            std::chrono::milliseconds pause = o_.reconnect_delay;
            try {
                if (!conn || !conn->is_ok()) {
                    conn.emplace(db_.connect());
                    has_connected = true;
                    detail::require_schedules(*conn);
                }
                pause = tick(*conn);
            } catch (const database_error& e) {
                if (!detail::reconnecting_waits_out(e, has_connected) && !e.is_retryable_transaction_error()) throw;
                o_.log("pgflow scheduler " + o_.holder + ": " + e.what() + " (trying again)");
                set_leading(false);
                conn.reset();
            }
            detail::pause_unless_stopped(stop, pause);
        }
        release(conn);
    }

private:
    // One look: the lease, then what is due. Returns how long to sleep.
    std::chrono::milliseconds tick(pq::connection& conn) {
        using std::chrono::milliseconds;
        // The lease in milliseconds; the statement divides (parameters have no floating text form).
        const bool lead =
            !o_.elect ||
            conn.execute(detail::schedule_queries::acquire_lease, o_.holder, o_.lease.count()).get<bool>(0, 0);
        set_leading(lead);
        if (!lead) return o_.renew_interval;
        const auto r = conn.execute(detail::schedule_queries::run_due, o_.max_runs_per_tick);
        for (int i = 0; i < r.rows(); ++i) report(r, i);
        if (r.rows() >= o_.max_runs_per_tick) return milliseconds{0};
        const auto until = conn.execute(detail::schedule_queries::seconds_until_due);
        if (until.is_null(0, 0)) return o_.renew_interval;
        // A few milliseconds late, so that the database's clock has reached the tick.
        const auto due = milliseconds{static_cast<long long>(until.get<double>(0, 0) * 1000) + 5};
        return std::clamp(due, milliseconds{1}, o_.renew_interval);
    }

    void report(const pq::result& r, int row) {
        if (!o_.on_start && r.is_null(row, 3)) return;
        scheduled_start s;
        s.schedule_name = r.get<std::string>(row, 0);
        s.scheduled_at =
            std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::duration<double>(r.get<double>(row, 1)))};
        s.run_id = r.get<std::optional<std::string>>(row, 2);
        s.error = r.get<std::optional<std::string>>(row, 3);
        if (s.error) o_.log("pgflow scheduler: schedule \"" + s.schedule_name + "\" could not start: " + *s.error);
        if (o_.on_start) o_.on_start(s);
    }

    void set_leading(bool now) {
        if (leading_.exchange(now) != now && o_.elect)
            o_.log("pgflow scheduler " + o_.holder + (now ? ": elected" : ": no longer elected"));
    }

    void release(std::optional<pq::connection>& conn) {
        if (!o_.elect || !leading_.load()) return;
        try {
            if (conn && conn->is_ok()) conn->execute(detail::schedule_queries::release_lease, o_.holder);
        } catch (const error&) {  // the lease then expires by itself
        }
        set_leading(false);
    }

    static std::string default_holder() {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
        return std::string(host) + ":" + std::to_string(::getpid()) + ":" + detail::random_uuid().substr(0, 8);
    }

    connection_options db_;
    scheduler_options o_;
    std::atomic<bool> leading_{false};
};

}  // namespace pgflow
