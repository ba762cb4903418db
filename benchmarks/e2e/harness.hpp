#pragma once
// The measurement loop shared by every engine: keep enough runs in flight that every worker has a
// full batch, let it warm up, then measure a window: tasks and runs completed, start→complete
// latency (from pgflow.runs' own timestamps, so every engine is timed the same way), client and
// server CPU, WAL written and write transactions per task.

#include "libpq.hpp"
#include "metrics.hpp"
#include "run_starters.hpp"
#include "shapes.hpp"
#include "sql_drivers.hpp"

#include <pgflow/client.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace pgflow_bench {

/// W workers of one engine, started and stopped around a measurement.
class worker_group {
public:
    virtual ~worker_group() = default;
    virtual void start() = 0;
    /// Signals counters::stop first (done by the caller), then returns once every worker ended.
    virtual void join() = 0;
};

struct measurement {
    std::string label, shape;
    int workers = 0;
    double seconds = 0;
    long long tasks = 0, runs = 0, failed_runs = 0;
    double p50_ms = -1, p99_ms = -1;
    double client_cpu = 0, server_cpu = 0;  ///< seconds in the window
    double wal_bytes = 0;
    long long transactions = 0;              ///< write transactions (transaction ids assigned) in the window
    std::map<std::string, long long> waits;  ///< sampled active backends by wait event type (CPU: none)
    std::string error;                       ///< why the window was not measured (first line); empty when it was

    /// The row of a cell whose engine failed: no figures, the error's first line in the last column.
    static measurement failed(std::string label, std::string shape, int workers, std::string_view what) {
        measurement m;
        m.label = std::move(label);
        m.shape = std::move(shape);
        m.workers = workers;
        auto line = what.substr(0, what.find('\n'));
        for (char ch : line) m.error += (ch == '\t' || ch == '\r') ? ' ' : ch;
        if (m.error.empty()) m.error = "unknown error";
        return m;
    }

    /// "CPU 70% Lock 20% ..." — where the active backends of the database were when sampled.
    [[nodiscard]] std::string wait_profile() const {
        long long total = 0;
        for (const auto& [k, n] : waits) total += n;
        if (total == 0) return "-";
        std::vector<std::pair<long long, std::string>> v;
        for (const auto& [k, n] : waits) v.emplace_back(n, k);
        std::sort(v.rbegin(), v.rend());
        std::string out;
        for (const auto& [n, k] : v) {
            const long long pct = (100 * n + total / 2) / total;
            if (pct == 0) continue;
            if (!out.empty()) out += ' ';
            out += k + ' ' + std::to_string(pct) + '%';
        }
        return out;
    }

    [[nodiscard]] double tasks_per_s() const { return seconds > 0 ? tasks / seconds : 0; }
    [[nodiscard]] double runs_per_s() const { return seconds > 0 ? runs / seconds : 0; }
    [[nodiscard]] double per_1k(double v) const { return tasks > 0 ? v * 1000.0 / tasks : 0; }
    [[nodiscard]] double per_task(double v) const { return tasks > 0 ? v / tasks : 0; }

    static std::string tsv_header() {
        return "engine\tshape\tworkers\tseconds\ttasks\truns\ttasks_per_s\truns_per_s\tp50_ms\tp99_ms\t"
               "client_cpu_s_per_1k\tserver_cpu_s_per_1k\twal_bytes_per_task\txacts_per_task\twaits\terror";
    }
    [[nodiscard]] std::string tsv() const {
        char buf[512];
        std::snprintf(buf, sizeof buf, "%s\t%s\t%d\t%.2f\t%lld\t%lld\t%.1f\t%.2f\t%.2f\t%.2f\t%.3f\t%.3f\t%.0f\t%.2f\t",
                      label.c_str(), shape.c_str(), workers, seconds, tasks, runs, tasks_per_s(), runs_per_s(), p50_ms,
                      p99_ms, per_1k(client_cpu), per_1k(server_cpu), per_task(wal_bytes),
                      per_task(static_cast<double>(transactions)));
        return buf + wait_profile() + '\t' + error;
    }
};

struct window_options {
    double warmup_s = 0.5;
    double measure_s = 2.0;
};

inline double lsn_bytes(std::string_view lsn) {
    auto slash = lsn.find('/');
    return static_cast<double>(std::stoull(std::string(lsn.substr(0, slash)), nullptr, 16)) * 4294967296.0 +
           static_cast<double>(std::stoull(std::string(lsn.substr(slash + 1)), nullptr, 16));
}

/// Cumulative counters at one instant.
struct snapshot {
    std::chrono::steady_clock::time_point at;
    std::string server_time;  ///< clock_timestamp() as text, bounds the latency query
    long long tasks = 0, next_xid = 0;
    double server_cpu = 0, process_cpu = 0, coordinator_cpu = 0, wal = 0;

    static snapshot take(connection& control, int postmaster, const counters& c,
                         const std::vector<int>& harness_tids = {}) {
        snapshot s;
        auto r = control.exec(
            "select clock_timestamp()::text, pg_current_wal_lsn()::text, "
            "pg_snapshot_xmax(pg_current_snapshot())::text::bigint");
        s.server_time = std::string(r.get(0, 0));
        s.wal = lsn_bytes(r.get(0, 1));
        s.next_xid = r.get_int(0, 2);
        s.at = std::chrono::steady_clock::now();
        s.tasks = c.tasks.load();
        s.server_cpu = cluster_cpu_seconds(postmaster);
        s.process_cpu = rusage_seconds(RUSAGE_SELF);
        s.coordinator_cpu = rusage_seconds(RUSAGE_THREAD);
        for (int tid : harness_tids) s.coordinator_cpu += thread_cpu_seconds(tid);
        return s;
    }
};

inline measurement window_between(const snapshot& a, const snapshot& b) {
    measurement m;
    m.seconds = std::chrono::duration<double>(b.at - a.at).count();
    m.tasks = b.tasks - a.tasks;
    m.transactions = b.next_xid - a.next_xid;
    m.server_cpu = b.server_cpu - a.server_cpu;
    m.client_cpu = (b.process_cpu - a.process_cpu) - (b.coordinator_cpu - a.coordinator_cpu);
    m.wal_bytes = b.wal - a.wal;
    return m;
}

/// Registers the shape's flow unless the database already has it.
inline void ensure_flow(connection& db, const shape& s) {
    if (db.exec("select 1 from pgflow.flows where flow_slug = $1", {s.flow_slug}).rows() > 0) return;
    db.exec("begin");
    db.exec("select pgflow.create_flow($1)", {s.flow_slug});
    for (const auto& st : s.steps) {
        std::string deps = "{";
        for (std::size_t i = 0; i < st.deps.size(); ++i) deps += (i ? "," : "") + st.deps[i];
        deps += "}";
        db.exec("select pgflow.add_step(flow_slug => $1, step_slug => $2, deps_slugs => $3::text[], step_type => $4)",
                {s.flow_slug, st.slug, deps, st.map ? "map" : "single"});
    }
    db.exec("commit");
}

/// Empties the run-time tables and the flow's queue so every measurement starts alike (CASCADE: with
/// pgflow_cpp.run_control, which references runs).
inline void reset_runs(connection& db, const shape& s) {
    auto stmt = db.exec(
        "select format('truncate pgflow.step_tasks, pgflow.step_states, pgflow.runs, pgflow.workers, pgmq.%I, pgmq.%I CASCADE',"
        " 'q_' || lower($1), 'a_' || lower($1))",
        {s.flow_slug});
    db.exec(std::string(stmt.get(0, 0)));
    // pgflow 0.8.1's baseline database logs its events in the Supabase stand-in table.
    if (db.exec("select 1 where to_regclass('realtime.messages') is not null").rows() > 0)
        db.exec("truncate realtime.messages");
}

/// Statistics as autovacuum would have them in a system that has been running for a while.
/// After the TRUNCATE of reset_runs the tables have none, and plans cached by PL/pgSQL during the
/// warm-up (sequential scans of then-tiny tables) would stay for the whole window; ANALYZE
/// invalidates them, so every engine is measured with plans made for the tables' real sizes.
inline void analyze_runtime_tables(connection& db, const shape& s) {
    auto stmt = db.exec(
        "select format('analyze pgflow.step_tasks, pgflow.step_states, pgflow.runs, pgmq.%I, pgmq.%I',"
        " 'q_' || lower($1), 'a_' || lower($1))",
        {s.flow_slug});
    db.exec(std::string(stmt.get(0, 0)));
}

inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(std::min<double>(v.size() - 1, std::max(0.0, p * (v.size() - 1) + 0.5)));
    return v[idx];
}

/// Runs a closed loop of flow runs of `s` against the workers `group` and measures one window.
inline measurement measure_flow(const std::string& conninfo, const shape& s, int workers, counters& c,
                                worker_group& group, const window_options& w) {
    connection control(conninfo);
    const int postmaster = parent_pid_of(control.backend_pid());
    control.prepare("waits",
                    "select coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*) from pg_stat_activity "
                    "where datname = current_database() and state = 'active' and pid <> pg_backend_pid() "
                    "group by 1");
    std::map<std::string, long long> waits;
    // Batched starts: one client, two batches in flight (it starts far more runs a second than
    // the workers finish).
    const int target =
        s.start_batch > 1 ? std::max(runs_in_flight(s, workers), 2 * s.start_batch) : runs_in_flight(s, workers);
    const int starter_count = s.start_batch > 1 ? 1 : std::min(4, target);

    std::vector<std::unique_ptr<run_starter>> starters;
    for (int i = 0; i < starter_count; ++i)
        starters.push_back(std::make_unique<run_starter>(conninfo, s, (target + starter_count - 1) / starter_count, c));
    std::atomic<bool> stop_starting{false};
    std::vector<std::thread> starter_threads;
    auto stop_all = [&] {
        stop_starting = true;
        for (auto& t : starter_threads) t.join();
        starter_threads.clear();
        c.stop = true;
        group.join();
    };
    // The harness's own threads: their CPU is not the workers'.
    auto harness_tids = [&] {
        std::vector<int> tids;
        for (auto& st : starters) tids.push_back(st->tid());
        return tids;
    };

    // A session holding a snapshot and a transaction id from before the warm-up to the end: the
    // database's xmin horizon stays behind it, as under a long report or a forgotten transaction.
    std::optional<connection> holder;
    if (s.hold_snapshot) {
        holder.emplace(conninfo);
        holder->exec("begin isolation level repeatable read");
        holder->exec("select txid_current()");
    }
    group.start();
    for (auto& st : starters) starter_threads.emplace_back([&st, &stop_starting] { st->run(stop_starting); });
    // The warm-up counts from the first handler call: starting a run of a large map (100,000 task
    // rows and messages) takes seconds before any task can be claimed.
    const auto started = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> deadline_warm;
    std::optional<snapshot> first;
    std::optional<snapshot> last;
    const auto measure = std::chrono::duration<double>(w.measure_s);
    try {
        while (!c.stop) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            auto now = std::chrono::steady_clock::now();
            if (!deadline_warm && c.handler_entries > 0)
                deadline_warm = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(w.warmup_s));
            if (!deadline_warm && now - started > std::chrono::minutes(5))
                throw std::runtime_error("no handler was called within 5 minutes of the workers' start");
            if (!first && deadline_warm && now >= *deadline_warm) {
                analyze_runtime_tables(control, s);
                first = snapshot::take(control, postmaster, c, harness_tids());
            }
            if (first) {
                auto sample = control.exec_prepared("waits");
                for (int i = 0; i < sample.rows(); ++i) waits[std::string(sample.get(i, 0))] += sample.get_int(i, 1);
            }
            if (first && now - first->at >= measure) {
                last = snapshot::take(control, postmaster, c, harness_tids());
                break;
            }
        }
    } catch (...) {
        stop_all();
        throw;
    }
    stop_all();
    {
        std::lock_guard lock(c.error_mutex);
        if (!c.first_error.empty()) throw std::runtime_error(c.first_error);
    }
    if (!first || !last) throw std::runtime_error("the measurement window did not complete");

    measurement m = window_between(*first, *last);
    // Completed tasks are counted in the database, the same way for every engine.
    m.tasks = control
                  .exec(
                      "select count(*) from pgflow.step_tasks where flow_slug = $1 and status = 'completed' "
                      "and completed_at > $2::timestamptz and completed_at <= $3::timestamptz",
                      {s.flow_slug, first->server_time, last->server_time})
                  .get_int(0, 0);
    auto lat = control.exec(
        "select extract(epoch from completed_at - started_at) * 1000 from pgflow.runs "
        "where flow_slug = $1 and status = 'completed' and completed_at > $2::timestamptz "
        "and completed_at <= $3::timestamptz",
        {s.flow_slug, first->server_time, last->server_time});
    std::vector<double> ms;
    for (int i = 0; i < lat.rows(); ++i) ms.push_back(lat.get_double(i, 0));
    m.runs = static_cast<long long>(ms.size());
    m.p50_ms = percentile(ms, 0.50);
    m.p99_ms = percentile(ms, 0.99);
    for (auto& st : starters) m.failed_runs += st->failed();
    m.waits = std::move(waits);
    m.shape = s.name;
    m.workers = workers;
    return m;
}

/// Idle latency: one run at a time on an otherwise idle system, from just before start_flow is
/// sent to the handler's first instruction. Gaps between runs are random so that a polling
/// worker is caught at every phase of its poll interval.
inline std::vector<double> measure_idle(const std::string& conninfo, const shape& s, counters& c, worker_group& group,
                                        int samples) {
    connection control(conninfo);
    run_launcher launcher(conninfo, control, s);
    control.prepare("status", "select status from pgflow.runs where run_id = $1::uuid");
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> gap_ms(20, 120);
    std::vector<double> ms;
    group.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    try {
        for (int i = 0; i < samples && !c.stop; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(rng)));
            const long long before = c.handler_entries.load();
            const auto t0 = std::chrono::steady_clock::now();
            const std::string run_id = launcher.start();
            const auto limit = t0 + std::chrono::seconds(10);
            while (c.handler_entries.load() == before && !c.stop) {
                if (std::chrono::steady_clock::now() > limit)
                    throw std::runtime_error("idle latency: no handler was called within 10 s of start_flow");
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
            const auto entered = std::chrono::steady_clock::time_point(
                std::chrono::steady_clock::duration(c.last_handler_entry_ns.load()));
            ms.push_back(std::chrono::duration<double, std::milli>(entered - t0).count());
            // Let the run finish before the next sample.
            while (!c.stop && control.exec_prepared("status", {run_id}).get(0, 0) == "started")
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    } catch (...) {
        c.stop = true;
        group.join();
        throw;
    }
    c.stop = true;
    group.join();
    std::lock_guard lock(c.error_mutex);
    if (!c.first_error.empty()) throw std::runtime_error(c.first_error);
    return ms;
}

/// The limit queue's own closed loop: a producer keeps `batch_insert`-row batches queued; each worker
/// claims and acknowledges `batch` jobs per transaction (0: 10, as engine_options::batch).
inline measurement measure_limit(const std::string& conninfo, int workers, int batch_insert, const window_options& w,
                                 int batch = 0) {
    connection control(conninfo);
    const int postmaster = parent_pid_of(control.backend_pid());
    control.exec_script(limit_worker::schema_sql, "limit queue schema");
    control.exec("truncate bench_limit.jobs");
    control.exec("vacuum analyze bench_limit.jobs");
    control.prepare("produce",
                    "insert into bench_limit.jobs (payload) "
                    "select jsonb_build_object('i', g) from generate_series(1, $1::int) g");
    counters c;
    std::vector<std::unique_ptr<limit_worker>> ws;
    for (int i = 0; i < workers; ++i) ws.push_back(std::make_unique<limit_worker>(conninfo, c, batch > 0 ? batch : 10));
    std::vector<std::thread> threads;
    for (auto& wk : ws) threads.emplace_back([&wk] { wk->run(); });
    const long long backlog = std::max<long long>(2LL * batch_insert, 20LL * workers + batch_insert);
    long long produced = 0;
    auto deadline_warm = std::chrono::steady_clock::now() + std::chrono::duration<double>(w.warmup_s);
    const auto measure = std::chrono::duration<double>(w.measure_s);
    std::optional<snapshot> first, last;
    while (!c.stop) {
        while (produced - c.tasks.load() < backlog) {
            control.exec_prepared("produce", {std::to_string(batch_insert)});
            produced += batch_insert;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        auto now = std::chrono::steady_clock::now();
        if (!first && now >= deadline_warm) first = snapshot::take(control, postmaster, c);
        if (first && now - first->at >= measure) {
            last = snapshot::take(control, postmaster, c);
            break;
        }
    }
    c.stop = true;
    for (auto& t : threads) t.join();
    if (!c.first_error.empty()) throw std::runtime_error(c.first_error);
    if (!first || !last) throw std::runtime_error("the measurement window did not complete");
    measurement m = window_between(*first, *last);
    m.shape = "queue";
    m.workers = workers;
    m.label = "limit";
    return m;
}

}  // namespace pgflow_bench
