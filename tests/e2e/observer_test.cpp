// worker_options::observer end to end: the hooks fire on claims and around each handler with the
// task's flow, step, run, index and attempt, the outcome, error and duration; start and end run on
// the handler's thread, claims on the worker's; a hook that throws does not disturb the worker.

#include "e2e_support.hpp"

#include <pgflow/dsl.hpp>
#include <pgflow/task_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace e2e;

namespace {

std::mutex handler_threads_mutex;
std::map<std::tuple<std::string, std::string, int>, std::thread::id> handler_threads;  // (run, step, attempt) → thread

void note_handler_thread(const pgflow::task_context& context) {
    std::lock_guard lock(handler_threads_mutex);
    handler_threads[{std::string(context.run_id), std::string(context.step_slug), context.attempt}] =
        std::this_thread::get_id();
}

// "flaky" fails its first attempt; a negative input fails "first" permanently.
constexpr auto observed = pgflow::flow<"obs_flow", int>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1},
    pgflow::step<"first">([](int n, const pgflow::task_context& context) {
        note_handler_thread(context);
        if (n < 0) throw pgflow::permanent_error("negative input");
        std::this_thread::sleep_for(30ms);
        return n * 2;
    }),
    pgflow::step<"flaky", pgflow::after<"first">>([](int, int doubled, const pgflow::task_context& context) {
        note_handler_thread(context);
        if (context.attempt == 1) throw std::runtime_error("flaky on its first attempt");
        return doubled + 1;
    }));

struct recorded_start {
    std::string flow, step, run;
    int index = -1, attempt = 0;
    std::thread::id thread;
};
struct recorded_end {
    std::string flow, step, run, error;
    int index = -1, attempt = 0;
    pgflow::task_outcome outcome{};
    std::chrono::nanoseconds duration{};
    std::chrono::system_clock::time_point started_at;
    std::thread::id thread;
};

struct recorder {
    std::mutex mutex;
    std::vector<pgflow::claim_event> claims;
    std::set<std::thread::id> claim_threads;
    std::vector<recorded_start> starts;
    std::vector<recorded_end> ends;

    pgflow::worker_observer observer() {
        pgflow::worker_observer o;
        o.on_claim = [this](const pgflow::claim_event& e) {
            std::lock_guard lock(mutex);
            claims.push_back(e);
            claim_threads.insert(std::this_thread::get_id());
        };
        o.on_task_start = [this](const pgflow::task_start_event& e) {
            std::lock_guard lock(mutex);
            starts.push_back({std::string(e.flow_slug), std::string(e.step_slug), std::string(e.run_id), e.task_index,
                              e.attempt, std::this_thread::get_id()});
        };
        o.on_task_end = [this](const pgflow::task_end_event& e) {
            std::lock_guard lock(mutex);
            ends.push_back({std::string(e.flow_slug), std::string(e.step_slug), std::string(e.run_id),
                            std::string(e.error_message), e.task_index, e.attempt, e.outcome, e.duration, e.started_at,
                            std::this_thread::get_id()});
        };
        return o;
    }
};

}  // namespace

TEST(observer, hooks_report_claims_and_each_attempt_with_its_outcome_on_the_right_threads) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(observed);
    recorder rec;
    auto options = quiet_options();
    options.batch_size = 4;
    options.observer = rec.observer();
    const auto before = std::chrono::system_clock::now();
    worker_thread worker{db, observed, options};
    const auto run = client.start(observed, 5);
    EXPECT_EQ(client.wait(run, 30s), boost::json::parse(R"({"flaky":11})"));
    const auto doomed = client.start(observed, -1);
    EXPECT_THROW(client.wait(doomed, 30s), pgflow::run_failed_error);
    worker.stop();

    std::lock_guard lock(rec.mutex);
    ASSERT_EQ(rec.starts.size(), 4U);
    ASSERT_EQ(rec.ends.size(), 4U);
    struct expected {
        std::string step, run;
        int attempt;
        pgflow::task_outcome outcome;
        std::string error;
    };
    const std::vector<expected> want{
        {"first", run.str(), 1, pgflow::task_outcome::completed, ""},
        {"flaky", run.str(), 1, pgflow::task_outcome::failed, "flaky on its first attempt"},
        {"flaky", run.str(), 2, pgflow::task_outcome::completed, ""},
        {"first", doomed.str(), 1, pgflow::task_outcome::failed_permanently, "negative input"},
    };
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE("attempt " + std::to_string(i));
        const auto& s = rec.starts[i];
        const auto& e = rec.ends[i];
        EXPECT_EQ(s.flow, "obs_flow");
        EXPECT_EQ(s.step, want[i].step);
        EXPECT_EQ(s.run, want[i].run);
        EXPECT_EQ(s.index, 0);
        EXPECT_EQ(s.attempt, want[i].attempt);
        EXPECT_EQ(e.flow, "obs_flow");
        EXPECT_EQ(e.step, want[i].step);
        EXPECT_EQ(e.run, want[i].run);
        EXPECT_EQ(e.attempt, want[i].attempt);
        EXPECT_EQ(e.outcome, want[i].outcome) << pgflow::to_string(e.outcome);
        EXPECT_EQ(e.error, want[i].error);
        EXPECT_GE(e.started_at, before);
        EXPECT_LE(e.started_at, std::chrono::system_clock::now());
        EXPECT_LT(e.duration, 10s);
        // Start and end run on the handler's own thread.
        EXPECT_EQ(s.thread, e.thread);
        std::lock_guard threads(handler_threads_mutex);
        EXPECT_EQ(s.thread, (handler_threads[{want[i].run, want[i].step, want[i].attempt}]));
        EXPECT_EQ(rec.claim_threads.count(s.thread), 0U) << "claims are reported on the worker's thread";
    }
    EXPECT_GE(rec.ends[0].duration, 30ms) << "the first step sleeps 30 ms";
    EXPECT_EQ(rec.claim_threads.size(), 1U);

    int claimed = 0;
    for (const auto& c : rec.claims) {
        EXPECT_EQ(c.flow_slug, "obs_flow");
        EXPECT_EQ(c.worker_id, worker.get().id());
        EXPECT_GE(c.requested, 1);
        EXPECT_LE(c.requested, 4) << "at most batch_size";
        EXPECT_LE(c.tasks, c.messages_read);
        EXPECT_LE(c.messages_read, c.requested);
        claimed += c.tasks;
    }
    EXPECT_EQ(claimed, 4) << "every attempt was claimed once";
}

TEST(observer, hooks_that_throw_are_logged_once_and_the_worker_carries_on) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(observed);
    std::mutex log_mutex;
    std::vector<std::string> log;
    std::atomic<int> calls{0};
    pgflow::worker_options options;
    options.log = [&](std::string_view line) {
        std::lock_guard lock(log_mutex);
        log.emplace_back(line);
    };
    options.observer.on_claim = [&](const pgflow::claim_event&) {
        ++calls;
        throw std::runtime_error("claim hook broke");
    };
    options.observer.on_task_start = [&](const pgflow::task_start_event&) {
        ++calls;
        throw 42;
    };
    options.observer.on_task_end = [&](const pgflow::task_end_event&) {
        ++calls;
        throw std::logic_error("end hook broke");
    };
    {
        worker_thread worker{db, observed, options};
        EXPECT_EQ(client.wait(client.start(observed, 1), 30s), boost::json::parse(R"({"flaky":3})"));
    }
    EXPECT_GE(calls.load(), 3 * 2 + 1);
    std::lock_guard lock(log_mutex);
    int hook_lines = 0;
    for (const auto& line : log)
        if (line.find("worker_observer::") != std::string::npos) {
            ++hook_lines;
            EXPECT_NE(line.find("the worker carries on"), std::string::npos) << line;
        }
    EXPECT_EQ(hook_lines, 1);
}
