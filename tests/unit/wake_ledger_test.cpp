// Which worker of a process gets a queue's wake-ups (wake_ledger, the rules of the process's queue
// listener): the longest-idle worker, kept wake-ups, the claim linger, drained claims, and a worker
// that leaves with a wake-up it did not take.
#include <pgflow/runtime/wake_ledger.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>

namespace {

using namespace std::chrono_literals;
using pgflow::detail::wake_ledger;
using time_point = wake_ledger::time_point;

const time_point t0{1h};

// Workers subscribed in order; woken() reads and clears a worker's flag, as its loop does.
template <std::size_t N>
struct process {
    std::array<pgflow::detail::runtime_wakeup, N> pipes;
    std::array<pgflow::detail::wake_subscriber, N> workers;
    wake_ledger ledger;
    process() {
        for (std::size_t i = 0; i < N; ++i) {
            workers[i].wake = &pipes[i];
            ledger.subscribe(&workers[i]);
        }
    }
    pgflow::detail::wake_subscriber* operator[](std::size_t i) { return &workers[i]; }
    bool woken(std::size_t i) { return workers[i].woken.exchange(false); }
};

TEST(wake_ledger, a_notification_goes_to_the_worker_idle_longest_or_is_kept) {
    process<2> p;
    EXPECT_FALSE(p.ledger.enter_idle(p[1], t0));
    EXPECT_FALSE(p.ledger.enter_idle(p[0], t0 + 1ms));
    p.ledger.notified(t0 + 2ms);
    EXPECT_TRUE(p.woken(1));
    EXPECT_FALSE(p.woken(0));
    p.ledger.notified(t0 + 3ms);
    EXPECT_TRUE(p.woken(0));
    p.ledger.notified(t0 + 4ms);  // nobody idle: kept for the first who looks
    EXPECT_EQ(p.ledger.kept(), 1U);
    EXPECT_TRUE(p.ledger.enter_idle(p[1], t0 + 5ms));
    EXPECT_EQ(p.ledger.kept(), 0U);
}

TEST(wake_ledger, it_keeps_at_most_one_wake_up_per_worker) {
    process<2> p;
    for (int i = 0; i < 5; ++i) p.ledger.notified(t0 + i * 1ms);
    EXPECT_EQ(p.ledger.kept(), 2U);
    EXPECT_TRUE(p.ledger.take_kept(t0 + 10ms));
    EXPECT_EQ(p.ledger.kept(), 1U);  // kept outside a linger: one claim each
}

TEST(wake_ledger, a_linger_keeps_every_notification_and_one_idle_worker_gets_them_all_at_its_end) {
    process<3> p;
    p.ledger.enter_idle(p[1], t0);
    EXPECT_FALSE(p.ledger.linger(t0 + 25ms));  // nothing kept yet: the listener's wait stands
    p.ledger.notified(t0 + 1ms);
    p.ledger.notified(t0 + 2ms);
    EXPECT_FALSE(p.woken(1));
    EXPECT_EQ(p.ledger.kept(), 2U);
    EXPECT_FALSE(p.ledger.enter_idle(p[2], t0 + 3ms));  // no kept wake-up is taken during it
    EXPECT_EQ(p.ledger.release_kept(t0 + 10ms), std::optional{t0 + 25ms});
    EXPECT_FALSE(p.woken(1));
    EXPECT_EQ(p.ledger.release_kept(t0 + 25ms), std::nullopt);
    EXPECT_TRUE(p.woken(1));
    EXPECT_FALSE(p.woken(2));
    EXPECT_EQ(p.ledger.kept(), 0U);  // one claim begins after both notifications
}

TEST(wake_ledger, a_linger_begun_with_wake_ups_kept_tells_the_listener_to_time_its_wait) {
    process<2> p;
    p.ledger.notified(t0);
    EXPECT_TRUE(p.ledger.linger(t0 + 25ms));
    EXPECT_FALSE(p.ledger.take_kept(t0 + 1ms));
    EXPECT_EQ(p.ledger.release_kept(t0 + 1ms), std::optional{t0 + 25ms});
}

TEST(wake_ledger, a_worker_that_takes_what_a_linger_kept_answers_all_of_it) {
    process<3> p;
    p.ledger.linger(t0 + 25ms);
    for (int i = 0; i < 3; ++i) p.ledger.notified(t0 + i * 1ms);
    EXPECT_EQ(p.ledger.kept(), 3U);
    EXPECT_TRUE(p.ledger.take_kept(t0 + 30ms));
    EXPECT_EQ(p.ledger.kept(), 0U);
    EXPECT_FALSE(p.ledger.take_kept(t0 + 31ms));
}

TEST(wake_ledger, a_completion_that_queues_next_steps_ends_the_linger_at_once) {
    process<2> p;
    p.ledger.enter_idle(p[0], t0);
    p.ledger.linger(t0 + 25ms);
    p.ledger.notified(t0 + 1ms);
    p.ledger.end_linger(t0 + 2ms);
    EXPECT_TRUE(p.woken(0));
    EXPECT_EQ(p.ledger.kept(), 0U);
    p.ledger.enter_idle(p[1], t0 + 3ms);
    p.ledger.notified(t0 + 4ms);  // the linger is over: handed out at once
    EXPECT_TRUE(p.woken(1));
}

TEST(wake_ledger, a_drained_claim_answers_the_wake_ups_kept_before_it_began) {
    process<2> p;
    p.ledger.notified(t0 + 5ms);
    p.ledger.drained(t0 + 4ms);  // began before that notification: it may not have seen its task
    EXPECT_EQ(p.ledger.kept(), 1U);
    p.ledger.drained(t0 + 6ms);
    EXPECT_EQ(p.ledger.kept(), 0U);
}

TEST(wake_ledger, a_full_claim_passes_a_wake_up_on_to_the_next_idle_worker) {
    process<3> p;
    p.ledger.enter_idle(p[2], t0);
    p.ledger.enter_idle(p[1], t0 + 1ms);
    p.ledger.pass_on();
    EXPECT_TRUE(p.woken(2));
    EXPECT_FALSE(p.woken(1));
    p.ledger.leave_idle(p[1]);
    p.ledger.pass_on();  // nobody idle: nothing to pass on, nothing kept
    EXPECT_FALSE(p.woken(1));
    EXPECT_EQ(p.ledger.kept(), 0U);
}

TEST(wake_ledger, a_worker_that_leaves_with_a_wake_up_it_did_not_take_hands_it_on) {
    process<3> p;
    p.ledger.enter_idle(p[0], t0);
    p.ledger.enter_idle(p[1], t0);
    p.ledger.notified(t0 + 1ms);
    EXPECT_FALSE(p.ledger.unsubscribe(p[0], t0 + 2ms));  // stopped before claiming
    EXPECT_TRUE(p.woken(1));
    EXPECT_FALSE(p.ledger.enter_idle(p[2], t0 + 3ms));
    p.ledger.notified(t0 + 4ms);
    EXPECT_TRUE(p.woken(2));
    p.ledger.notified(t0 + 5ms);  // nobody idle: kept, at most one per worker left
    p.ledger.notified(t0 + 6ms);
    p.ledger.notified(t0 + 7ms);
    EXPECT_EQ(p.ledger.kept(), 2U);
    p.ledger.unsubscribe(p[1], t0 + 8ms);  // it had taken its wake-up: nothing to hand on
    EXPECT_EQ(p.ledger.kept(), 1U);
    p.ledger.unsubscribe(p[2], t0 + 9ms);  // the last worker: nobody to hand it to
    EXPECT_EQ(p.ledger.kept(), 0U);
    EXPECT_EQ(p.ledger.first_subscriber(), nullptr);
}

TEST(wake_ledger, a_stopping_worker_hands_on_what_it_was_handed_and_gets_no_more) {
    process<2> p;
    p.ledger.enter_idle(p[0], t0);
    p.ledger.enter_idle(p[1], t0);
    p.ledger.notified(t0 + 1ms);
    p.ledger.stop_taking(p[0], t0 + 2ms);
    EXPECT_TRUE(p.woken(1));
    EXPECT_FALSE(p.woken(0));
    p.ledger.enter_idle(p[0], t0 + 3ms);  // idle again, as a stopping worker's loop may be
    p.ledger.stop_taking(p[0], t0 + 3ms);
    p.ledger.enter_idle(p[1], t0 + 3ms);
    p.ledger.notified(t0 + 4ms);
    EXPECT_FALSE(p.woken(0));
    EXPECT_TRUE(p.woken(1));
    EXPECT_EQ(p.ledger.first_subscriber(), p[0]);  // still subscribed: its log is the listener's
}

TEST(wake_ledger, a_stopping_worker_that_took_a_wake_up_and_sent_no_claim_hands_it_on) {
    process<2> p;
    EXPECT_FALSE(p.ledger.enter_idle(p[1], t0));
    p.ledger.stop_taking(p[0], t0 + 1ms, /*owed=*/true);
    EXPECT_TRUE(p.woken(1));
}

TEST(wake_ledger, what_a_stopping_worker_hands_on_during_a_linger_is_released_at_its_end) {
    process<2> p;
    p.ledger.enter_idle(p[0], t0);
    p.ledger.notified(t0 + 1ms);  // p0 woken
    EXPECT_FALSE(p.ledger.linger(t0 + 25ms));
    p.ledger.enter_idle(p[1], t0 + 2ms);
    EXPECT_TRUE(p.ledger.stop_taking(p[0], t0 + 3ms)) << "kept in the linger: the listener must time its wait";
    EXPECT_FALSE(p.woken(1));
    EXPECT_EQ(p.ledger.release_kept(t0 + 4ms), std::optional{t0 + 25ms});
    EXPECT_EQ(p.ledger.release_kept(t0 + 25ms), std::nullopt);
    EXPECT_TRUE(p.woken(1));
}

TEST(wake_ledger, after_a_reconnection_every_worker_looks_once) {
    process<2> p;
    p.ledger.enter_idle(p[0], t0);
    p.ledger.wake_everyone();
    EXPECT_TRUE(p.woken(0));
    EXPECT_TRUE(p.woken(1));
    p.ledger.notified(t0 + 1ms);  // nobody is idle any more
    EXPECT_EQ(p.ledger.kept(), 1U);
}

}  // namespace
