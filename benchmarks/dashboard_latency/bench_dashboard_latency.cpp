// bench_dashboard_latency — how long the dashboard's page queries and /metrics take on a database
// filled by fill.sql (1,000,000 runs): each route's query run --reps times after a warm-up, median
// and p95 printed per route as a Markdown table.
//
//   bench_dashboard_latency [--reps 20] [--create-indexes]
// Connects with the PG* environment. The queries are the contract's (DASHBOARD_API.md) in plain
// SQL; once the dashboard server's query header is merged they should be taken from it.
// --create-indexes first adds the indexes the dashboard's run list needs (runs by started_at, by
// flow and by status with started_at) when no such index exists.

#include <pgflow/connection_options.hpp>
#include <pgflow/dashboard/metrics.hpp>
#include <pgflow/pq/connection.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

using ms = std::chrono::duration<double, std::milli>;

struct route {
    std::string name;
    std::function<int(pgflow::pq::connection&)> run;  ///< returns the rows read
};

int rows(pgflow::pq::connection& c, const std::string& sql) { return c.execute(sql).rows(); }

template <class... Args>
int rows(pgflow::pq::connection& c, const std::string& sql, const Args&... args) {
    return c.execute(sql, args...).rows();
}

// ORDER BY names r.started_at: a bare started_at would mean the output column (its text).
const std::string run_columns =
    "run_id::text, flow_slug, status, started_at::text, completed_at::text, failed_at::text, remaining_steps";

std::vector<route> routes(pgflow::pq::connection& c) {
    // A cursor 5,000 runs deep, and a run with steps and tasks.
    const auto cursor = c.execute(
        "SELECT started_at::text, run_id::text FROM pgflow.runs ORDER BY started_at DESC, "
        "run_id DESC OFFSET 5000 LIMIT 1");
    const auto at = cursor.get<std::string>(0, 0), id = cursor.get<std::string>(0, 1);
    const auto detailed = c.execute("SELECT run_id::text FROM pgflow.step_tasks LIMIT 1").get<std::string>(0, 0);
    auto fresh = std::make_shared<pgflow::dashboard::metrics_renderer>(
        pgflow::dashboard::metrics_options{.aggregate_max_age = std::chrono::milliseconds{0}});
    auto cached = std::make_shared<pgflow::dashboard::metrics_renderer>();
    return {
        {"/api/overview",
         [](auto& c) {
             return rows(c,
                         "SELECT (SELECT count(*) FROM pgflow.flows), count(*) FILTER (WHERE status = 'started'), "
                         "count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed'), "
                         "(SELECT count(*) FROM pgflow.workers WHERE deprecated_at IS NULL AND last_heartbeat_at >= "
                         "now() - interval '15 seconds') FROM pgflow.runs");
         }},
        {"/api/flows",
         [](auto& c) {
             return rows(c,
                         "SELECT f.flow_slug, s.step_slug, s.step_type, s.step_index, "
                         "(SELECT array_agg(d.dep_slug) FROM pgflow.deps d WHERE d.flow_slug = s.flow_slug AND "
                         "d.step_slug = s.step_slug) FROM pgflow.flows f JOIN pgflow.steps s USING (flow_slug)") +
                    rows(c, "SELECT flow_slug, status, count(*) FROM pgflow.runs GROUP BY 1, 2");
         }},
        {"/api/flows/<slug>",
         [](auto& c) {
             return rows(c, "SELECT s.step_slug FROM pgflow.steps s WHERE s.flow_slug = $1", "dash_beta") +
                    rows(c, "SELECT status, count(*) FROM pgflow.runs WHERE flow_slug = $1 GROUP BY 1", "dash_beta");
         }},
        {"/api/runs",
         [](auto& c) {
             return rows(
                 c, "SELECT " + run_columns + " FROM pgflow.runs r ORDER BY r.started_at DESC, r.run_id DESC LIMIT 51");
         }},
        {"/api/runs?flow&status",
         [](auto& c) {
             return rows(c,
                         "SELECT " + run_columns +
                             " FROM pgflow.runs r WHERE flow_slug = $1 AND status = $2 ORDER BY r.started_at DESC, "
                             "r.run_id DESC LIMIT 51",
                         "dash_gamma", "failed");
         }},
        {"/api/runs?before (5000 deep)",
         [at, id](auto& c) {
             return rows(
                 c,
                 "SELECT " + run_columns +
                     " FROM pgflow.runs r WHERE (r.started_at, r.run_id) < ($1::timestamptz, $2::uuid) ORDER BY "
                     "r.started_at DESC, r.run_id DESC LIMIT 51",
                 at, id);
         }},
        {"/api/runs/<id>",
         [detailed](auto& c) {
             return rows(c, "SELECT " + run_columns + ", input, output FROM pgflow.runs WHERE run_id = $1::uuid",
                         detailed) +
                    rows(c,
                         "SELECT s.step_slug, s.status, s.started_at, s.remaining_tasks, s.initial_tasks, "
                         "s.error_message FROM pgflow.step_states s WHERE s.run_id = $1::uuid",
                         detailed) +
                    rows(c,
                         "SELECT t.step_slug, t.task_index, t.status, t.attempts_count, t.error_message, t.output "
                         "FROM pgflow.step_tasks t WHERE t.run_id = $1::uuid ORDER BY t.step_slug, t.task_index "
                         "LIMIT 200",
                         detailed);
         }},
        {"/api/workers",
         [](auto& c) {
             return rows(c,
                         "SELECT w.worker_id, (SELECT count(*) FROM pgflow.step_tasks t WHERE t.last_worker_id = "
                         "w.worker_id AND t.status = 'started') FROM pgflow.workers w");
         }},
        {"/api/queues", [](auto& c) { return rows(c, "SELECT * FROM pgmq.metrics_all()"); }},
        {"/api/throughput?minutes=60",
         [](auto& c) {
             return rows(c,
                         "SELECT m, count(*) FILTER (WHERE t.status = 'completed'), count(*) FILTER (WHERE t.status "
                         "= 'failed') FROM generate_series(date_trunc('minute', now()) - interval '59 minutes', "
                         "date_trunc('minute', now()), interval '1 minute') m LEFT JOIN pgflow.step_tasks t ON "
                         "date_trunc('minute', coalesce(t.completed_at, t.failed_at)) = m GROUP BY m ORDER BY m");
         }},
        {"/metrics (aggregates recomputed)",
         [fresh](auto& c) {
             std::string out;
             fresh->write(c, out);
             return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
         }},
        {"/metrics (aggregates cached)",
         [cached](auto& c) {
             std::string out;
             cached->write(c, out);
             return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
         }},
    };
}

void create_indexes(pgflow::pq::connection& c) {
    for (const char* sql :
         {"CREATE INDEX IF NOT EXISTS bench_runs_started ON pgflow.runs (started_at DESC, run_id DESC)",
          "CREATE INDEX IF NOT EXISTS bench_runs_flow_started ON pgflow.runs (flow_slug, started_at "
          "DESC, run_id DESC)",
          "CREATE INDEX IF NOT EXISTS bench_runs_status_started ON pgflow.runs (status, started_at "
          "DESC, run_id DESC)",
          "ANALYZE pgflow.runs"})
        c.execute(sql);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pgflow-cpp dashboard latency: page queries and /metrics on a filled database"};
    int reps = 20;
    bool indexes = false;
    app.add_option("--reps", reps, "measured repetitions per route (after 2 warm-up runs)")
        ->check(CLI::Range(1, 10000));
    app.add_flag("--create-indexes", indexes, "add the run list's indexes first (when missing)");
    CLI11_PARSE(app, argc, argv);
    try {
        auto c = pgflow::connection_options::from_environment().connect();
        if (indexes) create_indexes(c);
        const auto runs = c.execute("SELECT count(*) FROM pgflow.runs").get<long long>(0, 0);
        std::printf(
            "%lld runs%s, %d repetitions per route\n\n| route | median ms | p95 ms | rows |\n|---|---:|---:|---:|\n",
            runs, indexes ? " (with the run list's indexes)" : "", reps);
        for (const auto& r : routes(c)) {
            std::vector<double> times;
            int n = 0;
            for (int i = 0; i < reps + 2; ++i) {
                const auto start = std::chrono::steady_clock::now();
                n = r.run(c);
                if (i >= 2) times.push_back(ms(std::chrono::steady_clock::now() - start).count());
            }
            std::sort(times.begin(), times.end());
            const double median = times[times.size() / 2];
            const double p95 = times[std::min(times.size() - 1, times.size() * 95 / 100)];
            std::printf("| `%s` | %.2f | %.2f | %d |\n", r.name.c_str(), median, p95, n);
            std::fflush(stdout);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_dashboard_latency: %s\n", e.what());
        return 1;
    }
}
