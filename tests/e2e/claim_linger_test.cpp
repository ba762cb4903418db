// worker_options::claim_linger end to end: an idle worker claims a new task at once; after a claim
// that found tasks, the notifications of the next starts wait out the linger and their tasks come
// in one claim; meanwhile another idle worker of the process takes them instead, and when every
// worker lingers, the notification waits for the first linger to end. A worker whose own
// completion queued the run's next step does not linger over it.

#include "e2e_support.hpp"

#include <pgflow/dsl.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

using namespace e2e;

namespace {

constexpr auto lingering = pgflow::flow<"linger_flow", int>(pgflow::step<"only">([](int n) { return n + 1; }));

constexpr auto chained =
    pgflow::flow<"linger_chain", int>(pgflow::step<"first">([](int n) { return n + 1; }),
                                      pgflow::step<"second", pgflow::after<"first">>([](int, int x) { return x * 2; }),
                                      pgflow::step<"third", pgflow::after<"second">>([](int, int x) { return x - 3; }));

constexpr auto linger = std::chrono::milliseconds{1500};

// The claims that found tasks, with when each was reported and by which worker.
struct claims_recorder {
    struct claim {
        clock::time_point at;
        std::string worker_id;
        int tasks = 0;
    };
    std::mutex mutex;
    std::vector<claim> claims;

    pgflow::worker_options options() {
        auto o = quiet_options();
        o.claim_linger = linger;
        o.observer.on_claim = [this](const pgflow::claim_event& e) {
            if (e.tasks == 0) return;
            std::lock_guard lock(mutex);
            claims.push_back({clock::now(), std::string(e.worker_id), e.tasks});
        };
        return o;
    }
    std::vector<claim> taken() {
        std::lock_guard lock(mutex);
        return claims;
    }
};

// A database with the flow registered, a client, and the claims' record.
struct linger_setup {
    database db;
    pgflow::client client{db.options()};
    claims_recorder rec;
    linger_setup() { client.ensure_registered(lingering); }
};

}  // namespace

TEST(claim_linger, an_idle_worker_claims_at_once_and_the_starts_during_its_linger_come_in_one_claim) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    worker_thread worker{db, lingering, rec.options()};

    const auto first_started = clock::now();
    EXPECT_EQ(client.wait(client.start(lingering, 1), 30s), boost::json::parse(R"({"only":2})"));
    EXPECT_LT(clock::now() - first_started, linger) << "an idle worker does not linger";

    // Four runs started right after that claim: their tasks wait for the linger to end.
    std::vector<pgflow::run_id> runs;
    for (int i = 0; i < 4; ++i) runs.push_back(client.start(lingering, 10 + i));
    for (std::size_t i = 0; i < runs.size(); ++i)
        EXPECT_EQ(client.wait(runs[i], 30s),
                  boost::json::value(boost::json::object{{"only", 11 + static_cast<int>(i)}}));

    const auto claims = rec.taken();
    ASSERT_EQ(claims.size(), 2U) << "one claim for the first run, one for the four";
    EXPECT_EQ(claims[0].tasks, 1);
    EXPECT_EQ(claims[1].tasks, 4);
    EXPECT_GE(claims[1].at - claims[0].at, linger - std::chrono::milliseconds{100});
}

TEST(claim_linger, while_one_worker_lingers_another_idle_worker_of_the_process_claims_at_once) {
    linger_setup setup;
    auto& [db, client, rec] = setup;
    worker_thread first{db, lingering, rec.options()};
    worker_thread second{db, lingering, rec.options()};

    EXPECT_EQ(client.wait(client.start(lingering, 1), 30s), boost::json::parse(R"({"only":2})"));
    const auto next_started = clock::now();
    EXPECT_EQ(client.wait(client.start(lingering, 2), 30s), boost::json::parse(R"({"only":3})"));
    EXPECT_LT(clock::now() - next_started, linger) << "the other worker was idle";
    // Both linger now: the third run's notification is kept until the first linger ends.
    EXPECT_EQ(client.wait(client.start(lingering, 3), 30s), boost::json::parse(R"({"only":4})"));

    const auto claims = rec.taken();
    ASSERT_EQ(claims.size(), 3U);
    EXPECT_NE(claims[0].worker_id, claims[1].worker_id) << "the worker that claimed first was lingering";
    EXPECT_GE(claims[2].at - claims[0].at, linger - std::chrono::milliseconds{100});
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
