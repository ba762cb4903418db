// detail::runtime_thread_pool: jobs run on the pool's threads; a job given up (abandon) no longer
// holds a thread of the pool, is replaced up to the limit, and may return after the pool is gone.

#include <pgflow/runtime/thread_pool.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>

using namespace std::chrono_literals;
using pgflow::detail::runtime_thread_pool;

namespace {

bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 500; ++i) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

}  // namespace

TEST(thread_pool, an_abandoned_job_is_replaced_and_may_outlive_the_pool) {
    auto gate = std::make_shared<std::promise<void>>();
    auto opened = std::make_shared<std::shared_future<void>>(gate->get_future().share());
    auto returned = std::make_shared<std::atomic<bool>>(false);
    {
        runtime_thread_pool pool(1, 2);
        EXPECT_EQ(pool.available(), 1u);
        pool.submit([opened, returned] {
            opened->wait();
            returned->store(true);
            return true;  // it was abandoned
        });
        pool.abandon();
        EXPECT_EQ(pool.available(), 1u) << "a replacement thread takes the stuck one's place";
        std::promise<int> ran;
        pool.submit([&ran] {
            ran.set_value(42);
            return false;
        });
        auto result = ran.get_future();
        ASSERT_EQ(result.wait_for(5s), std::future_status::ready) << "the replacement runs new jobs";
        EXPECT_EQ(result.get(), 42);
        // At the limit (2 threads), a second stuck job is not replaced.
        pool.submit([opened] {
            opened->wait();
            return true;
        });
        pool.abandon();
        EXPECT_EQ(pool.available(), 0u);
    }  // does not wait for the stuck jobs
    EXPECT_FALSE(returned->load());
    gate->set_value();
    EXPECT_TRUE(eventually([&] { return returned->load(); })) << "the stuck job finishes after the pool is gone";
}

TEST(thread_pool, a_stuck_thread_that_returns_fills_a_gap_left_past_the_limit) {
    auto gate = std::make_shared<std::promise<void>>();
    auto opened = std::make_shared<std::shared_future<void>>(gate->get_future().share());
    runtime_thread_pool pool(1, 1);  // no replacement at all
    pool.submit([opened] {
        opened->wait();
        return true;
    });
    pool.abandon();
    EXPECT_EQ(pool.available(), 0u);
    gate->set_value();
    EXPECT_TRUE(eventually([&] { return pool.available() == 1; })) << "the returned thread serves the pool again";
    std::promise<void> ran;
    pool.submit([&ran] {
        ran.set_value();
        return false;
    });
    EXPECT_EQ(ran.get_future().wait_for(5s), std::future_status::ready);
}
