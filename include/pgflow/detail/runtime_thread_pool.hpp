#pragma once
// A fixed pool of threads running submitted jobs in FIFO order. The worker sizes it to
// max_concurrent and never submits more jobs than it has idle threads, so jobs never wait long.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace pgflow::detail {

class runtime_thread_pool {
public:
    explicit runtime_thread_pool(std::size_t threads) {
        threads_.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i)
            threads_.emplace_back([this](std::stop_token stop) { run(stop); });
    }
    runtime_thread_pool(const runtime_thread_pool&) = delete;
    runtime_thread_pool& operator=(const runtime_thread_pool&) = delete;

    /// Runs the queued jobs to the end, then joins the threads.
    ~runtime_thread_pool() {
        for (auto& t : threads_) t.request_stop();
        {
            std::lock_guard lock(mutex_);  // pairs with the wait's predicate check
        }
        ready_.notify_all();
        threads_.clear();
    }

    void submit(std::function<void()> job) {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(job));
        }
        ready_.notify_one();
    }

private:
    void run(std::stop_token stop) {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(mutex_);
                ready_.wait(lock, [&] { return !jobs_.empty() || stop.stop_requested(); });
                if (jobs_.empty()) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();
        }
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::jthread> threads_;
};

}  // namespace pgflow::detail
