// Worker processes: several on the same runs, one killed with SIGKILL mid-task, one stopped with
// SIGTERM. Each worker is a pgflow_e2e_worker process; assertions read the database.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <signal.h>

using namespace e2e;
namespace flows = e2e::flows;

TEST(processes, two_workers_complete_every_task_exactly_once) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::fanout);
    worker_process first{db, "e2e_fanout", {"--max-concurrent", "4"}};
    worker_process second{db, "e2e_fanout", {"--max-concurrent", "4"}};
    {
        auto c = db.connect();
        ASSERT_TRUE(eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.workers") == 2; }));
    }

    std::vector<pgflow::run_id> runs;
    for (int r = 0; r < 4; ++r) {
        std::vector<int> items(60);
        for (int i = 0; i < 60; ++i) items[static_cast<std::size_t>(i)] = i;
        runs.push_back(client.start(flows::fanout, items));
    }
    for (const auto& id : runs) EXPECT_EQ(client.wait(id, 60s), boost::json::parse(R"({"count":60})"));

    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE status = 'completed'"), 4 * 61);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE attempts_count <> 1"), 0)
        << "a task was claimed more than once";
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.workers WHERE queue_name = 'e2e_fanout'"), 2);
    // Both processes took part.
    EXPECT_EQ(scalar(c, "SELECT count(DISTINCT last_worker_id) FROM pgflow.step_tasks WHERE step_slug = 'work'"), 2);
}

TEST(processes, task_of_a_killed_worker_is_run_again_after_its_timeout) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::slow);
    auto c = db.connect();
    worker_process doomed{db, "e2e_slow"};
    const auto id = client.start(flows::slow, 30000);  // the first attempt would take 30 s
    ASSERT_TRUE(eventually([&] {
        return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'started'", id) ==
               1;
    })) << "the worker never started the task";
    doomed.signal(SIGKILL);
    EXPECT_EQ(doomed.wait_exit(5s), 128 + SIGKILL);
    const auto killed_at = clock::now();

    worker_process rescuer{db, "e2e_slow"};
    // timeout 1 s + 2 s: the task becomes claimable 3 s after it started, as attempt 2.
    EXPECT_EQ(client.wait(id, 30s), boost::json::parse(R"({"slow":2})"));
    const double recovery = std::chrono::duration<double>(clock::now() - killed_at).count();
    EXPECT_LT(recovery, 10.0);
    EXPECT_EQ(scalar(c, "SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid", id), 2);
    EXPECT_EQ(scalar(c, R"(SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND last_worker_id =
                           (SELECT worker_id FROM pgflow.workers ORDER BY started_at DESC LIMIT 1))",
                     id),
              1)
        << "the task should have been completed by the second worker";
}

TEST(processes, sigterm_lets_the_running_task_finish_and_marks_the_worker_stopped) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::slow);
    auto c = db.connect();
    worker_process worker{db, "e2e_slow", {"--grace-ms", "10000"}};
    const auto id = client.start(flows::slow, 800);  // within the step's timeout of 1 s
    ASSERT_TRUE(eventually([&] {
        return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'started'", id) ==
               1;
    }));
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(10s), 0) << "the worker did not exit cleanly after SIGTERM";
    // The task finished on its first attempt and was reported before the process exited.
    auto row = c.execute("SELECT status, attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid", id);
    EXPECT_EQ(row.get<std::string>(0, 0), "completed");
    EXPECT_EQ(row.get<int>(0, 1), 1);
    EXPECT_EQ(client.wait(id, 1s), boost::json::parse(R"({"slow":1})"));
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.workers WHERE deprecated_at IS NOT NULL"), 1);
}

TEST(processes, sigterm_on_an_idle_worker_exits_at_once) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::slow);
    auto c = db.connect();
    worker_process worker{db, "e2e_slow"};
    ASSERT_TRUE(eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.workers") == 1; }));
    const auto sent = clock::now();
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(5s), 0);
    EXPECT_LT(std::chrono::duration<double>(clock::now() - sent).count(), 2.0);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.workers WHERE deprecated_at IS NOT NULL"), 1);
}

TEST(processes, a_deprecated_worker_stops_at_its_next_heartbeat) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::echo);
    auto c = db.connect();
    worker_process worker{db, "e2e_echo"};
    ASSERT_TRUE(eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.workers") == 1; }));
    c.execute("UPDATE pgflow.workers SET deprecated_at = now()");
    EXPECT_EQ(worker.wait_exit(8s), 0) << "heartbeats come every 5 s; the worker should have stopped by then";
}

TEST(processes, a_handler_that_kills_its_worker_fails_the_task_saying_the_worker_crashed) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::crash);
    auto c = db.connect();
    worker_process doomed{db, "e2e_crash"};
    const auto id = client.start(flows::crash, 1);
    EXPECT_EQ(doomed.wait_exit(10s), 128 + SIGABRT);
    const auto dead = c.execute("SELECT worker_id::text FROM pgflow.workers").get<std::string>(0, 0);
    // Workers heartbeat every 5 s: one silent for over 10 s has crashed. The next worker claims
    // the message once it is that old, and, with no attempt left, fails the task.
    ASSERT_TRUE(eventually(
        [&] {
            return scalar(c,
                          "SELECT count(*) FROM pgflow.workers WHERE last_heartbeat_at < now() - interval '10.5 s'") ==
                   1;
        },
        30s));
    worker_process next{db, "e2e_crash"};
    ASSERT_TRUE(
        eventually([&] { return scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status = 'failed'") == 1; }, 15s));
    const auto error =
        c.execute("SELECT error_message FROM pgflow.step_tasks WHERE run_id = $1::uuid", id).get<std::string>(0, 0);
    EXPECT_TRUE(
        error.starts_with("Task timed out after 1 s: attempt 1's worker " + dead + " has sent no heartbeat for "))
        << error;
    EXPECT_NE(error.find("it crashed (a handler may have killed its process)"), std::string::npos) << error;
    EXPECT_EQ(next.wait_exit(0ms), std::nullopt) << "the second worker never ran the handler";
}

TEST(processes, sigterm_while_big_results_are_stored_stops_the_worker_within_its_grace_and_one_result) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::big);
    auto c = db.connect();
    worker_process worker{db, "e2e_big", {"--grace-ms", "1000", "--max-concurrent", "6", "--batch-size", "6"}};
    // More results than the worker can store within its grace: the report that would complete the
    // run (aggregating every output, seconds of work at this size) is never the one in flight.
    client.start(flows::big, std::vector<int>(12, 30));
    // SIGTERM while the worker's connection stores a result.
    ASSERT_TRUE(eventually(
        [&] {
            return scalar(c, R"(SELECT count(*) FROM pg_stat_activity
                                WHERE datname = current_database() AND application_name = 'pgflow worker e2e_big'
                                  AND state = 'active' AND query LIKE '%complete_task%')") == 1;
        },
        60s, 5ms));
    const auto sent = clock::now();
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(60s), 0);
    const double stopped = std::chrono::duration<double>(clock::now() - sent).count();
    std::printf("stopped %.2f s after SIGTERM; %lld of 12 results stored\n", stopped,
                scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE status = 'completed'"));
    // Results go one at a time (each is over 4 MiB): the worker stores what it can until
    // shutdown_grace + 1 s after the signal, waits for the result being stored then, and gives up
    // the rest (2-3 s measured; before, all results went in one statement and the worker took
    // 51 s to stop). The bound leaves room for a loaded machine.
    EXPECT_LT(stopped, 12.0);
}
