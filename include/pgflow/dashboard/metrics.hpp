#pragma once
// pgflow::dashboard::write_metrics: the dashboard's /metrics, in Prometheus text format 0.0.4,
// read from the database: runs started / completed / failed per flow, a task duration histogram
// and retries per step, queue depth and oldest message age, workers alive.
//
// Cost: queue and worker figures are read on every scrape (small tables, the heartbeat index).
// Run totals, the duration histogram and retries aggregate whole tables (no index answers "how many
// runs of each flow ever completed" without visiting them: 0.3 s for 1,000,000 runs on a small
// machine), so those are recomputed at most every metrics_options::aggregate_max_age and served
// from the last computation in between; pgflow_metrics_aggregates_age_seconds says how old they are.

#include <pgflow/pq/connection.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::dashboard {

struct metrics_options {
    /// Largest age of the aggregated figures (run totals, durations, retries) before a scrape
    /// recomputes them. Zero: every scrape does.
    std::chrono::milliseconds aggregate_max_age{std::chrono::seconds{30}};
};

namespace detail {

/// Upper bounds (seconds) of pgflow_task_duration_seconds' buckets; +Inf follows.
inline constexpr std::array<double, 14> task_duration_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                              1,     2.5,  5,     10,   30,  60,   300};

/// Runs per flow: started (all), completed, failed, running now. Every flow, with zeros.
inline constexpr std::string_view metrics_run_totals = R"(
SELECT f.flow_slug, coalesce(sum(r.n), 0)::bigint,
       coalesce(sum(r.n) FILTER (WHERE r.status = 'completed'), 0)::bigint,
       coalesce(sum(r.n) FILTER (WHERE r.status = 'failed'), 0)::bigint,
       coalesce(sum(r.n) FILTER (WHERE r.status = 'started'), 0)::bigint
  FROM pgflow.flows f
  LEFT JOIN (SELECT flow_slug, status, count(*) AS n FROM pgflow.runs GROUP BY flow_slug, status) r
         ON r.flow_slug = f.flow_slug
 GROUP BY f.flow_slug ORDER BY f.flow_slug)";

/// Per step and duration bucket: completed tasks whose duration (started_at to completed_at of
/// the last attempt) is ≤ task_duration_buckets[bucket - 1] and above the bound before (bucket
/// size + 1: above every bound; 0: tasks not completed), their durations' sum, extra attempts and
/// tasks attempted more than once. Steps without tasks: one row, bucket null. The duration is a
/// float8 (date_part; extract's numeric is several times slower) computed once per task (OFFSET 0
/// keeps the planner from repeating its expression in every branch of the bucket's CASE).
inline const std::string& metrics_task_stats() {
    static const std::string sql = [] {
        std::string bucket = "CASE WHEN d IS NULL THEN 0";
        for (std::size_t i = 0; i < task_duration_buckets.size(); ++i)
            bucket += " WHEN d <= " + std::to_string(task_duration_buckets[i]) + " THEN " + std::to_string(i + 1);
        bucket += " ELSE " + std::to_string(task_duration_buckets.size() + 1) + " END";
        return "SELECT s.flow_slug, s.step_slug, t.bucket, coalesce(t.n, 0), coalesce(t.total, 0),\n"
               "       coalesce(t.extra_attempts, 0), coalesce(t.retried, 0)\n"
               "  FROM pgflow.steps s LEFT JOIN (\n"
               "    SELECT flow_slug, step_slug, " +
               bucket +
               " AS bucket, count(*) AS n,\n"
               "           coalesce(sum(d), 0)::float8 AS total,\n"
               "           coalesce(sum(attempts_count - 1) FILTER (WHERE attempts_count > 1), 0)::bigint AS extra_attempts,\n"
               "           count(*) FILTER (WHERE attempts_count > 1) AS retried\n"
               "      FROM (SELECT flow_slug, step_slug, attempts_count,\n"
               "                   CASE WHEN status = 'completed' AND started_at IS NOT NULL\n"
               "                        THEN date_part('epoch', completed_at - started_at) END AS d\n"
               "              FROM pgflow.step_tasks OFFSET 0) x\n"
               "     GROUP BY 1, 2, 3) t ON t.flow_slug = s.flow_slug AND t.step_slug = s.step_slug\n"
               " ORDER BY s.flow_slug, s.step_index, t.bucket";
    }();
    return sql;
}

/// Per queue: messages, age of the oldest (null when empty).
inline constexpr std::string_view metrics_queues =
    "SELECT queue_name, queue_length, oldest_msg_age_sec FROM pgmq.metrics_all() ORDER BY queue_name";

/// Per flow's queue: workers not stopped whose last heartbeat is under 15 s old (three missed
/// beats of the 5 s interval: `pgflow status` calls older ones silent). Also the database's
/// identity, which keys the cache of aggregates.
inline constexpr std::string_view metrics_workers = R"(
SELECT f.flow_slug,
       (SELECT count(*) FROM pgflow.workers w
         WHERE w.queue_name = f.flow_slug AND w.deprecated_at IS NULL
           AND w.last_heartbeat_at >= clock_timestamp() - interval '15 seconds')
  FROM pgflow.flows f ORDER BY f.flow_slug)";

inline constexpr std::string_view metrics_database_identity =
    "SELECT current_database() || ' ' || coalesce(inet_server_addr()::text, 'socket') || ' ' || "
    "coalesce(inet_server_port()::text, '') || ' ' || pg_postmaster_start_time()::text";

/// A label value or HELP text as the format escapes it: backslash, line feed, and in label
/// values the double quote.
inline void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quote)
            out += "\\\"";
        else
            out += c;
    }
}

inline void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
    } else {
        char buffer[32];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
        out.append(buffer, end);
    }
}

inline void append_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ");
    append_escaped(out, help, false);
    out.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

/// One sample: name{labels} value. `labels` are name/value pairs.
template <std::size_t N>
void append_sample(std::string& out, std::string_view name,
                   const std::array<std::pair<std::string_view, std::string_view>, N>& labels, double value) {
    out.append(name);
    if constexpr (N > 0) {
        out += '{';
        for (std::size_t i = 0; i < N; ++i) {
            if (i) out += ',';
            out.append(labels[i].first).append("=\"");
            append_escaped(out, labels[i].second, true);
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

using label = std::pair<std::string_view, std::string_view>;

}  // namespace detail

/// Renders /metrics; keeps the aggregated figures between scrapes (safe to share between threads:
/// each call takes its own connection).
class metrics_renderer {
public:
    explicit metrics_renderer(metrics_options options = {}) : options_(options) {}

    /// Appends the metrics of the database behind `c` to `out`. One scrape at a time recomputes
    /// the aggregates, without holding the others: they serve the previous figures of the same
    /// database meanwhile (their age says so), and wait only when there are none.
    void write(pq::connection& c, std::string& out) {
        const auto identity = c.execute(detail::metrics_database_identity).get<std::string>(0, 0);
        std::unique_lock lock(mutex_);
        for (;;) {
            const bool have = identity == identity_ && !aggregates_.empty();
            if (have && (recomputing_ || std::chrono::steady_clock::now() - computed_at_ < options_.aggregate_max_age))
                break;
            if (recomputing_) {
                recomputed_.wait(lock);
                continue;
            }
            recompute(c, identity, lock);
            break;
        }
        out += aggregates_;
        detail::append_family(out, "pgflow_metrics_aggregates_age_seconds", "gauge",
                              "Age of the run totals, task durations and retries (recomputed at most every " +
                                  std::to_string(options_.aggregate_max_age.count()) + " ms).");
        detail::append_sample<0>(
            out, "pgflow_metrics_aggregates_age_seconds", {},
            std::chrono::duration<double>(std::chrono::steady_clock::now() - computed_at_).count());
        detail::append_family(out, "pgflow_metrics_aggregates_query_seconds", "gauge",
                              "How long computing the run totals, task durations and retries took.");
        detail::append_sample<0>(out, "pgflow_metrics_aggregates_query_seconds", {}, took_);
        lock.unlock();
        write_live(c, out);
    }

private:
    // Runs the aggregate queries with `lock` released (they may take seconds on a big database);
    // whatever happens, the next scrape may try again.
    void recompute(pq::connection& c, const std::string& identity, std::unique_lock<std::mutex>& lock) {
        recomputing_ = true;
        lock.unlock();
        const auto began = std::chrono::steady_clock::now();
        std::string fresh;
        try {
            write_aggregates(c, fresh);
        } catch (...) {
            lock.lock();
            recomputing_ = false;
            recomputed_.notify_all();
            throw;
        }
        const auto done = std::chrono::steady_clock::now();
        lock.lock();
        recomputing_ = false;
        aggregates_ = std::move(fresh);
        identity_ = identity;
        took_ = std::chrono::duration<double>(done - began).count();
        computed_at_ = done;
        recomputed_.notify_all();
    }

    static void write_aggregates(pq::connection& c, std::string& out) {
        using detail::label;
        const auto runs = c.execute(detail::metrics_run_totals);
        detail::append_family(out, "pgflow_runs_total", "counter",
                              "Runs per flow: started (every run), completed, failed (runs the database holds).");
        for (int r = 0; r < runs.rows(); ++r) {
            const auto flow = runs.get<std::string>(r, 0);
            constexpr std::array<std::string_view, 3> statuses{"started", "completed", "failed"};
            for (int s = 0; s < 3; ++s)
                detail::append_sample<2>(out, "pgflow_runs_total", {label{"flow", flow}, label{"status", statuses[s]}},
                                         static_cast<double>(runs.get<long long>(r, 1 + s)));
        }
        detail::append_family(out, "pgflow_runs_running", "gauge", "Runs started and not yet completed or failed.");
        for (int r = 0; r < runs.rows(); ++r)
            detail::append_sample<1>(out, "pgflow_runs_running", {label{"flow", runs.get<std::string>(r, 0)}},
                                     static_cast<double>(runs.get<long long>(r, 4)));
        write_task_stats(c, out);
    }

    // One step's figures from metrics_task_stats.
    struct step_stats {
        std::string flow, step;
        std::array<long long, detail::task_duration_buckets.size() + 1> per_bucket{};
        double sum = 0;
        long long extra_attempts = 0, retried = 0;
    };

    static std::vector<step_stats> read_task_stats(pq::connection& c) {
        std::vector<step_stats> steps;
        const auto rows = c.execute(detail::metrics_task_stats());
        for (int r = 0; r < rows.rows(); ++r) {
            auto flow = rows.get<std::string>(r, 0), step = rows.get<std::string>(r, 1);
            if (steps.empty() || steps.back().flow != flow || steps.back().step != step)
                steps.push_back({std::move(flow), std::move(step)});
            if (rows.is_null(r, 2)) continue;
            auto& s = steps.back();
            const auto bucket = rows.get<int>(r, 2);
            if (bucket >= 1) s.per_bucket[static_cast<std::size_t>(bucket - 1)] += rows.get<long long>(r, 3);
            s.sum += rows.get<double>(r, 4);
            s.extra_attempts += rows.get<long long>(r, 5);
            s.retried += rows.get<long long>(r, 6);
        }
        return steps;
    }

    static void write_task_stats(pq::connection& c, std::string& out) {
        using detail::label;
        constexpr auto n = detail::task_duration_buckets.size();
        const auto steps = read_task_stats(c);
        detail::append_family(out, "pgflow_task_duration_seconds", "histogram",
                              "Run time of completed tasks per step (started_at to completed_at of the last attempt).");
        for (const auto& s : steps) {
            long long cumulative = 0;
            for (std::size_t b = 0; b <= n; ++b) {
                cumulative += s.per_bucket[b];
                std::string le = "+Inf";
                if (b < n) {
                    le.clear();
                    detail::append_number(le, detail::task_duration_buckets[b]);
                }
                detail::append_sample<3>(out, "pgflow_task_duration_seconds_bucket",
                                         {label{"flow", s.flow}, label{"step", s.step}, label{"le", le}},
                                         static_cast<double>(cumulative));
            }
            detail::append_sample<2>(out, "pgflow_task_duration_seconds_sum",
                                     {label{"flow", s.flow}, label{"step", s.step}}, s.sum);
            detail::append_sample<2>(out, "pgflow_task_duration_seconds_count",
                                     {label{"flow", s.flow}, label{"step", s.step}}, static_cast<double>(cumulative));
        }
        detail::append_family(out, "pgflow_task_retries_total", "counter",
                              "Attempts beyond the first, per step (tasks with attempts_count > 1).");
        for (const auto& s : steps)
            detail::append_sample<2>(out, "pgflow_task_retries_total", {label{"flow", s.flow}, label{"step", s.step}},
                                     static_cast<double>(s.extra_attempts));
        detail::append_family(out, "pgflow_tasks_retried_total", "counter",
                              "Tasks attempted more than once, per step.");
        for (const auto& s : steps)
            detail::append_sample<2>(out, "pgflow_tasks_retried_total", {label{"flow", s.flow}, label{"step", s.step}},
                                     static_cast<double>(s.retried));
    }

    static void write_live(pq::connection& c, std::string& out) {
        using detail::label;
        const auto queues = c.execute(detail::metrics_queues);
        detail::append_family(out, "pgflow_queue_depth", "gauge", "Messages in the queue (visible or not).");
        for (int r = 0; r < queues.rows(); ++r)
            detail::append_sample<1>(out, "pgflow_queue_depth", {label{"queue", queues.get<std::string>(r, 0)}},
                                     static_cast<double>(queues.get<long long>(r, 1)));
        detail::append_family(out, "pgflow_queue_oldest_message_age_seconds", "gauge",
                              "Age of the queue's oldest message; 0 when the queue is empty.");
        for (int r = 0; r < queues.rows(); ++r)
            detail::append_sample<1>(out, "pgflow_queue_oldest_message_age_seconds",
                                     {label{"queue", queues.get<std::string>(r, 0)}},
                                     queues.is_null(r, 2) ? 0.0 : static_cast<double>(queues.get<long long>(r, 2)));
        const auto workers = c.execute(detail::metrics_workers);
        detail::append_family(out, "pgflow_workers_alive", "gauge",
                              "Workers of the flow's queue not stopped, with a heartbeat in the last 15 s.");
        for (int r = 0; r < workers.rows(); ++r)
            detail::append_sample<1>(out, "pgflow_workers_alive", {label{"queue", workers.get<std::string>(r, 0)}},
                                     static_cast<double>(workers.get<long long>(r, 1)));
    }

    metrics_options options_;
    std::mutex mutex_;
    std::condition_variable recomputed_;
    bool recomputing_ = false;
    std::string aggregates_, identity_;
    std::chrono::steady_clock::time_point computed_at_{};
    double took_ = 0;
};

/// The dashboard's /metrics: appends Prometheus text format 0.0.4 to `out`. One renderer per
/// process (aggregates cached for 30 s, per database).
inline void write_metrics(pq::connection& c, std::string& out) {
    static metrics_renderer renderer;
    renderer.write(c, out);
}

}  // namespace pgflow::dashboard
