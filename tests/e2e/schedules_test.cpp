// Schedules end to end: pgflow::scheduler objects on threads against a real server. Every tick of
// an '@every 1s' schedule starts exactly one run, whether two schedulers race without the election
// or with it, and a scheduler that stops hands the lease over at once.
#include "e2e_support.hpp"
#include "flows.hpp"

#include <pgflow/client.hpp>
#include <pgflow/schedules.hpp>
#include <pgflow/worker.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using e2e::scalar;

// A flow with one step and no worker: its runs stay started, which is all a schedule needs.
void register_tick_flow(const e2e::database& db) {
    auto c = db.connect();
    c.execute("SELECT pgflow.create_flow('tick')");
    c.execute("SELECT pgflow.add_step('tick', 'a')");
}

pgflow::scheduler_options quiet(pgflow::scheduler_options o = {}) {
    if (std::getenv("PGFLOW_E2E_VERBOSE") == nullptr) o.log = [](std::string_view) {};
    return o;
}

// The schedule's ticks: one run each, no run without its tick, consecutive seconds from the
// first to the last (no tick skipped, none twice).
void expect_one_run_per_consecutive_tick(pgflow::pq::connection& c, long long at_least) {
    const long long ticks = scalar(c, "SELECT count(*) FROM pgflow_cpp.schedule_runs");
    EXPECT_GE(ticks, at_least);
    EXPECT_EQ(scalar(c, "SELECT count(DISTINCT scheduled_at) FROM pgflow_cpp.schedule_runs"), ticks);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'tick'"), ticks) << "a run per tick";
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.schedule_runs r JOIN pgflow.runs USING (run_id)"), ticks);
    EXPECT_EQ(scalar(c,
                     "SELECT extract(epoch FROM max(scheduled_at) - min(scheduled_at))::bigint + 1 "
                     "FROM pgflow_cpp.schedule_runs"),
              ticks)
        << "consecutive seconds";
    EXPECT_EQ(scalar(c,
                     "SELECT count(*) FROM pgflow_cpp.schedule_runs WHERE scheduled_at <> date_trunc('second', "
                     "scheduled_at)"),
              0)
        << "ticks at whole seconds";
}

TEST(schedules, two_schedulers_racing_without_the_election_start_exactly_one_run_per_tick) {
    e2e::database db;
    register_tick_flow(db);
    pgflow::schedules book{db.options()};
    book.add("every_second", "tick", "@every 1s", {.input = {{"from", "schedule"}}, .catch_up = "all"});

    std::atomic<int> started_by_a{0}, started_by_b{0};
    auto options = [](std::atomic<int>& counter) {
        auto o = quiet();
        o.elect = false;
        o.renew_interval = 50ms;  // look often, so that both race for every tick
        o.on_start = [&counter](const pgflow::scheduled_start&) { ++counter; };
        return o;
    };
    pgflow::scheduler a{db.options(), options(started_by_a)}, b{db.options(), options(started_by_b)};
    {
        std::jthread ta([&](std::stop_token s) { a.run(s); });
        std::jthread tb([&](std::stop_token s) { b.run(s); });
        std::this_thread::sleep_for(10s);
    }
    auto c = db.connect();
    expect_one_run_per_consecutive_tick(c, 9);
    EXPECT_EQ(started_by_a + started_by_b, scalar(c, "SELECT count(*) FROM pgflow_cpp.schedule_runs"));
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs WHERE input <> '{\"from\": \"schedule\"}'"), 0);
}

TEST(schedules, elected_schedulers_tick_from_one_holder_and_a_stopped_one_hands_over_at_once) {
    e2e::database db;
    register_tick_flow(db);
    pgflow::schedules{db.options()}.add("every_second", "tick", "@every 1s", {.catch_up = "all"});

    std::mutex m;
    std::vector<std::string> starters;  // the holder of each start, in order
    auto options = [&](std::string holder) {
        auto o = quiet();
        o.holder = std::move(holder);
        o.on_start = [&m, &starters, name = o.holder](const pgflow::scheduled_start&) {
            std::lock_guard lock(m);
            starters.push_back(name);
        };
        return o;
    };
    pgflow::scheduler a{db.options(), options("a")}, b{db.options(), options("b")};
    std::jthread ta([&](std::stop_token s) { a.run(s); });
    std::this_thread::sleep_for(300ms);  // a is elected first
    std::jthread tb([&](std::stop_token s) { b.run(s); });
    std::this_thread::sleep_for(4s);
    EXPECT_TRUE(a.leading());
    EXPECT_FALSE(b.leading());

    const auto stopped = std::chrono::steady_clock::now();
    ta.request_stop();
    ta.join();
    ASSERT_TRUE(e2e::eventually([&] { return b.leading(); }, 3s, 10ms));
    const auto handover = std::chrono::steady_clock::now() - stopped;
    EXPECT_LT(handover, 1500ms) << "a stopped scheduler gives the lease up: the next look of b takes it";
    std::this_thread::sleep_for(3s);
    tb.request_stop();
    tb.join();

    std::lock_guard lock(m);
    ASSERT_FALSE(starters.empty());
    std::size_t switches = 0;
    for (std::size_t i = 1; i < starters.size(); ++i) switches += starters[i] != starters[i - 1] ? 1 : 0;
    EXPECT_EQ(starters.front(), "a");
    EXPECT_EQ(starters.back(), "b");
    EXPECT_EQ(switches, 1u) << "one holder at a time: a until it stopped, then b";
    auto c = db.connect();
    expect_one_run_per_consecutive_tick(c, 6);
}

TEST(schedules, workers_with_run_scheduler_elect_one_scheduler_and_complete_the_scheduled_runs) {
    e2e::database db;
    pgflow::client{db.options()}.ensure_registered(e2e::flows::chain);
    pgflow::schedules{db.options()}.add("chain_every_second", "e2e_chain", "@every 1s", {.input = 4});
    auto options = [] {
        auto o = e2e::quiet_options();
        o.run_scheduler = true;
        return o;
    };
    {
        e2e::worker_thread one{db, e2e::flows::chain, options()};
        e2e::worker_thread two{db, e2e::flows::chain, options()};
        auto c = db.connect();
        ASSERT_TRUE(e2e::eventually(
            [&] { return scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status = 'completed'") >= 3; }, 15s));
        EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.scheduler_lease"), 1);
    }
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow_cpp.scheduler_lease"), 0) << "the stopped workers gave it up";
    EXPECT_EQ(c.execute("SELECT output FROM pgflow.runs WHERE status = 'completed' LIMIT 1").get<std::string>(0, 0),
              R"({"c": "4:10"})");
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs"),
              scalar(c, "SELECT count(DISTINCT scheduled_at) FROM pgflow_cpp.schedule_runs"));
}

TEST(schedules, a_workers_scheduler_that_fails_logs_why_and_starts_again) {
    e2e::database db;
    pgflow::client{db.options()}.ensure_registered(e2e::flows::chain);
    pgflow::schedules{db.options()}.add("chain_every_second", "e2e_chain", "@every 1s", {.input = 4});
    auto c = db.connect();
    // As on an older schema: the scheduler cannot start.
    c.execute("ALTER FUNCTION pgflow_cpp.run_due_schedules(integer) RENAME TO run_due_schedules_hidden");
    std::mutex m;
    std::vector<std::string> lines;
    auto o = e2e::quiet_options();
    o.run_scheduler = true;
    o.log = [&](std::string_view line) {
        std::lock_guard lock(m);
        lines.emplace_back(line);
    };
    auto logged = [&](std::string_view text) {
        std::lock_guard lock(m);
        return std::ranges::any_of(lines, [&](const std::string& l) { return l.find(text) != std::string::npos; });
    };
    e2e::worker_thread worker{db, e2e::flows::chain, o};
    ASSERT_TRUE(e2e::eventually([&] { return logged("the scheduler stopped: "); }, 5s));
    EXPECT_TRUE(logged("has no schedules")) << "the log says why";
    EXPECT_TRUE(logged("starting it again in 1 s"));
    c.execute("ALTER FUNCTION pgflow_cpp.run_due_schedules_hidden(integer) RENAME TO run_due_schedules");
    // The next start (after 1 or 2 s) finds the function: the scheduled runs start and complete.
    EXPECT_TRUE(e2e::eventually(
        [&] { return scalar(c, "SELECT count(*) FROM pgflow.runs WHERE status = 'completed'") >= 1; }, 15s));
}

TEST(schedules, a_scheduler_refused_by_the_server_at_its_start_ends_with_the_reason) {
    pgflow::scheduler s{pgflow::connection_options::from_environment().with_database("e2e_no_such_database"), quiet()};
    const auto ended = e2e::database_error_ending(s);
    ASSERT_TRUE(ended) << "the scheduler ran against a database that does not exist until it was stopped";
    EXPECT_EQ(ended->sqlstate(), "3D000") << ended->what();
    EXPECT_TRUE(ended->is_connection_refused_error());
}

TEST(schedules, client_api_adds_lists_pauses_and_removes) {
    e2e::database db;
    register_tick_flow(db);
    pgflow::schedules book{db.options()};
    const auto added = book.add("nightly", "tick", "0 2 * * *", {.time_zone = "Europe/Berlin"});
    EXPECT_EQ(added.kind, "flow");
    EXPECT_GT(added.next_run_at, std::chrono::system_clock::now());
    EXPECT_FALSE(added.last_run_at);
    book.add_prune("retention", "30 days", "@daily");
    const auto all = book.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].name, "nightly");
    EXPECT_EQ(all[1].retention, std::optional<std::string>("30 days"));
    EXPECT_FALSE(book.set_enabled("nightly", false).enabled);
    EXPECT_TRUE(book.remove("nightly"));
    EXPECT_FALSE(book.remove("nightly"));
    EXPECT_FALSE(book.find("nightly"));
    try {
        book.add("bad", "tick", "0 0 * * * * *");
        FAIL() << "a bad cron expression is refused";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
        EXPECT_NE(std::string(e.what()).find("7 fields"), std::string::npos) << e.what();
    }
}

}  // namespace
