#pragma once
// The flows the end-to-end tests run, shared by the test programs and the pgflow_e2e_worker helper
// (so that a worker process and the test agree on every flow's shape). Short timeouts and delays
// keep the suite fast.

#include <pgflow/dynamic_flow.hpp>
#include <pgflow/dsl.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace e2e::flows {

// a → b → c
inline constexpr auto chain = pgflow::flow<"e2e_chain", int>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::step<"a">([](int n) { return n + 1; }),
    pgflow::step<"b", pgflow::after<"a">>([](int, int a) { return a * 2; }),
    pgflow::step<"c", pgflow::after<"b">>([](int n, int b) { return std::to_string(n) + ":" + std::to_string(b); }));

// top → {left, right} → join
inline constexpr auto diamond = pgflow::flow<"e2e_diamond", int>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::step<"top">([](int n) { return n * 10; }),
    pgflow::step<"left", pgflow::after<"top">>([](int, int top) { return top + 1; }),
    pgflow::step<"right", pgflow::after<"top">>([](int, int top) { return top + 2; }),
    pgflow::step<"join", pgflow::after<"left", "right">>([](int n, int left, int right) {
        return std::vector<int>{n, left, right};
    }));

// A root map over the input array.
inline constexpr auto squares = pgflow::flow<"e2e_squares", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::map<"square">([](int x) { return x * x; }));

// map → map → single; with an empty input every step is taskless.
inline constexpr auto map_chain = pgflow::flow<"e2e_map_chain", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::map<"doubled">([](int x) { return 2 * x; }),
    pgflow::map<"plus_one", pgflow::after<"doubled">>([](int x) { return x + 1; }),
    pgflow::step<"total", pgflow::after<"plus_one">>([](const std::vector<int>&, const std::vector<int>& xs) {
        int sum = 0;
        for (int x : xs) sum += x;
        return sum;
    }));

// `later` becomes visible 2 s after `first` completes.
inline constexpr auto delayed = pgflow::flow<"e2e_delayed", int>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::step<"first">([](int n) { return n; }),
    pgflow::step<"later", pgflow::after<"first">>(pgflow::step_options{.start_delay = 2},
                                                  [](int, int first) { return first + 1; }));

// Fails its first two attempts; pgflow retries after base_delay·2^attempt = 2 s, then 4 s.
struct attempt_log {
    std::mutex mutex;
    std::vector<std::pair<int, std::chrono::steady_clock::time_point>> attempts;
    static attempt_log& instance() {
        static attempt_log log;
        return log;
    }
};
inline constexpr auto flaky = pgflow::flow<"e2e_flaky", int>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1},
    pgflow::step<"flaky">([](int n, const pgflow::task_context& context) {
        {
            auto& log = attempt_log::instance();
            std::lock_guard lock(log.mutex);
            log.attempts.emplace_back(context.attempt, std::chrono::steady_clock::now());
        }
        if (context.attempt < 3)
            throw std::runtime_error("flaky: attempt " + std::to_string(context.attempt) + " fails");
        return n + context.attempt;
    }));

// Always fails: one attempt, then the run fails.
inline constexpr auto doomed = pgflow::flow<"e2e_doomed", int>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::step<"prepare">([](int n) { return n; }),
    pgflow::step<"explode", pgflow::after<"prepare">>(
        [](int, int) -> int { throw std::runtime_error("explode: the reactor is out of coolant"); }));

// The first attempt sleeps for `input` milliseconds (long enough to kill or stop the worker in the
// middle); later attempts return at once.
inline constexpr auto sleep_on_first_attempt = [](int sleep_ms, const pgflow::task_context& context) {
    if (context.attempt == 1) std::this_thread::sleep_for(std::chrono::milliseconds{sleep_ms});
    return context.attempt;
};

// timeout 1 s: a task whose worker died is claimed again 1 + 2 s after it started.
inline constexpr auto slow =
    pgflow::flow<"e2e_slow", int>(pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 1},
                                  pgflow::step<"slow">(sleep_on_first_attempt));

// The same with a 10 s timeout, for a test whose worker must reconnect and report before the
// message reappears (timeout + 2 s): 1 + 2 s was not always enough on a loaded machine.
inline constexpr auto slow_patient =
    pgflow::flow<"e2e_slow_patient", int>(pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 10},
                                          pgflow::step<"slow">(sleep_on_first_attempt));

// Many small tasks for several workers at once.
inline constexpr auto fanout = pgflow::flow<"e2e_fanout", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 30}, pgflow::map<"work">([](int x) {
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
        return x + 1;
    }),
    pgflow::step<"count", pgflow::after<"work">>(
        [](const std::vector<int>&, const std::vector<int>& done) { return static_cast<int>(done.size()); }));

// Three steps that take a while, for restarting the server under running tasks.
inline constexpr auto steady = pgflow::flow<"e2e_steady", int>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 2}, pgflow::step<"one">([](int n) {
        std::this_thread::sleep_for(std::chrono::milliseconds{150});
        return n + 1;
    }),
    pgflow::step<"two", pgflow::after<"one">>([](int, int one) {
        std::this_thread::sleep_for(std::chrono::milliseconds{150});
        return one + 1;
    }),
    pgflow::step<"three", pgflow::after<"two">>([](int, int two) {
        std::this_thread::sleep_for(std::chrono::milliseconds{150});
        return two + 1;
    }));

// A gate that handlers of `hung` block on, ignoring their stop token, until a test opens it (at
// most a minute): handlers that do not return, filling a worker's threads.
struct hang_gate {
    std::mutex mutex;
    std::condition_variable opened;
    bool open = false;
    static hang_gate& instance() {
        static hang_gate gate;
        return gate;
    }
    void pass() {
        std::unique_lock lock(mutex);
        opened.wait_for(lock, std::chrono::minutes{1}, [&] { return open; });
    }
    void release() {
        {
            std::lock_guard lock(mutex);
            open = true;
        }
        opened.notify_all();
    }
};
// Every attempt hangs until the gate opens. timeout 1 s, two attempts, no retry delay.
inline constexpr auto hung = pgflow::flow<"e2e_hung", int>(
    pgflow::flow_options{.max_attempts = 2, .base_delay = 0, .timeout = 1}, pgflow::step<"hang">([](int n) {
        hang_gate::instance().pass();
        return n;
    }));

// Each task returns a string of `megabytes` MiB of 'x': big results to store.
inline constexpr auto big = pgflow::flow<"e2e_big", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 300},
    pgflow::map<"blob">([](int megabytes) { return std::string(static_cast<std::size_t>(megabytes) << 20, 'x'); }));

// The handler kills its worker process (as a segfault in a handler would).
inline constexpr auto crash = pgflow::flow<"e2e_crash", int>(pgflow::flow_options{.max_attempts = 1, .timeout = 1},
                                                             pgflow::step<"crash">([](int) -> int { std::abort(); }));

// A single trivial step: throughput and latency measurements.
inline constexpr auto echo = pgflow::flow<"e2e_echo", int>(pgflow::step<"echo">([](int n) { return n; }));

/// A dynamic flow whose first step returns an object where its dependent map needs an array.
inline pgflow::dynamic_flow type_violation() {
    pgflow::dynamic_flow f{"e2e_dyn_violation", pgflow::flow_options{.max_attempts = 1}};
    f.step("produce", [](const boost::json::value& in) -> boost::json::value {
         return boost::json::object{{"not", "an array"}, {"run", in.at("run")}};
     }).map("each", "produce", [](const boost::json::value& x) -> boost::json::value { return x; });
    return f;
}

/// A dynamic flow built the way an LLM planner would: a fetch step, a map over its pages, a report.
inline pgflow::dynamic_flow planned() {
    pgflow::dynamic_flow f{"e2e_dyn_planned"};
    f.step("fetch",
           [](const boost::json::value& in) -> boost::json::value {
               boost::json::array pages;
               for (int i = 0; i < in.at("run").at("pages").to_number<int>(); ++i)
                   pages.emplace_back("page " + std::to_string(i));
               return pages;
           })
        .map("summaries", "fetch",
             [](const boost::json::value& page, const pgflow::task_context& c) -> boost::json::value {
                 return boost::json::object{{"page", page}, {"index", c.task_index}};
             })
        .step("report", {"summaries", "fetch"}, [](const boost::json::value& in) -> boost::json::value {
            return boost::json::object{{"pages", in.at("fetch").as_array().size()},
                                       {"summaries", in.at("summaries")},
                                       {"title", in.at("run").at("title")}};
        });
    return f;
}

}  // namespace e2e::flows
