// `pgflow signal`, and the waiting steps `pgflow status <run_id>` and `pgflow watch` show. The
// flow is registered with SQL (pgflow_cpp.set_step_kind): its only step is a root signal step,
// which waits as soon as the run starts, so no worker is needed.

#include "cli_support.hpp"

#include <pgflow/client.hpp>

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

using namespace cli_test;
using testing::HasSubstr;

namespace {

/// cli_approval: one root signal step `approval` taking {"approved": boolean}, timing out after an hour.
void register_approval_flow(const database& db) {
    auto c = db.connect();
    c.execute("SELECT pgflow.create_flow('cli_approval', 1)");
    c.execute("SELECT pgflow.add_step('cli_approval', 'approval')");
    c.execute(R"(SELECT pgflow_cpp.set_step_kind('cli_approval', 'approval', 'signal', 3600,
      '{"type":"object","properties":{"approved":{"type":"boolean"}},"required":["approved"]}'::jsonb, NULL))");
}

pgflow::run_id start_waiting_run(const database& db) {
    register_approval_flow(db);
    return pgflow::client{db.options()}.start("cli_approval", boost::json::object{});
}

}  // namespace

TEST(signal, status_shows_the_waiting_step_and_since_when_and_signal_completes_it) {
    database db;
    const auto id = start_waiting_run(db);
    auto o = pgflow_cli(db, {"status", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_THAT(o.out, HasSubstr("\nWaiting without a worker\n")) << o;
    EXPECT_TRUE(std::regex_search(
        o.out, std::regex("\n  approval +0 +signal +20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC +[0-9]+ s +a signal "
                          "\\(times out at 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC\\)\n")))
        << o;

    o = pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": true})"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(o.out, "signalled step approval of run " + id.str() + "\n");
    o = pgflow_cli(db, {"status", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  status +completed\n"))) << o;
    EXPECT_THAT(o.out, HasSubstr(R"({"approval": {"approved": true}})"));
    EXPECT_THAT(o.out, testing::Not(HasSubstr("Waiting without a worker")));
}

TEST(signal, refusals_exit_1_naming_the_step_the_run_and_what_is_wrong) {
    database db;
    const auto id = start_waiting_run(db);
    auto o = pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": "yes"})"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("cannot signal step \"approval\" of run " + id.str()));
    EXPECT_THAT(o.err, HasSubstr("$.approved: expected boolean, got string"));
    o = pgflow_cli(db, {"signal", id.str(), "no_such_step", "{}"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("cannot signal step \"no_such_step\""));
    o = pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": false})", "--task", "3"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("(task 3)"));

    ASSERT_EQ(pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": false})"}).status, 0);
    o = pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": true})"});  // twice
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("cannot signal step \"approval\" of run " + id.str()));
    EXPECT_EQ(pgflow::client{db.options()}.wait(id, std::chrono::seconds{5}),
              boost::json::parse(R"({"approval": {"approved": false}})"));
}

TEST(signal, bad_arguments_are_usage_errors) {
    database db;
    const auto id = start_waiting_run(db);
    auto o = pgflow_cli(db, {"signal", id.str(), "approval", "{approved: true}"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("the signal value is not valid JSON"));
    // Valid JSON with a number no double holds: not "invalid JSON", and the path is named.
    o = pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": true, "n": 1e400})"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("the signal value cannot be stored exactly: at $.n"));
    EXPECT_EQ(pgflow_cli(db, {"signal", "42", "approval", "{}"}).status, 2);
    EXPECT_EQ(pgflow_cli(db, {"signal", id.str(), "approval"}).status, 2);
    EXPECT_EQ(pgflow_cli(db, {"signal", id.str(), "approval", "{}", "--task", "-1"}).status, 2);
}

TEST(signal, watch_shows_the_wait_and_ends_when_the_signal_completes_the_run) {
    database db;
    const auto id = start_waiting_run(db);
    process watch({PGFLOW_CLI, "--database-url", db.url(), "watch", id.str()});
    ASSERT_TRUE(eventually([&] { return watch.output_so_far().find("waiting since") != std::string::npos; }))
        << watch.output_so_far();
    pgflow::client{db.options()}.signal(id, "approval", boost::json::parse(R"({"approved": true})"));
    const auto o = watch.wait(std::chrono::seconds{30});
    ASSERT_EQ(o.status, 0) << o;
    const auto ls = lines(o.out);
    EXPECT_EQ(find_line(ls, "run " + id.str() + " of flow cli_approval: started (approval started)"), 0) << o;
    EXPECT_EQ(find_line(ls, "step approval waiting since "), 1) << o;
    EXPECT_THAT(ls.at(1), HasSubstr(" for a signal (times out at ")) << o;
    EXPECT_GT(find_line(ls, "step approval completed"), 1) << o;
    EXPECT_EQ(ls.back(), R"(output: {"approval": {"approved": true}})") << o;
}
