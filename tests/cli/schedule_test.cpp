// `pgflow schedule …` and `pgflow scheduler` as real processes: managing schedules, clear errors,
// two scheduler processes racing for 10 s with exactly one run per tick, and the elected one
// killed (SIGKILL) handing over within a few seconds without losing or doubling a tick.
#include "cli_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

using namespace cli_test;
using testing::HasSubstr;

namespace {

void register_tick_flow(const database& db) {
    auto c = db.connect();
    c.execute("SELECT pgflow.create_flow('tick')");
    c.execute("SELECT pgflow.add_step('tick', 'a')");
}

long long scalar(pgflow::pq::connection& c, std::string_view sql) { return c.execute(sql).get<long long>(0, 0); }

std::string lease_holder(pgflow::pq::connection& c) {
    const auto r = c.execute("SELECT holder FROM pgflow_cpp.scheduler_lease WHERE expires_at > clock_timestamp()");
    return r.empty() ? std::string() : r.get<std::string>(0, 0);
}

// "<host>:<pid>:<random>" -> pid
pid_t pid_of(const std::string& holder) {
    const auto first = holder.find(':');
    const auto second = holder.find(':', first + 1);
    return static_cast<pid_t>(std::stol(holder.substr(first + 1, second - first - 1)));
}

void expect_one_run_per_consecutive_tick(pgflow::pq::connection& c, long long at_least) {
    const long long ticks = scalar(c, "SELECT count(*) FROM pgflow_cpp.schedule_runs");
    EXPECT_GE(ticks, at_least);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'tick'"), ticks) << "one run per tick";
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.schedule_runs JOIN pgflow.runs USING (run_id)"), ticks);
    EXPECT_EQ(scalar(c,
                     "SELECT extract(epoch FROM max(scheduled_at) - min(scheduled_at))::bigint + 1 "
                     "FROM pgflow_cpp.schedule_runs"),
              ticks)
        << "every second from the first tick to the last, none twice";
}

TEST(schedule, add_list_disable_enable_remove) {
    database db;
    register_tick_flow(db);
    const auto add = pgflow_cli(
        db, {"schedule", "add", "nightly", "tick", "0 2 * * *", "--input", R"({"n": 1})", "--tz", "Europe/Berlin"});
    ASSERT_EQ(add.status, 0) << add;
    EXPECT_THAT(add.out, HasSubstr("schedule \"nightly\" added; next run "));
    const auto prune = pgflow_cli(db, {"schedule", "prune", "retention", "30 days", "@daily", "--disabled"});
    ASSERT_EQ(prune.status, 0) << prune;
    EXPECT_THAT(prune.out, HasSubstr("added (disabled)"));
    const auto list = pgflow_cli(db, {"schedule", "list"});
    ASSERT_EQ(list.status, 0) << list;
    EXPECT_THAT(list.out, HasSubstr("nightly"));
    EXPECT_THAT(list.out, HasSubstr("Europe/Berlin"));
    EXPECT_THAT(list.out, HasSubstr("{\"n\": 1}"));
    EXPECT_THAT(list.out, HasSubstr("prune older than 30 days"));
    const auto disable = pgflow_cli(db, {"schedule", "disable", "nightly"});
    EXPECT_EQ(disable.status, 0) << disable;
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.schedules WHERE enabled"), 0);
    const auto enable = pgflow_cli(db, {"schedule", "enable", "nightly"});
    EXPECT_EQ(enable.status, 0) << enable;
    EXPECT_THAT(enable.out, HasSubstr("enabled; next run"));
    const auto remove = pgflow_cli(db, {"schedule", "remove", "nightly"});
    EXPECT_EQ(remove.status, 0) << remove;
    const auto again = pgflow_cli(db, {"schedule", "remove", "nightly"});
    EXPECT_EQ(again.status, 2) << again;
    EXPECT_THAT(again.err, HasSubstr("there is no schedule \"nightly\""));
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.schedules"), 1);
}

TEST(schedule, bad_cron_zone_flow_and_name_are_usage_errors_in_clear_words) {
    database db;
    register_tick_flow(db);
    const auto cron = pgflow_cli(db, {"schedule", "add", "x", "tick", "0 25 * * *"});
    EXPECT_EQ(cron.status, 2) << cron;
    EXPECT_THAT(cron.err,
                HasSubstr("invalid cron expression \"0 25 * * *\": hour field \"25\": 25 is out of range 0-23"));
    const auto zone = pgflow_cli(db, {"schedule", "add", "x", "tick", "@daily", "--tz", "Moon/Base"});
    EXPECT_EQ(zone.status, 2) << zone;
    EXPECT_THAT(zone.err, HasSubstr("unknown time zone \"Moon/Base\""));
    const auto flow = pgflow_cli(db, {"schedule", "add", "x", "nope", "@daily"});
    EXPECT_EQ(flow.status, 2) << flow;
    EXPECT_THAT(flow.err, HasSubstr("flow \"nope\" is not registered"));
    const auto input = pgflow_cli(db, {"schedule", "add", "x", "tick", "@daily", "--input", "{oops"});
    EXPECT_EQ(input.status, 2) << input;
    ASSERT_EQ(pgflow_cli(db, {"schedule", "add", "x", "tick", "@daily"}).status, 0);
    const auto taken = pgflow_cli(db, {"schedule", "add", "x", "tick", "@hourly"});
    EXPECT_EQ(taken.status, 2) << taken;
    EXPECT_THAT(taken.err, HasSubstr("a schedule named \"x\" exists already"));
    const auto missing = pgflow_cli(db, {"schedule", "add", "y", "tick"});
    EXPECT_EQ(missing.status, 2) << missing;
    const auto retention = pgflow_cli(db, {"schedule", "prune", "p", "thirty days", "@daily"});
    EXPECT_EQ(retention.status, 2) << retention;
    EXPECT_EQ(retention.err, "pgflow: retention \"thirty days\" is not an interval (e.g. '30 days', '12 hours')\n");
    const auto unnamed = pgflow_cli(db, {"schedule", "add", "", "tick", "@daily"});
    EXPECT_EQ(unnamed.status, 2) << unnamed;
}

// `start` checked the input against the flow's input type; `schedule add` did not.
TEST(schedule, input_is_checked_against_the_input_type_of_a_flow_the_program_knows) {
    database db;
    db.connect().execute("SELECT pgflow.create_flow('example_flow')");  // the program knows {"value": int}
    for (const char* input : {R"({"value": "x"})", "[]", "null"}) {
        const auto o = pgflow_cli(db, {"schedule", "add", "bad", "example_flow", "@daily", "--input", input});
        EXPECT_EQ(o.status, 2) << input << ": " << o;
        EXPECT_THAT(o.err,
                    HasSubstr("the input does not fit flow \"example_flow\" (input type examples::ExampleInput)"))
            << input;
    }
    const auto wrong =
        pgflow_cli(db, {"schedule", "add", "bad", "example_flow", "@daily", "--input", R"({"value": "x"})"});
    EXPECT_THAT(wrong.err, HasSubstr("at $.value: expected an integer, got a string"));
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.schedules"), 0);
    const auto good =
        pgflow_cli(db, {"schedule", "add", "good", "example_flow", "@daily", "--input", R"({"value": 3})"});
    EXPECT_EQ(good.status, 0) << good;
    // A flow the program does not know takes any JSON, as with `start`.
    register_tick_flow(db);
    const auto any = pgflow_cli(db, {"schedule", "add", "any", "tick", "@daily", "--input", "[1, \"two\"]"});
    EXPECT_EQ(any.status, 0) << any;
}

// The same status and words as `start` for a flow the database lacks.
TEST(schedule, an_unregistered_flow_is_refused_like_start_refuses_it) {
    database db;
    const auto unknown = pgflow_cli(db, {"schedule", "add", "x", "nosuch", "@daily"});
    EXPECT_EQ(unknown.status, 2) << unknown;
    EXPECT_EQ(unknown.err,
              "pgflow: flow \"nosuch\" is not registered in this database; register it first, e.g. by starting its "
              "worker\n");
    EXPECT_EQ(pgflow_cli(db, {"start", "nosuch", "{}"}).err, unknown.err);
    const auto known = pgflow_cli(db, {"schedule", "add", "x", "example_flow", "@daily", "--input", R"({"value": 1})"});
    EXPECT_EQ(known.status, 2) << known;
    EXPECT_THAT(known.err, HasSubstr("`pgflow compile example_flow | psql -v ON_ERROR_STOP=1 --single-transaction`"));
}

TEST(scheduler, two_processes_racing_for_10_seconds_start_exactly_one_run_per_tick) {
    database db;
    register_tick_flow(db);
    ASSERT_EQ(pgflow_cli(db, {"schedule", "add", "every-second", "tick", "@every 1s", "--catch-up", "all"}).status, 0);
    {
        // One elected, one not: correctness must not rest on the election.
        process elected({PGFLOW_CLI, "--database-url", db.url(), "scheduler"});
        process racing({PGFLOW_CLI, "--database-url", db.url(), "scheduler", "--no-election"});
        std::this_thread::sleep_for(10s);
    }  // both end with SIGKILL, mid-tick or not
    auto c = db.connect();
    expect_one_run_per_consecutive_tick(c, 9);
}

TEST(scheduler, killing_the_elected_process_hands_over_within_a_few_seconds) {
    database db;
    register_tick_flow(db);
    ASSERT_EQ(pgflow_cli(db, {"schedule", "add", "every-second", "tick", "@every 1s", "--catch-up", "all"}).status, 0);
    process first({PGFLOW_CLI, "--database-url", db.url(), "scheduler"});
    process second({PGFLOW_CLI, "--database-url", db.url(), "scheduler"});
    auto c = db.connect();
    std::string holder;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while ((holder = lease_holder(c)).empty() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(50ms);
    ASSERT_FALSE(holder.empty()) << "a scheduler is elected";
    std::this_thread::sleep_for(3s);
    ASSERT_EQ(lease_holder(c), holder) << "the lease stays with its holder";

    ASSERT_EQ(::kill(pid_of(holder), SIGKILL), 0);
    const auto killed = std::chrono::steady_clock::now();
    std::string successor;
    while (((successor = lease_holder(c)).empty() || successor == holder) &&
           std::chrono::steady_clock::now() < killed + 10s)
        std::this_thread::sleep_for(20ms);
    const auto handover =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
    ASSERT_NE(successor, holder);
    ASSERT_FALSE(successor.empty());
    EXPECT_LT(handover, 5s) << "lease 3 s + one renew interval (1 s) at most";
    std::printf("handover after SIGKILL: %lld ms\n", static_cast<long long>(handover.count()));
    std::this_thread::sleep_for(3s);
    // The ticks missed during the handover are caught up ('all'): none lost, none twice.
    expect_one_run_per_consecutive_tick(c, 8);
    EXPECT_GE(scalar(c,
                     "SELECT count(*) FROM pgflow_cpp.schedule_runs WHERE started_at > clock_timestamp() - "
                     "interval '2 seconds'"),
              1)
        << "the successor ticks";
}

}  // namespace
