#pragma once
// The flows of the flow-control end-to-end tests (limits_test.cpp), shared with their worker
// program (limits_worker_main.cpp) so that worker processes and the test agree on every flow.
// Handlers sleep for the milliseconds their input says, so that the tests can read concurrency
// from the tasks' started_at / completed_at intervals.

#include <pgflow/dsl.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <thread>
#include <vector>

namespace e2e::limits_flows {

inline int sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds{ms});
    return ms;
}

/// A map whose tasks run at most 3 at a time, however many workers poll.
inline constexpr auto limited = pgflow::flow<"e2e_limited", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 30},
    pgflow::flow_controls<pgflow::step_limits<"work", pgflow::concurrency<3>>>{},
    pgflow::map<"work">([](int ms) { return sleep_ms(ms); }));

/// One task per run, at most one at a time per customer ({"customer": {"id": …}, "ms": …}).
inline constexpr auto per_key = pgflow::flow<"e2e_per_key">(
    pgflow::flow_options{.max_attempts = 1, .timeout = 30},
    pgflow::flow_controls<pgflow::step_limits<"work", pgflow::concurrency_per_key<"customer.id", 1>>>{},
    pgflow::step<"work">([](const boost::json::value& in) {
        sleep_ms(static_cast<int>(in.at("ms").to_number<int>()));
        return in.at("customer");
    }));

/// A map whose task starts are limited to 5 per second (sliding window).
inline constexpr auto rated = pgflow::flow<"e2e_rated", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 30},
    pgflow::flow_controls<pgflow::rate_limit<"e2e_partner", 5, 1>,
                          pgflow::step_limits<"call", pgflow::rate_limited<"e2e_partner">>>{},
    pgflow::map<"call">([](int ms) { return sleep_ms(ms); }));

/// No limits: runs started with priorities.
inline constexpr auto prioritized = pgflow::flow<"e2e_prioritized", int>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 30}, pgflow::step<"work">([](int ms) { return sleep_ms(ms); }));

/// At most 2 runs in progress at once; the rest wait in start order.
inline constexpr auto few_runs = pgflow::flow<"e2e_few_runs", int>(
    pgflow::flow_options{.max_attempts = 1, .timeout = 30}, pgflow::flow_controls<pgflow::max_concurrent_runs<2>>{},
    pgflow::step<"first">([](int ms) { return sleep_ms(ms); }),
    pgflow::step<"second", pgflow::after<"first">>([](int ms, int) { return sleep_ms(ms); }));

}  // namespace e2e::limits_flows
