// The client and the worker's connection handling: installation, status, timeouts, NOTIFY
// wake-ups, and a worker whose connection is cut while it runs a task.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

using namespace e2e;
namespace flows = e2e::flows;

TEST(client, install_schema_twice_changes_nothing) {
    database db;  // installed once already
    pgflow::client client{db.options()};
    auto c = db.connect();
    const auto objects = [&] {
        return scalar(
                   c,
                   "SELECT count(*) FROM pg_class WHERE relnamespace IN ('pgflow'::regnamespace, 'pgmq'::regnamespace)") +
               scalar(
                   c,
                   "SELECT count(*) FROM pg_proc WHERE pronamespace IN ('pgflow'::regnamespace, 'pgmq'::regnamespace)");
    };
    client.ensure_registered(flows::chain);
    const auto before = objects();
    client.install_schema(pgflow::queue_mode::builtin);
    client.install_schema();
    EXPECT_EQ(objects(), before);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.flows"), 1) << "installing again keeps the flows";
}

TEST(client, forcing_the_pgmq_extension_where_there_is_none_is_an_error) {
    database db{false};
    auto c = db.connect();
    pgflow::client client{db.options()};
    if (scalar(c, "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgmq'") > 0) {
        // A server with pgmq (not Debian's): forcing the extension must then use it.
        client.install_schema(pgflow::queue_mode::extension);
        EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_extension WHERE extname = 'pgmq'"), 1);
        return;
    }
    try {
        client.install_schema(pgflow::queue_mode::extension);
        FAIL() << "installed the pgmq extension on a server without it";
    } catch (const pgflow::database_error& e) {
        EXPECT_NE(std::string(e.what()).find("pgmq"), std::string::npos) << e.what();
    }
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgflow'"), 0) << "nothing half-installed";
}

TEST(client, wait_times_out_while_the_run_goes_on) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    const auto id = client.start(flows::chain, 1);  // no worker: the run cannot finish
    const auto started = clock::now();
    EXPECT_THROW(client.wait(id, 300ms), pgflow::timeout_error);
    const double waited = std::chrono::duration<double>(clock::now() - started).count();
    EXPECT_GE(waited, 0.29);
    EXPECT_LT(waited, 2.0);
    const auto state = client.status(id);
    EXPECT_EQ(state.status, pgflow::run_status::started);
    EXPECT_EQ(state.flow_slug, "e2e_chain");
    EXPECT_EQ(state.input, boost::json::value(1));
    ASSERT_EQ(state.steps.size(), 3U);
    EXPECT_EQ(state.steps[0].step_slug, "a");
    EXPECT_EQ(state.steps[0].status, pgflow::step_status::started);
    EXPECT_EQ(state.steps[2].status, pgflow::step_status::created);
    EXPECT_EQ(state.steps[2].remaining_deps, 1);
    // A worker arriving later finishes it.
    worker_thread worker{db, flows::chain};
    EXPECT_EQ(client.wait(id, 20s), boost::json::parse(R"({"c":"1:4"})"));
}

TEST(client, wait_with_the_longest_timeout_waits_for_the_run_without_a_deadline) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    const auto id = client.start(flows::chain, 1);  // no worker yet: the run cannot have ended
    worker_thread worker{db, flows::chain};
    // milliseconds::max() ("forever") once overflowed the deadline and timed out at once.
    EXPECT_EQ(client.wait(id, std::chrono::milliseconds::max()), boost::json::parse(R"({"c":"1:4"})"));
    const auto second = client.start(flows::chain, 2);
    EXPECT_EQ(pgflow::to_json(client.wait(flows::chain, second, std::chrono::hours::max())),
              boost::json::parse(R"({"c":"2:6"})"));
}

TEST(client, an_output_that_does_not_decode_names_the_flow_and_the_run) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    worker_thread worker{db, flows::chain};
    const auto id = client.start(flows::chain, 1);
    // The chain's output ({"c": "1:4"}) read as the echo flow's ({"echo": int}).
    try {
        (void)client.wait(flows::echo, id, 20s);
        FAIL() << "the output decoded";
    } catch (const pgflow::json_decode_error& e) {
        const std::string expected =
            "pgflow: flow \"e2e_echo\", run " + id.str() + ": cannot decode the run's output: ";
        EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();
        EXPECT_FALSE(e.path().empty());
    }
}

TEST(client, status_of_an_unknown_run_is_an_error) {
    database db;
    pgflow::client client{db.options()};
    EXPECT_THROW(client.status(pgflow::new_run_id()), pgflow::error);
    EXPECT_THROW(client.wait(pgflow::new_run_id(), 1s), pgflow::error);
}

TEST(client, idle_worker_is_woken_by_notify_not_by_polling) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    auto options = quiet_options();
    options.max_poll = 30s;  // polling alone would take up to 30 s per step
    worker_thread worker{db, flows::chain, options};
    std::this_thread::sleep_for(300ms);  // let it go idle
    const auto started = clock::now();
    const auto id = client.start(flows::chain, 2);
    EXPECT_EQ(client.wait(id, 20s), boost::json::parse(R"({"c":"2:6"})"));
    EXPECT_LT(std::chrono::duration<double>(clock::now() - started).count(), 3.0)
        << "three steps should take milliseconds when NOTIFY wakes the worker";
}

TEST(client, worker_whose_connection_is_cut_reconnects_and_reports_its_result) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::slow_patient);
    worker_process worker{db, "e2e_slow_patient"};
    auto c = db.connect();
    const auto id = client.start(flows::slow_patient, 700);  // well within the step's timeout of 10 s
    ASSERT_TRUE(eventually([&] {
        return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'started'", id) ==
               1;
    }));
    EXPECT_EQ(scalar(c, R"(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name = 'pgflow worker e2e_slow_patient')"),
              1);
    EXPECT_EQ(client.wait(id, 20s), boost::json::parse(R"({"slow":1})"));
    EXPECT_EQ(scalar(c, "SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid", id), 1)
        << "the result of the first attempt was delivered after reconnecting";
    EXPECT_FALSE(worker.wait_exit(0ms).has_value()) << "the worker process survived";
}

// On pgflow-cpp's schema the client and the worker defer their NOTIFYs to a second, WAL-free
// transaction of the same round trip (sql/pgflow/0065_notifications.sql): every event must still
// arrive, at once, and nothing may stay behind in the deferred table.
TEST(client, events_of_starts_and_completions_are_published_right_after_commit) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    auto listener = db.connect();
    auto c = db.connect();
    const auto id = pgflow::new_run_id();
    listener.listen("pgflow:run:" + id.str());
    listener.listen("pgflow:queue:e2e_chain");
    std::vector<std::string> events;
    bool queue_woken = false;
    const auto collect_until = [&](std::string_view last, std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        while (clock::now() < deadline) {
            while (auto n = listener.next_notification()) {
                if (n->channel.rfind("pgflow:queue:", 0) == 0) {
                    queue_woken = true;
                    continue;
                }
                events.push_back(std::string(boost::json::parse(n->payload).at("event").as_string()));
            }
            if (!events.empty() && events.back() == last) return true;
            listener.wait_for_input(std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()));
        }
        return false;
    };

    EXPECT_EQ(client.start(flows::chain, 2, id), id);
    ASSERT_TRUE(collect_until("step:a:started", 2s)) << "start_flow's events were not published";
    EXPECT_EQ(events, (std::vector<std::string>{"run:started", "step:a:started"}));
    EXPECT_TRUE(queue_woken) << "the queue wake-up was not published";
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.deferred_notifications"), 0);

    worker_thread worker{db, flows::chain};
    ASSERT_TRUE(collect_until("run:completed", 20s)) << "the completions' events were not published";
    EXPECT_EQ(events,
              (std::vector<std::string>{"run:started", "step:a:started", "step:a:completed", "step:b:started",
                                        "step:b:completed", "step:c:started", "step:c:completed", "run:completed"}));
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.deferred_notifications"), 0);
}

// A session that dies between a deferring transaction and its publication leaves rows behind;
// a worker's heartbeat publishes them.
TEST(client, notifications_left_by_a_dead_session_are_published_by_a_worker_heartbeat) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    auto listener = db.connect();
    listener.listen("pgflow:orphaned");
    {
        auto dying = db.connect();
        dying.execute("BEGIN");
        dying.execute("SELECT set_config('pgflow_cpp.defer_notifications', 'on', true)");
        dying.execute("SELECT pgflow_cpp.notify('pgflow:orphaned', 'left behind')");
        dying.execute("COMMIT");
    }  // gone without publishing
    EXPECT_EQ(listener.wait_for_input(300ms), pgflow::pq::wait_result::timeout);
    auto options = quiet_options();
    options.heartbeat_interval = 200ms;
    worker_thread worker{db, flows::chain, options};
    ASSERT_TRUE(eventually([&] { return listener.next_notification().has_value(); }, 5s))
        << "no heartbeat published the orphaned notification";
}
