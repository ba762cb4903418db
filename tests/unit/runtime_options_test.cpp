// Settings refused or kept before any connection: worker_options and scheduler_options validation,
// client::wait's timeout (saturating deadline, negative refused), and the key that decides which
// workers share a queue listener; stop_on_signals refusing a signal it cannot handle; a query parameter libpq cannot carry;
// when the claim linger holds claims back (claim_linger_policy).
#include <pgflow/client.hpp>
#include <pgflow/pq/parameters.hpp>
#include <pgflow/runtime/claims.hpp>
#include <pgflow/runtime/queue_listener.hpp>
#include <pgflow/runtime/time.hpp>
#include <pgflow/scheduler.hpp>
#include <pgflow/signals.hpp>
#include <pgflow/worker.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A server that is not there: connecting fails at once (no such socket directory).
const pgflow::connection_options nowhere{"host=/nonexistent-pgflow-unit-test"};

// The message of the invalid_argument_error that `f` throws; empty (and a failure) otherwise.
template <class F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const pgflow::invalid_argument_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not an invalid_argument_error: " << e.what();
        return {};
    }
    ADD_FAILURE() << "accepted";
    return {};
}

void make_worker(const pgflow::worker_options& o) {
    const pgflow::worker w{nowhere, "flow",
                           [](std::string_view, const boost::json::value& v, const pgflow::task_context&) { return v; },
                           o};
}

std::string worker_refusal(const pgflow::worker_options& o) {
    return refusal([&] { make_worker(o); });
}

TEST(worker_options, each_refusal_names_the_option_and_the_value_given) {
    pgflow::worker_options o;
    o.batch_size = 0;
    EXPECT_EQ(worker_refusal(o), "pgflow: worker_options.batch_size must be positive (got 0)");
    o = {};
    o.visibility_timeout = -3s;
    EXPECT_EQ(worker_refusal(o), "pgflow: worker_options.visibility_timeout must be positive (got -3 s)");
    o = {};
    o.max_output_bytes = 0;
    EXPECT_EQ(worker_refusal(o), "pgflow: worker_options.max_output_bytes must be positive (got 0)");
    EXPECT_NO_THROW(make_worker({}));
}

TEST(worker_options, poll_interval_must_lie_between_1_ms_and_max_poll) {
    pgflow::worker_options o;
    o.poll_interval = 3000ms;  // max_poll 2000 ms: std::clamp's bounds would be reversed
    EXPECT_EQ(worker_refusal(o),
              "pgflow: worker_options.poll_interval must be between 1 ms and max_poll (2000 ms) (got 3000 ms)");
    o.poll_interval = 0ms;  // a busy loop while a needed row is locked elsewhere
    EXPECT_EQ(worker_refusal(o),
              "pgflow: worker_options.poll_interval must be between 1 ms and max_poll (2000 ms) (got 0 ms)");
    o.poll_interval = 1ms;  // both bounds are allowed
    EXPECT_NO_THROW(make_worker(o));
    o.poll_interval = o.max_poll;
    EXPECT_NO_THROW(make_worker(o));
}

TEST(worker_options, claim_linger_must_lie_between_0_and_max_poll) {
    pgflow::worker_options o;
    o.claim_linger = -1ms;
    EXPECT_EQ(worker_refusal(o),
              "pgflow: worker_options.claim_linger must be between 0 and max_poll (2000 ms) (got -1 ms)");
    o.claim_linger = 2001ms;  // longer than the idle pause: notifications would be slower than polling
    EXPECT_EQ(worker_refusal(o),
              "pgflow: worker_options.claim_linger must be between 0 and max_poll (2000 ms) (got 2001 ms)");
    o.claim_linger = 0ms;  // both bounds are allowed
    EXPECT_NO_THROW(make_worker(o));
    o.claim_linger = o.max_poll;
    EXPECT_NO_THROW(make_worker(o));
}

TEST(worker_options, claim_linger_defaults_to_25_ms) { EXPECT_EQ(pgflow::worker_options{}.claim_linger, 25ms); }

using linger_clock = pgflow::detail::claim_linger_policy::clock;

TEST(claim_linger_policy, the_first_claim_and_a_trickle_of_starts_are_not_held_back) {
    pgflow::detail::claim_linger_policy linger{25ms};
    const linger_clock::time_point t0{1h};
    EXPECT_EQ(linger.claimed(1, true, t0), std::nullopt);  // nothing found before: no stream yet
    // One task in more than a linger: slower than one per linger.
    EXPECT_EQ(linger.claimed(1, true, t0 + 26ms), std::nullopt);
    // Two in 50 ms: one per 25 ms exactly, a stream.
    EXPECT_EQ(linger.claimed(2, true, t0 + 76ms), std::optional{t0 + 101ms});
}

TEST(claim_linger_policy, a_stream_lingers_after_drained_claims_only) {
    pgflow::detail::claim_linger_policy linger{25ms};
    const linger_clock::time_point t0{1h};
    linger.claimed(1, true, t0);
    // A full claim: the worker claims again at once.
    EXPECT_EQ(linger.claimed(10, false, t0 + 5ms), std::nullopt);
    EXPECT_EQ(linger.claimed(3, true, t0 + 10ms), std::optional{t0 + 35ms});
    EXPECT_EQ(linger.claimed(0, true, t0 + 12ms), std::nullopt);              // found nothing: changes nothing
    EXPECT_EQ(linger.claimed(1, true, t0 + 20ms), std::optional{t0 + 45ms});  // one in 10 ms since t0 + 10
}

TEST(claim_linger_policy, a_linger_that_gathered_one_task_is_not_repeated) {
    pgflow::detail::claim_linger_policy linger{25ms};
    const linger_clock::time_point t0{1h};
    linger.claimed(1, true, t0);
    EXPECT_EQ(linger.claimed(1, true, t0 + 10ms), std::optional{t0 + 35ms});
    // After the linger and a round trip: one task in 26 ms.
    EXPECT_EQ(linger.claimed(1, true, t0 + 36ms), std::nullopt);
    // Two in 26 ms: the stream goes on.
    EXPECT_EQ(linger.claimed(2, true, t0 + 62ms), std::optional{t0 + 87ms});
}

TEST(claim_linger_policy, an_older_schema_gets_no_linger) {
    const linger_clock::time_point t0{1h};
    auto linger = pgflow::detail::claim_linger_policy::for_schema(25ms, false);
    linger.claimed(1, true, t0);
    EXPECT_EQ(linger.claimed(5, true, t0 + 1ms), std::nullopt);
    linger = pgflow::detail::claim_linger_policy::for_schema(25ms, true);
    linger.claimed(1, true, t0);
    EXPECT_EQ(linger.claimed(5, true, t0 + 1ms), std::optional{t0 + 26ms});
}

TEST(claim_linger_policy, zero_never_lingers) {
    pgflow::detail::claim_linger_policy linger{0ms};
    const linger_clock::time_point t0{1h};
    linger.claimed(1, true, t0);
    EXPECT_EQ(linger.claimed(5, true, t0), std::nullopt) << "no linger for the process to keep wake-ups for";
}

TEST(worker_options, shutdown_grace_may_be_zero_not_negative_and_reconnect_delays_must_be_positive) {
    pgflow::worker_options o;
    o.shutdown_grace = -1ms;
    EXPECT_EQ(worker_refusal(o), "pgflow: worker_options.shutdown_grace must be zero or more (got -1 ms)");
    o.shutdown_grace = 0ms;
    EXPECT_NO_THROW(make_worker(o));
    o = {};
    o.reconnect_delay = 0ms;
    EXPECT_EQ(worker_refusal(o), "pgflow: worker_options.reconnect_delay must be positive (got 0 ms)");
    o = {};
    o.max_reconnect_delay = -5ms;
    EXPECT_EQ(worker_refusal(o), "pgflow: worker_options.max_reconnect_delay must be positive (got -5 ms)");
}

std::string scheduler_refusal(const pgflow::scheduler_options& o) {
    return refusal([&] { const pgflow::scheduler s{nowhere, o}; });
}

TEST(scheduler_options, refusals_name_the_values_given_and_reconnect_delay_must_be_positive) {
    pgflow::scheduler_options o;
    o.renew_interval = 3000ms;  // lease 3000 ms
    EXPECT_EQ(scheduler_refusal(o),
              "pgflow: scheduler_options.renew_interval must be positive and less than lease (3000 ms) (got 3000 ms)");
    o = {};
    o.lease = 0ms;
    EXPECT_EQ(scheduler_refusal(o),
              "pgflow: scheduler_options.lease must be positive and at most a day (86400000 ms) (got 0 ms)");
    o = {};
    o.lease = 24h + 1ms;  // the database refuses a longer lease at every election
    o.renew_interval = 1000ms;
    EXPECT_EQ(scheduler_refusal(o),
              "pgflow: scheduler_options.lease must be positive and at most a day (86400000 ms) (got 86400001 ms)");
    o = {};
    o.max_runs_per_tick = 0;
    EXPECT_EQ(scheduler_refusal(o), "pgflow: scheduler_options.max_runs_per_tick must be at least 1 (got 0)");
    o = {};
    o.reconnect_delay = 0ms;
    EXPECT_EQ(scheduler_refusal(o), "pgflow: scheduler_options.reconnect_delay must be positive (got 0 ms)");
    EXPECT_NO_THROW(pgflow::scheduler(nowhere, {}));
}

TEST(wait_timeout, a_timeout_too_long_for_the_clock_saturates_instead_of_wrapping) {
    using clock = std::chrono::steady_clock;
    const auto now = clock::now();
    EXPECT_EQ(pgflow::detail::deadline_after(milliseconds::max(), "t", now), clock::time_point::max());
    EXPECT_EQ(pgflow::detail::deadline_after(milliseconds{1500}, "t", now), now + milliseconds{1500});
    EXPECT_EQ(pgflow::detail::deadline_after(milliseconds{0}, "t", now), now);
    EXPECT_EQ(pgflow::detail::saturating_milliseconds(std::chrono::hours::max()), milliseconds::max());
    EXPECT_EQ(pgflow::detail::saturating_milliseconds(std::chrono::hours::min()), milliseconds::min());
    EXPECT_EQ(pgflow::detail::saturating_milliseconds(std::chrono::nanoseconds{1'500'001}), milliseconds{2});
    EXPECT_EQ(pgflow::detail::saturating_milliseconds(std::chrono::duration<double>{0.25}), milliseconds{250});
    EXPECT_EQ(pgflow::detail::saturating_milliseconds(std::chrono::microseconds{-1}), milliseconds{-1});
    EXPECT_EQ(refusal([] {
                  (void)pgflow::detail::saturating_milliseconds(
                      std::chrono::duration<double>{std::numeric_limits<double>::quiet_NaN()});
              }),
              "pgflow: a timeout is NaN");
}

TEST(wait_timeout, a_negative_timeout_is_refused_before_connecting) {
    pgflow::client client{nowhere};
    const auto id = pgflow::new_run_id();
    EXPECT_EQ(refusal([&] { client.wait(id, milliseconds{-5}); }),
              "pgflow: client::wait: the timeout must not be negative (got -5 ms)");
    EXPECT_EQ(refusal([&] { client.wait(id, std::chrono::microseconds{-1}); }),
              "pgflow: client::wait: the timeout must not be negative (got -1 ms)");
    EXPECT_EQ(refusal([&] { client.wait(id, std::chrono::hours::min()); }),
              "pgflow: client::wait: the timeout must not be negative (got " +
                  std::to_string(milliseconds::min().count()) + " ms)");
}

TEST(queue_listener, workers_on_different_databases_of_one_server_get_different_listeners) {
    using pgflow::detail::listener_key;
    const pgflow::connection_options base{"host=/nonexistent-pgflow-unit-test port=5432"};
    EXPECT_NE(listener_key(base.with_database("a"), "ch"), listener_key(base.with_database("b"), "ch"));
    EXPECT_NE(listener_key(base, "ch"), listener_key(pgflow::connection_options(base).set("port", "5433"), "ch"));
    EXPECT_NE(listener_key(base, "ch"), listener_key(base, "other"));
    EXPECT_EQ(listener_key(base.with_database("a"), "ch"), listener_key(base.with_database("a"), "ch"));
    // The same settings set in another order, or another application_name: one listener.
    auto one = pgflow::connection_options(base).set("dbname", "a").set("user", "u");
    auto other = pgflow::connection_options(base).set("user", "u").set("dbname", "a");
    EXPECT_EQ(listener_key(one, "ch"), listener_key(other.with_application_name("pgflow worker x"), "ch"));

    // The registry itself (its listeners retry the missing server in the background until released).
    using pgflow::detail::runtime_queue_listener;
    const auto a = runtime_queue_listener::acquire(base.with_database("a"), "ch");
    const auto b = runtime_queue_listener::acquire(base.with_database("b"), "ch");
    EXPECT_NE(a, b);
    EXPECT_EQ(runtime_queue_listener::acquire(base.with_database("a"), "ch"), a);
}

TEST(stop_on_signals, refuses_a_signal_it_cannot_handle_and_leaves_the_process_as_it_was) {
    EXPECT_NE(refusal([] {
                  pgflow::stop_on_signals s{SIGUSR2, SIGKILL};
              }).find("cannot handle signal 9"),
              std::string::npos);
    // Nothing of the refused instance is left: another may be made, and SIGUSR2 is its again.
    pgflow::stop_on_signals signals{SIGUSR2};
    EXPECT_EQ(signals.received_signal(), 0);
    ASSERT_EQ(std::raise(SIGUSR2), 0);
    for (int i = 0; i < 1000 && !signals.stop_requested(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(signals.stop_requested());
    EXPECT_EQ(signals.received_signal(), SIGUSR2);
}

TEST(stop_on_signals, refuses_a_signal_given_twice) {
    EXPECT_EQ(refusal([] {
                  pgflow::stop_on_signals s{SIGUSR2, SIGUSR2};
              }),
              "pgflow: stop_on_signals: signal " + std::to_string(SIGUSR2) + " is given twice");
    pgflow::stop_on_signals signals{SIGUSR2};  // nothing was taken
}

TEST(stop_on_signals, a_new_instance_has_received_no_signal_yet) {
    {
        pgflow::stop_on_signals first{SIGUSR2};
        ASSERT_EQ(std::raise(SIGUSR2), 0);
        for (int i = 0; i < 1000 && !first.stop_requested(); ++i) std::this_thread::sleep_for(10ms);
        ASSERT_EQ(first.received_signal(), SIGUSR2);
    }
    pgflow::stop_on_signals second{SIGUSR2};
    EXPECT_EQ(second.received_signal(), 0) << "the first instance's signal is not the second's";
}

TEST(parameters, a_nul_in_a_text_value_is_refused_naming_the_parameter_and_the_value) {
    const std::string with_nul("key\0rest", 8);
    EXPECT_EQ(refusal([&] { pgflow::pq::parameters p(1, std::string("ok"), with_nul); }),
              "pgflow: parameter $3: a text value of 8 bytes contains a NUL character at byte 3, which PostgreSQL "
              "text cannot hold");
    const std::string long_value = std::string(50, 'x') + '\0';
    EXPECT_NE(refusal([&] { pgflow::pq::parameters p(long_value); }).find("at byte 50"), std::string::npos);
}

}  // namespace
