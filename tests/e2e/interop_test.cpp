// Interoperability with pgflow 0.8.1 itself: the database is built from pgflow's own migrations
// (npm package @pgflow/core@0.8.1, dist/supabase/migrations/*.sql in name order) on top of our
// built-in queue, and our worker and client complete runs against it.
//
// The package is fetched with `npm pack` into the build directory on first use. pgflow's first
// migration creates the pgmq extension, which the built-in queue replaces: that one statement is
// skipped. pgflow 0.8.1 broadcasts through Supabase's realtime.send, so the test installs the
// plain-PostgreSQL stand-in of tests/sql/fixtures. pgflow 0.8.1 sends no pg_notify: the worker finds tasks
// by polling and the client's wait by re-reading the run, which is what this test also shows.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

using namespace e2e;
namespace flows = e2e::flows;
namespace fs = std::filesystem;

namespace {

// Returns the migrations directory, fetching the package when needed; fails the test otherwise.
fs::path pgflow_migrations() {
    const fs::path dir = fs::path(PGFLOW_E2E_WORK_DIR) / "pgflow-core-0.8.1";
    const fs::path migrations = dir / "package" / "dist" / "supabase" / "migrations";
    if (fs::exists(migrations)) return migrations;
    fs::create_directories(dir);
    const std::string command = "cd '" + dir.string() +
                                "' && npm pack --silent @pgflow/core@0.8.1 > npm-pack.log 2>&1 && "
                                "tar xzf pgflow-core-0.8.1.tgz";
    if (std::system(command.c_str()) != 0 || !fs::exists(migrations)) {
        std::ifstream log(dir / "npm-pack.log");
        std::stringstream text;
        text << log.rdbuf();
        ADD_FAILURE() << "could not fetch pgflow 0.8.1's migrations with `npm pack @pgflow/core@0.8.1` in " << dir
                      << " (npm and the npm registry are needed):\n"
                      << text.str();
        return {};
    }
    return migrations;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST(interop, our_worker_and_client_run_flows_on_pgflow_0_8_1s_own_schema) {
    const auto migrations = pgflow_migrations();
    ASSERT_FALSE(migrations.empty());
    database db{false};
    pgflow::client client{db.options()};
    client.install_schema(pgflow::install_options{pgflow::queue_mode::builtin, /*queue_only=*/true});
    auto c = db.connect();
    // What Supabase's realtime.send does, on plain PostgreSQL (the pgTAP suite's fixture).
    const auto realtime_stand_in = read_file(fs::path(PGFLOW_SQL_FIXTURES_DIR) / "realtime_stand_in.sql");
    ASSERT_FALSE(realtime_stand_in.empty()) << "the realtime stand-in fixture is missing";
    c.execute_script(realtime_stand_in, "the realtime stand-in");

    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(migrations))
        if (entry.path().extension() == ".sql") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    ASSERT_EQ(files.size(), 12U) << "pgflow 0.8.1 has 12 migrations";
    const std::string create_pgmq = R"(CREATE EXTENSION IF NOT EXISTS "pgmq" WITH SCHEMA "pgmq";)";
    bool skipped = false;
    for (const auto& file : files) {
        std::string sql = read_file(file);
        if (auto at = sql.find(create_pgmq); at != std::string::npos) {
            sql.erase(at, create_pgmq.size());
            skipped = true;
        }
        c.execute_script(sql, file.filename().string());
    }
    ASSERT_TRUE(skipped) << "the migrations no longer contain the CREATE EXTENSION pgmq statement";
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_extension WHERE extname = 'pgmq'"), 0);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'pgflow_cpp'"), 0)
        << "only the queue of our SQL should be installed";

    auto options = quiet_options();
    options.max_poll = std::chrono::milliseconds{200};  // pgflow 0.8.1 sends no task wake-ups
    client.ensure_registered(flows::map_chain);
    client.ensure_registered(flows::diamond);
    worker_thread map_worker{db, flows::map_chain, options};
    worker_thread diamond_worker{db, flows::diamond, options};

    const auto maps = client.start(flows::map_chain, std::vector<int>{1, 2, 3});
    const auto empty = client.start(flows::map_chain, std::vector<int>{});
    const auto diamond = client.start(flows::diamond, 2);
    EXPECT_EQ(client.wait(maps, 30s), boost::json::parse(R"({"total":15})"));
    EXPECT_EQ(client.wait(empty, 30s), boost::json::parse(R"({"total":0})"));
    EXPECT_EQ(client.wait(diamond, 30s), boost::json::parse(R"({"join":[2,21,22]})"));

    // pgflow's own events were broadcast through realtime.send.
    EXPECT_GE(scalar(c, "SELECT count(*) FROM realtime.messages WHERE event = 'run:completed'"), 3);
    const auto state = client.status(maps);
    EXPECT_EQ(state.status, pgflow::run_status::completed);
    EXPECT_EQ(state.steps.size(), 3U);

    // A failing flow fails the run in pgflow's SQL just the same.
    client.ensure_registered(flows::doomed);
    worker_thread doomed_worker{db, flows::doomed, options};
    const auto failing = client.start(flows::doomed, 1);
    EXPECT_THROW(client.wait(failing, 30s), pgflow::run_failed_error);

    // Run control needs pgflow-cpp's schema: each call fails at once, naming the capability.
    auto refused = [](const std::function<void()>& call) {
        try {
            call();
        } catch (const pgflow::error& e) {
            return std::string(e.what()).find("needs pgflow-cpp's run control") != std::string::npos &&
                   std::string(e.what()).find("pgflow 0.8.1's migrations") != std::string::npos;
        }
        return false;
    };
    EXPECT_TRUE(refused([&] { client.cancel(maps); }));
    EXPECT_TRUE(refused([&] { client.retry(failing); }));
    EXPECT_TRUE(refused([&] { client.resume(flows::doomed, failing); }));
    EXPECT_TRUE(refused([&] { client.start(flows::diamond, 1, pgflow::start_options{.idempotency_key = "k"}); }));
    EXPECT_EQ(client.status(failing).status, pgflow::run_status::failed);

    // So do pgflow 0.14's step conditions: registering a flow that uses them fails before any
    // statement, naming the capability, the step and the flow.
    pgflow::dynamic_flow conditional{"interop_conditional"};
    conditional.step("check", [](const boost::json::value& in) { return in; })
        .step(
            "charge", {"check"}, [](const boost::json::value& in) { return in; },
            pgflow::step_conditions{.only_if = boost::json::object{{"check", {{"approved", true}}}}});
    try {
        client.ensure_registered(conditional);
        ADD_FAILURE() << "a flow with conditions registered on pgflow 0.8.1's schema";
    } catch (const pgflow::error& e) {
        EXPECT_NE(std::string(e.what()).find("the database's pgflow schema has no step conditions (pgflow 0.14): "
                                             "step \"charge\" of flow \"interop_conditional\" uses only_if"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.flows WHERE flow_slug = 'interop_conditional'"), 0);
    const auto steps = client.status(maps).steps;
    EXPECT_TRUE(std::all_of(steps.begin(), steps.end(), [](const pgflow::step_state& s) {
        return s.status == pgflow::step_status::completed && !s.skip_reason && !s.skipped_at;
    }));
}
