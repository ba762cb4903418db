// worker_options::claim_linger end to end: an idle worker claims a new task at once, and so does one
// whose previous claim found tasks long enough ago (a trickle of starts); under a stream (tasks
// arriving faster than one per linger) the notifications of the next starts wait out the linger
// and their tasks come in one claim, also when the process has other idle workers (they leave the
// notifications to the linger). A worker whose own completion queued the run's next step does not
// linger over it.

#include "e2e_support.hpp"

#include <pgflow/dsl.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace e2e;

namespace {

constexpr auto lingering = pgflow::flow<"linger_flow", int>(pgflow::step<"only">([](int n) { return n + 1; }));

constexpr auto chained =
    pgflow::flow<"linger_chain", int>(pgflow::step<"first">([](int n) { return n + 1; }),
                                      pgflow::step<"second", pgflow::after<"first">>([](int, int x) { return x * 2; }),
                                      pgflow::step<"third", pgflow::after<"second">>([](int, int x) { return x - 3; }));

constexpr auto linger = std::chrono::milliseconds{1500};

// The claims that found tasks, with when each was reported and by which worker; which workers
// have claimed at all (an empty claim too: a started worker's first).
struct claims_recorder {
    struct claim {
        clock::time_point at;
        std::string worker_id;
        int tasks = 0;
    };
    std::mutex mutex;
    std::vector<claim> claims;
    std::set<std::string> claimers;

    pgflow::worker_options options(std::chrono::milliseconds claim_linger = linger) {
        auto o = quiet_options();
        o.max_poll = std::max(o.max_poll, claim_linger);  // a linger may not exceed it
        o.claim_linger = claim_linger;
        o.observer.on_claim = [this](const pgflow::claim_event& e) {
            std::lock_guard lock(mutex);
            claimers.emplace(e.worker_id);
            if (e.tasks > 0) claims.push_back({clock::now(), std::string(e.worker_id), e.tasks});
        };
        return o;
    }
    std::vector<claim> taken() {
        std::lock_guard lock(mutex);
        return claims;
    }
    std::size_t claimer_count() {
        std::lock_guard lock(mutex);
        return claimers.size();
    }
};

// A database with the flow registered, a client, and the claims' record.
struct linger_setup {
    database db;
    pgflow::client client{db.options()};
    claims_recorder rec;
    linger_setup() { client.ensure_registered(lingering); }
    /// Starts a run of `lingering` on n and waits for its output, n + 1.
    void run(int n) {
        EXPECT_EQ(client.wait(client.start(lingering, n), 30s),
                  boost::json::value(boost::json::object{{"only", n + 1}}))
            << "run " << n;
    }
    /// After two claims of one task each (the second beginning a linger), starts runs on `inputs` in
    /// one call, waits for their outputs, and checks that the third claim took them all, at the
    /// linger's end.
    void expect_one_claim_for(const std::vector<int>& inputs, std::chrono::milliseconds linger_length) {
        const auto runs = client.start_many(lingering, inputs);
        for (std::size_t i = 0; i < runs.size(); ++i)
            EXPECT_EQ(client.wait(runs[i], 30s), boost::json::value(boost::json::object{{"only", inputs[i] + 1}}));
        const auto claims = rec.taken();
        ASSERT_EQ(claims.size(), 3U) << "one claim for each of the first two runs, one for the rest";
        EXPECT_EQ(claims[0].tasks, 1);
        EXPECT_EQ(claims[1].tasks, 1);
        EXPECT_EQ(claims[2].tasks, static_cast<int>(inputs.size()));
        EXPECT_GE(claims[2].at - claims[1].at, linger_length * 9 / 10);
    }
};

}  // namespace

TEST(claim_linger, an_idle_worker_claims_at_once_and_under_a_stream_the_starts_during_its_linger_come_in_one_claim) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    worker_thread worker{db, lingering, rec.options()};

    // Two runs one after the other: both claimed at once (the first claim has no earlier one to
    // follow), and the second, one task within a linger of the first, makes a stream.
    for (int i = 1; i <= 2; ++i) {
        const auto started = clock::now();
        setup.run(i);
        EXPECT_LT(clock::now() - started, linger) << "run " << i << " waited for a linger";
    }

    // Four runs started right after that claim, in one call: their tasks wait for the linger to end.
    setup.expect_one_claim_for({10, 11, 12, 13}, linger);
}

TEST(claim_linger, a_trickle_of_starts_slower_than_one_per_linger_is_claimed_at_once) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    constexpr auto short_linger = std::chrono::milliseconds{1000};
    worker_thread worker{db, lingering, rec.options(short_linger)};

    setup.run(1);
    std::this_thread::sleep_for(short_linger + std::chrono::milliseconds{200});
    // One task in more than a linger: no stream, so no linger after this claim either.
    setup.run(2);
    setup.run(3);

    const auto claims = rec.taken();
    ASSERT_EQ(claims.size(), 3U);
    EXPECT_LT(claims[2].at - claims[1].at, short_linger - std::chrono::milliseconds{100})
        << "the third run waited for a linger after a claim that followed none within one";
}

TEST(claim_linger, while_one_worker_lingers_the_process_s_other_idle_workers_leave_the_starts_to_one_claim) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    // Long enough for the second worker to start and become idle within the first one's linger.
    constexpr auto long_linger = std::chrono::milliseconds{4000};
    worker_thread first{db, lingering, rec.options(long_linger)};

    // Two runs make a stream for the first worker, which lingers after the second's claim.
    setup.run(1);
    setup.run(2);
    worker_thread second{db, lingering, rec.options(long_linger)};
    ASSERT_TRUE(eventually([&] { return rec.claimer_count() == 2; })) << "the second worker never claimed";

    // The second worker is idle, but the process lingers: the three starts wait for the linger to
    // end and come in one claim.
    ASSERT_LT(clock::now(), rec.taken()[1].at + long_linger - 1s) << "the second worker took the linger to start";
    setup.expect_one_claim_for({10, 11, 12}, long_linger);
}

TEST(claim_linger, a_trickle_after_a_process_linger_is_claimed_at_once_by_an_idle_worker) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    constexpr auto short_linger = std::chrono::milliseconds{1000};
    worker_thread first{db, lingering, rec.options(short_linger)};
    setup.run(1);
    setup.run(2);  // a stream: the first worker lingers after this claim
    worker_thread second{db, lingering, rec.options(short_linger)};
    ASSERT_TRUE(eventually([&] { return rec.claimer_count() == 2; })) << "the second worker never claimed";

    // After the linger nothing is held back: a start is claimed at once.
    std::this_thread::sleep_for(short_linger + std::chrono::milliseconds{200});
    const auto started = clock::now();
    setup.run(3);
    EXPECT_LT(clock::now() - started, short_linger - std::chrono::milliseconds{100});
    ASSERT_EQ(rec.taken().size(), 3U);
}

TEST(claim_linger, a_worker_whose_completion_queued_the_next_step_claims_it_at_once) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    client.ensure_registered(chained);
    worker_thread worker{db, chained, rec.options()};

    // Each claim finds one task and drains the queue; each completion queues the next step.
    EXPECT_EQ(client.wait(client.start(chained, 4), 30s), boost::json::parse(R"({"third":7})"));
    const auto claims = rec.taken();
    ASSERT_EQ(claims.size(), 3U);
    for (const auto& c : claims) EXPECT_EQ(c.tasks, 1);
    for (std::size_t k = 1; k < claims.size(); ++k)
        EXPECT_LT(claims[k].at - claims[k - 1].at, linger - std::chrono::milliseconds{100})
            << "claim " << k + 1 << " waited out the linger";
}
