// Timeouts and misbehaving handlers: handlers that never return, outputs too large to store,
// workers that crash. A real server; workers on threads of this process or as processes.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <pgflow/runtime/statements.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace e2e;
namespace flows = e2e::flows;

TEST(timeouts, hung_handlers_filling_every_thread_still_time_out_and_fail_their_runs) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::hung);
    auto c = db.connect();
    pgflow::worker_options options;
    options.batch_size = 3;
    options.max_concurrent = 3;
    worker_thread worker{db, flows::hung, quiet_options(options)};
    struct release_on_exit {  // before the worker stops
        ~release_on_exit() { flows::hang_gate::instance().release(); }
    } release;
    std::vector<pgflow::run_id> runs;
    for (int i = 0; i < 3; ++i) runs.push_back(client.start(flows::hung, i));
    const auto started = clock::now();
    // Attempt 1 hangs past timeout 1 s, attempt 2 too: both end, and the run fails.
    EXPECT_TRUE(
        eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status = 'failed'") == 3; }, 30s))
        << scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE status = 'started'")
        << " task(s) still started after 30 s";
    EXPECT_LT(std::chrono::duration<double>(clock::now() - started).count(), 15.0);
    EXPECT_EQ(scalar(c, R"(SELECT count(*) FROM pgflow.step_tasks
                           WHERE status = 'failed' AND attempts_count = 2 AND error_message LIKE 'Task timed out after 1 s%')"),
              3);
    // Its handlers never returned: the worker says it is unhealthy until they do.
    EXPECT_FALSE(worker.get().healthy());
    EXPECT_EQ(worker.get().stuck_handlers(), 6);
    flows::hang_gate::instance().release();
    EXPECT_TRUE(eventually([&] { return worker.get().healthy(); }, 5s));
}

TEST(timeouts, an_output_over_max_output_bytes_fails_its_task_naming_step_size_and_limit) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::big);
    pgflow::worker_options options;
    options.max_output_bytes = 1 << 20;
    worker_thread worker{db, flows::big, quiet_options(options)};
    const auto started = clock::now();
    const auto id = client.start(flows::big, std::vector<int>{2});
    auto c = db.connect();
    ASSERT_TRUE(eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status = 'failed'") == 1; }));
    EXPECT_LT(std::chrono::duration<double>(clock::now() - started).count(), 5.0);
    EXPECT_EQ(
        c.execute("SELECT error_message FROM pgflow.step_tasks WHERE run_id = $1::uuid", id).get<std::string>(0, 0),
        "pgflow worker: the output of step blob is 2097154 bytes of JSON, more than "
        "worker_options::max_output_bytes (1048576 bytes)");
}

TEST(timeouts, a_50_mib_output_is_stored) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::big);
    worker_thread worker{db, flows::big};
    const auto id = client.start(flows::big, std::vector<int>{50});
    auto c = db.connect();
    ASSERT_TRUE(
        eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status <> 'started'") == 1; }, 60s));
    EXPECT_EQ(c.execute("SELECT status FROM pgflow.runs").get<std::string>(0, 0), "completed");
    EXPECT_EQ(scalar(c, "SELECT octet_length(output::text) FROM pgflow.step_tasks WHERE run_id = $1::uuid", id),
              (50 << 20) + 2);
}

TEST(timeouts, a_stop_ends_a_second_after_the_grace_period_and_the_log_says_what_becomes_of_the_task) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::slow);
    auto lines = std::make_shared<std::vector<std::string>>();
    auto mutex = std::make_shared<std::mutex>();
    pgflow::worker_options options;
    options.shutdown_grace = 200ms;
    options.log = [lines, mutex](std::string_view line) {
        std::lock_guard lock(*mutex);
        lines->emplace_back(line);
    };
    worker_thread worker{db, flows::slow, options};
    auto c = db.connect();
    const auto id = client.start(flows::slow, 3000);  // attempt 1 sleeps 3 s, ignoring its stop token
    ASSERT_TRUE(eventually([&] {
        return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'started'", id) ==
               1;
    }));
    const auto asked = clock::now();
    worker.stop();
    EXPECT_LT(std::chrono::duration<double>(clock::now() - asked).count(), 2.5) << "the stop waited for the handler";
    std::lock_guard lock(*mutex);
    std::string log;
    for (const auto& line : *lines) log += line + "\n";
    // The task may be retried only if attempts remain and its run goes on: the log says so.
    EXPECT_NE(log.find("shutdown grace period over: requested the stop token of 1 running handler(s); a task left "
                       "unfinished can be claimed again by a worker once its timeout has passed (timeout + 2 s after "
                       "it started): as a new attempt while attempts remain, otherwise it fails as timed out; a task "
                       "of a failed run is not retried"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("abandoning 1 handler(s) that did not return after their stop token"), std::string::npos) << log;
    EXPECT_EQ(log.find("will be retried"), std::string::npos) << log;
}

// After a claim that drained the queue, a worker asks when the next message becomes visible. While
// another session holds a snapshot, the vt index keeps every entry of the messages sent, read and
// deleted since (vacuum cannot remove them); the question must not walk them all on every claim.
TEST(timeouts, the_next_visible_question_reads_only_the_coming_seconds_of_the_queue_while_a_snapshot_is_held) {
    database db;
    auto c = db.connect();
    c.execute("SELECT pgmq.create('held')");
    auto holder = db.connect();
    holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
    holder.execute("SELECT count(*) FROM pgmq.q_held");
    c.execute("SELECT count(*) FROM pgmq.send_batch('held', array_fill('{}'::jsonb, ARRAY[5000]))");
    c.execute("SELECT count(*) FROM pgmq.read('held', 60, 5000)");
    c.execute("SELECT count(*) FROM pgmq.delete('held', ARRAY(SELECT msg_id FROM pgmq.q_held))");
    c.execute("SELECT pgmq.send('held', '{}', 30)");  // visible in 30 s: past any max_poll
    c.execute("SELECT pg_sleep(1.1)");                // the dead entries of the sends fall behind the window
    namespace s = pgflow::detail::statements;
    c.prepare("next_visible", std::string(s::next_visible_sql_prefix) + c.quote_identifier("q_held") +
                                  std::string(s::next_visible_sql_suffix));
    auto plan = c.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE next_visible(2000)")
                    .get<boost::json::value>(0, 0)
                    .at(0)
                    .at("Plan");
    // An unbounded min(vt) read 48 blocks here (and more the longer the snapshot is held).
    EXPECT_LT(plan.at("Shared Hit Blocks").to_number<long long>(), 15) << boost::json::serialize(plan);
    // The message due within max_poll is found; nothing is when max_poll is shorter than its delay.
    c.execute("SELECT pgmq.send('held', '{}', 1)");
    const auto due = c.execute_prepared("next_visible", 2000LL).get<std::optional<long long>>(0, 0);
    ASSERT_TRUE(due.has_value());
    EXPECT_GT(*due, 0);
    EXPECT_LE(*due, 1000);
    EXPECT_FALSE(c.execute_prepared("next_visible", 100LL).get<std::optional<long long>>(0, 0).has_value());
    holder.execute("ROLLBACK");
}
