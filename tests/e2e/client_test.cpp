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
        return scalar(c, "SELECT count(*) FROM pg_class WHERE relnamespace IN ('pgflow'::regnamespace, 'pgmq'::regnamespace)") +
               scalar(c, "SELECT count(*) FROM pg_proc WHERE pronamespace IN ('pgflow'::regnamespace, 'pgmq'::regnamespace)");
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
    client.ensure_registered(flows::slow);
    worker_process worker{db, "e2e_slow"};
    auto c = db.connect();
    const auto id = client.start(flows::slow, 1000);
    ASSERT_TRUE(eventually([&] {
        return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'started'", id) == 1;
    }));
    EXPECT_EQ(scalar(c, R"(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name = 'pgflow worker e2e_slow')"),
              1);
    EXPECT_EQ(client.wait(id, 20s), boost::json::parse(R"({"slow":1})"));
    EXPECT_EQ(scalar(c, "SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid", id), 1)
        << "the result of the first attempt was delivered after reconnecting";
    EXPECT_FALSE(worker.wait_exit(0ms).has_value()) << "the worker process survived";
}
