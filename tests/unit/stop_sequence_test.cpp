// The stages of a worker's stop (stop_sequence): the grace period, the handlers' stop tokens
// requested once, then giving up what still runs or is unreported.
#include <pgflow/runtime/stop_sequence.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using pgflow::detail::stop_sequence;
using time_point = stop_sequence::clock::time_point;

const time_point t0{1h};

stop_sequence stopping_at(time_point since, std::chrono::milliseconds grace = 5s) {
    stop_sequence s{1s};
    EXPECT_TRUE(s.begin(since, grace));
    return s;
}

TEST(stop_sequence, nothing_happens_before_a_stop) {
    stop_sequence s{1s};
    EXPECT_FALSE(s.stopping());
    const auto stage = s.at(t0 + 1h, 3, 2);
    EXPECT_FALSE(stage.cancel_handlers);
    EXPECT_FALSE(stage.give_up);
    EXPECT_FALSE(stage.done);
}

TEST(stop_sequence, the_first_request_sets_the_grace_period) {
    auto s = stopping_at(t0);
    EXPECT_TRUE(s.stopping());
    EXPECT_FALSE(s.begin(t0 + 3s, 5s));
    EXPECT_EQ(s.next_due(), t0 + 5s);
}

TEST(stop_sequence, a_worker_with_nothing_running_or_unreported_is_done_at_once) {
    auto s = stopping_at(t0);
    const auto stage = s.at(t0, 0, 0);
    EXPECT_TRUE(stage.done);
    EXPECT_FALSE(stage.cancel_handlers);
    EXPECT_FALSE(stage.give_up);
}

TEST(stop_sequence, running_handlers_get_the_grace_period_then_their_stop_tokens_once) {
    auto s = stopping_at(t0);
    EXPECT_FALSE(s.at(t0 + 4999ms, 2, 0).cancel_handlers);
    EXPECT_TRUE(s.at(t0 + 5s, 2, 0).cancel_handlers);
    EXPECT_FALSE(s.at(t0 + 5500ms, 2, 0).cancel_handlers);  // said once
    EXPECT_EQ(s.next_due(), t0 + 6s);                       // the loop next wakes to give up
    EXPECT_FALSE(s.at(t0 + 5999ms, 2, 0).give_up);
    const auto late = s.at(t0 + 6s, 2, 0);
    EXPECT_TRUE(late.give_up);
    EXPECT_FALSE(late.done);
}

TEST(stop_sequence, handlers_that_return_within_the_grace_period_end_the_stop_when_reported) {
    auto s = stopping_at(t0);
    EXPECT_FALSE(s.at(t0 + 1s, 0, 3).done);  // results still to report
    EXPECT_TRUE(s.at(t0 + 2s, 0, 0).done);
    EXPECT_EQ(s.next_due(), t0 + 5s);  // no stop token was requested
}

TEST(stop_sequence, unreported_results_are_given_up_after_the_grace_period_and_a_second) {
    auto s = stopping_at(t0, 2s);
    const auto in_grace = s.at(t0 + 2s, 0, 4);
    EXPECT_FALSE(in_grace.cancel_handlers);  // nothing runs: no token to request
    EXPECT_FALSE(in_grace.give_up);
    EXPECT_TRUE(s.at(t0 + 3s, 0, 4).give_up);
}

TEST(stop_sequence, the_grace_period_counts_from_the_request_not_from_when_it_was_noticed) {
    auto s = stopping_at(t0 - 4s);  // requested during a long round trip
    EXPECT_TRUE(s.at(t0 + 1s, 1, 0).cancel_handlers);
}

}  // namespace
