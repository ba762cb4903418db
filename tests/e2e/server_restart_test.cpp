// The PostgreSQL server restarts while runs are in flight: worker processes and the client
// reconnect, results reported during the outage are delivered afterwards, every run completes.
// Needs the server's data directory (PGFLOW_CLUSTER_DIR, exported by scripts/test) to restart it;
// registered RUN_SERIAL so that no other test sees the outage.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

using namespace e2e;
namespace flows = e2e::flows;

namespace {

void restart_server(const std::string& data_dir) {
    const char* bin = std::getenv("PGFLOW_PG_BIN");
    const std::string pg_ctl = std::string(bin != nullptr ? bin : "/usr/lib/postgresql/15/bin") + "/pg_ctl";
    const std::string as_postgres = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    const std::string command = as_postgres + pg_ctl + " -D '" + data_dir + "' -l '" + data_dir +
                                "/server.log' -m fast -w -t 60 restart > /dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << "failed: " << command;
}

}  // namespace

TEST(server, restart_mid_run_workers_reconnect_and_all_runs_complete) {
    const char* data_dir = std::getenv("PGFLOW_CLUSTER_DIR");
    if (data_dir == nullptr || *data_dir == '\0')
        FAIL() << "PGFLOW_CLUSTER_DIR is not set: this test restarts the PostgreSQL server with pg_ctl and needs its "
                  "data directory (scripts/test exports it for the throwaway cluster)";
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::steady);
    worker_process first{db, "e2e_steady"};
    worker_process second{db, "e2e_steady"};

    std::vector<pgflow::run_id> runs;
    for (int i = 0; i < 12; ++i) runs.push_back(client.start(flows::steady, i));
    {
        auto c = db.connect();
        ASSERT_TRUE(eventually(
            [&] { return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE status = 'completed'") >= 4; }));
    }
    restart_server(data_dir);
    const auto restarted = clock::now();
    for (std::size_t i = 0; i < runs.size(); ++i)
        EXPECT_EQ(client.wait(runs[i], 60s), boost::json::value({{"three", static_cast<int>(i) + 3}}));
    const double recovery = std::chrono::duration<double>(clock::now() - restarted).count();
    std::cout << "all runs completed " << recovery << " s after the restart\n";

    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status = 'completed'"), 12);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE status <> 'completed'"), 0);
    // Both workers survived the outage.
    EXPECT_FALSE(first.wait_exit(0ms).has_value());
    EXPECT_FALSE(second.wait_exit(0ms).has_value());
}
