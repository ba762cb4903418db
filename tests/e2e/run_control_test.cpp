// Run control end to end, with real workers: a cancelled run's handler sees its stop token within a
// second and nothing of the run completes after; resume runs only the map elements that did not
// complete; retry lineage; permanent errors; idempotent starts under concurrency; clear refusals.
// (Against pgflow 0.8.1's own schema: interop_test.cpp.)

#include "e2e_support.hpp"

#include <pgflow/dsl.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

using namespace e2e;

namespace {

using steady = std::chrono::steady_clock;

std::atomic<bool> sleeper_started{false};
std::atomic<steady::rep> sleeper_stopped_at{0};

// Sleeps `input` ms in slices, returning early (by throwing) when its stop token is requested.
constexpr auto sleeper =
    pgflow::flow<"rc_sleeper", int>(pgflow::flow_options{.max_attempts = 1, .timeout = 120},
                                    pgflow::step<"sleep">([](int ms, const pgflow::task_context& context) {
                                        if (ms >= 1000) sleeper_started = true;
                                        const auto until = steady::now() + std::chrono::milliseconds{ms};
                                        while (steady::now() < until) {
                                            if (context.stop_token.stop_requested()) {
                                                sleeper_stopped_at = steady::now().time_since_epoch().count();
                                                throw std::runtime_error("stopped");
                                            }
                                            std::this_thread::sleep_for(5ms);
                                        }
                                        return ms;
                                    }));

// 100 elements; in the "failing" phase element 70 fails (permanently) once the 0..69 have returned,
// and 71..99 wait for their stop token: the run fails with exactly 70 tasks completed.
std::atomic<int> element_calls{0}, low_returned{0};
std::atomic<bool> failing{false};
constexpr auto elements = pgflow::flow<"rc_elements", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 120},
    pgflow::map<"square">([](int x, const pgflow::task_context& context) {
        ++element_calls;
        if (failing && x >= 70) {
            if (x == 70) {
                while (low_returned < 70) std::this_thread::sleep_for(5ms);
                std::this_thread::sleep_for(500ms);  // their completions reach the database first
                throw pgflow::permanent_error("element 70 is bad");
            }
            const auto until = steady::now() + 30s;
            while (!context.stop_token.stop_requested() && steady::now() < until) std::this_thread::sleep_for(5ms);
            throw std::runtime_error("stopped");
        }
        if (x < 70) ++low_returned;
        return x * x;
    }),
    pgflow::step<"sum", pgflow::after<"square">>([](const std::vector<int>&, const std::vector<int>& squares) {
        long long total = 0;
        for (int s : squares) total += s;
        return total;
    }));

std::atomic<int> validate_calls{0};
constexpr auto orders = pgflow::flow<"rc_orders", int>(pgflow::flow_options{.max_attempts = 3, .base_delay = 1},
                                                       pgflow::step<"validate">([](int lines) {
                                                           ++validate_calls;
                                                           if (lines <= 0)
                                                               throw pgflow::permanent_error("order has no lines");
                                                           return lines;
                                                       }));

std::string error_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const pgflow::error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no pgflow::error";
    return {};
}

}  // namespace

TEST(run_control, a_cancelled_runs_handler_sees_its_stop_token_within_a_second_and_the_worker_goes_on) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(sleeper);
    worker_thread worker{db, sleeper};
    const auto run = client.start(sleeper, 30000);
    ASSERT_TRUE(eventually([] { return sleeper_started.load(); }));
    // A wait in progress ends on the run:cancelled event.
    std::atomic<steady::rep> wait_ended_at{0};
    std::jthread waiter([&] {
        pgflow::client own{db.options()};
        try {
            own.wait(run, 20s);
        } catch (const pgflow::run_failed_error&) {
            wait_ended_at = steady::now().time_since_epoch().count();
        }
    });
    std::this_thread::sleep_for(1500ms);  // the waiter's re-reads have backed off to 1 s
    const auto cancelled_at = steady::now();
    EXPECT_TRUE(client.cancel(run));
    ASSERT_TRUE(eventually([] { return sleeper_stopped_at.load() != 0; }, 5s, 5ms));
    const auto observed = steady::time_point{steady::duration{sleeper_stopped_at.load()}} - cancelled_at;
    EXPECT_LT(observed, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(observed).count() << " ms";
    waiter.join();
    const auto waited = steady::time_point{steady::duration{wait_ended_at.load()}} - cancelled_at;
    EXPECT_LT(waited, 500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms";

    EXPECT_FALSE(client.cancel(run)) << "cancelling twice is harmless";
    const auto state = client.status(run);
    EXPECT_EQ(state.status, pgflow::run_status::cancelled);
    EXPECT_TRUE(state.lineage.cancelled_at.has_value());
    const auto e = e2e::wait_for_failure(client, run, 5s);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->error_message(), "cancelled");
    EXPECT_EQ(std::string(e->what()), "pgflow run " + run.str() + " failed: cancelled");

    // The worker goes on with other runs; nothing of the cancelled one completes.
    EXPECT_EQ(client.wait(client.start(sleeper, 1), 20s), boost::json::parse(R"({"sleep":1})"));
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'completed'", run),
              0);
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'cancelled'", run),
              1);
}

TEST(run_control, resume_runs_only_the_missing_map_elements_and_gives_the_uninterrupted_output) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(elements);
    auto options = quiet_options();
    options.max_concurrent = 100;
    options.batch_size = 100;
    worker_thread worker{db, elements, options};
    std::vector<int> input;
    for (int i = 0; i < 100; ++i) input.push_back(i);

    failing = true;
    const auto failed = client.start(elements, input);
    EXPECT_THROW(client.wait(failed, 60s), pgflow::run_failed_error);
    auto c = db.connect();
    EXPECT_EQ(
        scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'completed'", failed),
        70);
    failing = false;

    element_calls = 0;
    const auto resumed = client.resume(elements, failed);
    const auto output = client.wait(resumed, 60s);
    EXPECT_EQ(element_calls.load(), 30) << "only the 30 elements that did not complete run again";

    const auto fresh = client.wait(client.start(elements, input), 60s);
    EXPECT_EQ(output, fresh);
    const auto lineage = client.status(resumed).lineage;
    EXPECT_EQ(lineage.restart_of, failed);
    EXPECT_EQ(lineage.restart_kind, "resume");
    EXPECT_EQ(client.status(failed).lineage.restarted_as, resumed);
}

TEST(run_control, a_permanent_error_fails_after_one_attempt_and_retry_records_lineage) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(orders);
    worker_thread worker{db, orders};
    validate_calls = 0;
    const auto run = client.start(orders, 0);
    const auto e = e2e::wait_for_failure(client, run);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->error_message(), "order has no lines");
    EXPECT_EQ(validate_calls.load(), 1);
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid", run), 1);

    const auto again = client.retry(run);
    EXPECT_NE(again, run);
    EXPECT_THROW(client.wait(again, 20s), pgflow::run_failed_error);
    EXPECT_EQ(client.status(again).lineage.restart_of, run);
    EXPECT_EQ(client.status(again).lineage.restart_kind, "retry");
    EXPECT_EQ(client.status(run).lineage.restarted_as, again);
    EXPECT_EQ(client.status(run).lineage.restarted_as_kind, "retry");
    const auto twice = error_of([&] { client.retry(run); });
    EXPECT_NE(twice.find("cannot retry run " + run.str()), std::string::npos) << twice;
    EXPECT_NE(twice.find("already restarted as run " + again.str()), std::string::npos) << twice;
}

TEST(run_control, concurrent_starts_with_one_idempotency_key_create_one_run) {
    database db;
    pgflow::client setup{db.options()};
    setup.ensure_registered(orders);
    std::vector<pgflow::run_id> ids(100);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < 100; ++i)
            threads.emplace_back([&, i] {
                pgflow::client own{db.options()};
                ids[i] = own.start(orders, i + 1, pgflow::start_options{.idempotency_key = "order-7"});
            });
    }
    EXPECT_EQ(std::set<pgflow::run_id>(ids.begin(), ids.end()).size(), 1U);
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.runs"), 1);
    EXPECT_EQ(setup.status(ids[0]).lineage.idempotency_key, "order-7");
    // Without a key, starts are as before.
    EXPECT_NE(setup.start(orders, 1), setup.start(orders, 1, pgflow::start_options{}));
}

TEST(run_control, refusals_name_the_run_and_its_state) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(orders);
    const pgflow::run_id unknown{std::string_view("00000000-0000-4000-8000-000000000001")};
    auto message = error_of([&] { client.cancel(unknown); });
    EXPECT_NE(message.find("cannot cancel run " + unknown.str()), std::string::npos) << message;
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
    EXPECT_NE(error_of([&] { client.retry(unknown); }).find("does not exist"), std::string::npos);

    const auto started = client.start(orders, 1);  // no worker: it stays started
    message = error_of([&] { client.resume(orders, started); });
    EXPECT_NE(message.find("cannot resume run " + started.str()), std::string::npos) << message;
    EXPECT_NE(message.find("is started"), std::string::npos) << message;
    {
        worker_thread worker{db, orders};
        client.wait(started, 20s);
    }
    message = error_of([&] { client.cancel(started); });
    EXPECT_NE(message.find("is completed"), std::string::npos) << message;
    EXPECT_EQ(client.status(started).status, pgflow::run_status::completed);
}
