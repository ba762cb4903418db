// dashboard.metrics: /metrics from a real database passes the strict text-format check
// (check_metrics.py) at every stage, and its figures follow runs as they start, complete and fail
// (tasks claimed and settled through SQL, as a worker would), queues fill and drain, workers beat.

#include "e2e_support.hpp"

#include <pgflow/dashboard/metrics.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

using namespace e2e;

namespace {

const std::string worker_id = "00000000-0000-0000-0000-00000000c0de";

// Writes `text` to a file and runs the checker on it; its verdict as a test failure.
void expect_valid(const std::string& text, const std::string& stage) {
    const std::string file = std::string(PGFLOW_METRICS_WORK_DIR) + "/metrics_" + stage + ".txt";
    std::ofstream(file, std::ios::binary) << text;
    const std::string command =
        std::string(PGFLOW_PYTHON3) + " " + PGFLOW_METRICS_CHECKER + " " + file + " > " + file + ".check 2>&1";
    const int rc = std::system(command.c_str());
    std::ifstream verdict(file + ".check");
    const std::string report((std::istreambuf_iterator<char>(verdict)), std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0) << "metrics at stage " << stage << " fail the check:\n" << report << "\n" << text;
}

// The value of the sample `series` (name and labels as rendered), if present.
std::optional<double> sample(const std::string& text, const std::string& series) {
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return std::nullopt;
    const auto start = at + series.size() + 2;
    return std::stod(text.substr(start, text.find('\n', start) - start));
}

double value(const std::string& text, const std::string& series) {
    const auto v = sample(text, series);
    EXPECT_TRUE(v.has_value()) << "no sample " << series << " in\n" << text;
    return v.value_or(-1);
}

std::string runs(const std::string& status) { return R"(pgflow_runs_total{flow="m_flow",status=")" + status + "\"}"; }
std::string step_series(const std::string& name, const std::string& step, const std::string& extra = "") {
    return name + R"({flow="m_flow",step=")" + step + "\"" + extra + "}";
}

// Claims every queued task of m_flow (making retries visible at once), as the worker
// `worker_id`; returns how many.
long long claim_all(pgflow::pq::connection& c) {
    c.execute("UPDATE pgmq.q_m_flow SET vt = clock_timestamp() - interval '1 second'");
    return c
        .execute(
            "SELECT count(*) FROM pgflow.start_tasks('m_flow', ARRAY(SELECT message_id FROM pgflow.step_tasks "
            "WHERE flow_slug = 'm_flow' AND status = 'queued'), $1::uuid)",
            worker_id)
        .get<long long>(0, 0);
}

}  // namespace

TEST(dashboard_metrics, valid_text_whose_counters_follow_runs) {
    database db;
    auto c = db.connect();
    c.execute("SELECT pgflow.create_flow('m_flow', max_attempts => 2, base_delay => 0)");
    c.execute("SELECT pgflow.add_step('m_flow', 'a')");
    c.execute("SELECT pgflow.add_step('m_flow', 'b', ARRAY['a'])");
    pgflow::dashboard::metrics_renderer fresh{{.aggregate_max_age = std::chrono::milliseconds{0}}};
    pgflow::dashboard::metrics_renderer cached{{.aggregate_max_age = std::chrono::hours{1}}};
    auto render = [&](pgflow::dashboard::metrics_renderer& r, const std::string& stage) {
        std::string out;
        r.write(c, out);
        expect_valid(out, stage);
        return out;
    };

    auto m = render(fresh, "empty");
    EXPECT_EQ(value(m, runs("started")), 0);
    EXPECT_EQ(value(m, R"(pgflow_workers_alive{queue="m_flow"})"), 0);
    EXPECT_EQ(value(m, R"(pgflow_queue_depth{queue="m_flow"})"), 0);
    EXPECT_EQ(value(m, step_series("pgflow_task_duration_seconds_bucket", "a", R"(,le="+Inf")")), 0);
    const auto cached_before = render(cached, "cached_before");

    c.execute("INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES ($1::uuid, 'm_flow', 'test')",
              worker_id);
    for (int i = 1; i <= 3; ++i) c.execute("SELECT pgflow.start_flow('m_flow', $1::jsonb)", std::to_string(i));
    m = render(fresh, "started");
    EXPECT_EQ(value(m, runs("started")), 3);
    EXPECT_EQ(value(m, runs("completed")), 0);
    EXPECT_EQ(value(m, R"(pgflow_runs_running{flow="m_flow"})"), 3);
    EXPECT_EQ(value(m, R"(pgflow_queue_depth{queue="m_flow"})"), 3);
    EXPECT_GE(value(m, R"(pgflow_queue_oldest_message_age_seconds{queue="m_flow"})"), 0);
    EXPECT_EQ(value(m, R"(pgflow_workers_alive{queue="m_flow"})"), 1);
    // Aggregates younger than aggregate_max_age are served as they were; live figures move.
    const auto cached_after = render(cached, "cached_after");
    EXPECT_EQ(value(cached_after, runs("started")), value(cached_before, runs("started")));
    EXPECT_EQ(value(cached_after, R"(pgflow_queue_depth{queue="m_flow"})"), 3);

    // Run 1 completes, run 2 fails after a retry, run 3 retries once and stays running.
    ASSERT_EQ(claim_all(c), 3);
    const auto ids = c.execute("SELECT run_id::text FROM pgflow.runs ORDER BY input::text::int");
    c.execute("SELECT pgflow.complete_task($1::uuid, 'a', 0, '1')", ids.get<std::string>(0, 0));
    c.execute("SELECT pgflow.fail_task($1::uuid, 'a', 0, 'boom')", ids.get<std::string>(1, 0));
    c.execute("SELECT pgflow.fail_task($1::uuid, 'a', 0, 'boom')", ids.get<std::string>(2, 0));
    ASSERT_EQ(claim_all(c), 3);  // b of run 1, the retries of a in runs 2 and 3
    c.execute("SELECT pgflow.complete_task($1::uuid, 'b', 0, '2')", ids.get<std::string>(0, 0));
    c.execute("SELECT pgflow.fail_task($1::uuid, 'a', 0, 'boom again')", ids.get<std::string>(1, 0));
    c.execute("UPDATE pgflow.workers SET last_heartbeat_at = now() - interval '1 minute'");

    m = render(fresh, "settled");
    EXPECT_EQ(value(m, runs("started")), 3);
    EXPECT_EQ(value(m, runs("completed")), 1);
    EXPECT_EQ(value(m, runs("failed")), 1);
    EXPECT_EQ(value(m, R"(pgflow_runs_running{flow="m_flow"})"), 1);
    EXPECT_EQ(value(m, step_series("pgflow_task_duration_seconds_count", "a")), 1);
    EXPECT_EQ(value(m, step_series("pgflow_task_duration_seconds_count", "b")), 1);
    EXPECT_EQ(value(m, step_series("pgflow_task_duration_seconds_bucket", "b", R"(,le="+Inf")")), 1);
    EXPECT_GE(value(m, step_series("pgflow_task_duration_seconds_sum", "a")), 0);
    EXPECT_EQ(value(m, step_series("pgflow_task_retries_total", "a")), 2) << "runs 2 and 3 retried a once each";
    EXPECT_EQ(value(m, step_series("pgflow_tasks_retried_total", "a")), 2);
    EXPECT_EQ(value(m, step_series("pgflow_task_retries_total", "b")), 0);
    EXPECT_EQ(value(m, R"(pgflow_queue_depth{queue="m_flow"})"), 1) << "run 3's retry is in flight";
    EXPECT_EQ(value(m, R"(pgflow_workers_alive{queue="m_flow"})"), 0) << "its heartbeat is a minute old";

    std::string via_function;
    pgflow::dashboard::write_metrics(c, via_function);
    expect_valid(via_function, "write_metrics");
    EXPECT_EQ(value(via_function, runs("completed")), 1);
}

TEST(dashboard_metrics, a_slow_recomputation_does_not_hold_up_other_scrapes) {
    database db;
    auto c = db.connect();
    c.execute("SELECT pgflow.create_flow('m_flow')");
    c.execute("SELECT pgflow.add_step('m_flow', 'a')");
    c.execute("SELECT pgflow.start_flow('m_flow', '1')");
    pgflow::dashboard::metrics_renderer renderer{{.aggregate_max_age = std::chrono::milliseconds{200}}};
    std::string first;
    renderer.write(c, first);
    EXPECT_EQ(value(first, runs("started")), 1);
    c.execute("SELECT pgflow.start_flow('m_flow', '2')");
    std::this_thread::sleep_for(std::chrono::milliseconds{300});

    // Another session holds pgflow.runs: the next recomputation blocks on it.
    auto locker = db.connect();
    locker.execute("BEGIN");
    locker.execute("LOCK TABLE pgflow.runs IN ACCESS EXCLUSIVE MODE");
    auto slow_connection = db.connect();
    std::string slow;
    std::thread slow_scrape([&] { renderer.write(slow_connection, slow); });
    ASSERT_TRUE(eventually(
        [&] {
            return scalar(c,
                          "SELECT count(*) FROM pg_locks WHERE relation = 'pgflow.runs'::regclass AND NOT granted") ==
                   1;
        },
        10s));

    // Meanwhile a scrape is served at once, with the previous figures and their age.
    const auto began = std::chrono::steady_clock::now();
    std::string quick;
    renderer.write(c, quick);
    const auto took = std::chrono::steady_clock::now() - began;
    expect_valid(quick, "during_recomputation");
    EXPECT_EQ(value(quick, runs("started")), 1);
    EXPECT_GE(value(quick, "pgflow_metrics_aggregates_age_seconds"), 0.2);
    EXPECT_LT(took, std::chrono::seconds{5}) << "the scrape waited for the recomputation";

    locker.execute("COMMIT");
    slow_scrape.join();
    EXPECT_EQ(value(slow, runs("started")), 2);
    std::string after;
    renderer.write(c, after);
    EXPECT_EQ(value(after, runs("started")), 2) << "the recomputed figures are served";
}

TEST(dashboard_metrics, label_values_and_help_are_escaped) {
    std::string out;
    pgflow::dashboard::detail::append_family(out, "x", "gauge", "a \\ b\nc \"d\"");
    pgflow::dashboard::detail::append_sample<1>(out, "x",
                                                {std::pair<std::string_view, std::string_view>{"l", "q\"\\\n"}}, 1.5);
    EXPECT_EQ(out, "# HELP x a \\\\ b\\nc \"d\"\n# TYPE x gauge\nx{l=\"q\\\"\\\\\\n\"} 1.5\n");
    expect_valid(out, "escapes");
}
