#pragma once
// The flows of the end-to-end tests of steps without handlers (waits_test.cpp): a signal, a sleep,
// subflows. Shared with the pgflow_e2e_worker helper, which runs e2e_approval in processes.

#include <pgflow/dsl.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2e::wait_flows {

struct Approval {
    bool approved = false;
    std::string by;
};

}  // namespace e2e::wait_flows

BOOST_HANA_ADAPT_STRUCT(e2e::wait_flows::Approval, approved, by);

namespace e2e::wait_flows {

// draft → approval (a signal carrying an Approval) → decide.
inline constexpr auto approval = pgflow::flow<"e2e_approval", int>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::step<"draft">([](int n) { return n * 100; }),
    pgflow::signal<"approval", pgflow::after<"draft">, Approval>(),
    pgflow::step<"decide", pgflow::after<"draft", "approval">>([](int, int amount, const Approval& a) {
        return std::string(a.approved ? "approved " : "rejected ") + std::to_string(amount) + " by " + a.by;
    }));

// nap sleeps `input` seconds from when a worker reaches it; woke reports when it woke.
inline constexpr auto nap = pgflow::flow<"e2e_nap", int>(
    pgflow::flow_options{.max_attempts = 1},
    pgflow::sleep<"nap">([](int seconds) { return std::chrono::seconds{seconds}; }),
    pgflow::step<"woke", pgflow::after<"nap">>([](int, const std::string& at) { return at; }));

// A child flow: ten times its input.
inline constexpr auto tenfold = pgflow::flow<"e2e_tenfold", int>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::step<"times_ten">([](int x) { return x * 10; }));

// One child run of e2e_tenfold per element.
inline constexpr auto tenfold_all = pgflow::flow<"e2e_tenfold_all", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 1}, pgflow::subflow_map<"children">(tenfold));

// A child flow whose step fails while child_failures_left > 0 (one attempt: the child run fails).
inline std::atomic<int> child_failures_left{0};
inline constexpr auto flaky_child =
    pgflow::flow<"e2e_flaky_child", int>(pgflow::flow_options{.max_attempts = 1}, pgflow::step<"charge">([](int cents) {
                                             if (child_failures_left.fetch_sub(1) > 0)
                                                 throw std::runtime_error("card declined");
                                             return cents;
                                         }));

// The parent retries its failed child once, after 1 s, as a new child run.
inline constexpr auto retried_parent = pgflow::flow<"e2e_retried_parent", int>(
    pgflow::flow_options{.max_attempts = 1},
    pgflow::subflow<"pay">(pgflow::step_options{.max_attempts = 2, .base_delay = 1}, flaky_child));

}  // namespace e2e::wait_flows
