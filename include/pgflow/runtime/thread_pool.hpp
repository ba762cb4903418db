#pragma once
// A pool of threads running submitted jobs in FIFO order. The worker sizes it to max_concurrent
// and never submits more jobs than it has available threads, so jobs never wait long.
//
// A job that never returns (a hung handler) can be given up: abandon() stops counting its thread
// and starts another in its place, up to a limit of threads in all, so that capacity does not
// shrink with each hang. The threads are detached and share the pool's state, so an abandoned
// one may outlive the pool: when its job returns at last, the job says so (returns true) and the
// thread leaves, or stays if the pool is short of threads.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace pgflow::detail {

class runtime_thread_pool {
public:
    /// `threads` available threads; abandoned ones are replaced while at most `limit` threads live.
    runtime_thread_pool(std::size_t threads, std::size_t limit) : state_(std::make_shared<state>()) {
        state_->target = static_cast<long>(threads);
        state_->limit = static_cast<long>(limit < threads ? threads : limit);
        std::lock_guard lock(state_->mutex);
        for (std::size_t i = 0; i < threads; ++i) spawn();
    }
    runtime_thread_pool(const runtime_thread_pool&) = delete;
    runtime_thread_pool& operator=(const runtime_thread_pool&) = delete;

    /// Runs the queued jobs to the end, then waits for every thread but the abandoned ones.
    ~runtime_thread_pool() {
        std::unique_lock lock(state_->mutex);
        state_->stopping = true;
        state_->ready.notify_all();
        state_->exited.wait(lock, [&] { return state_->live <= state_->stuck; });
    }

    /// `job` returns true when it was abandoned while it ran.
    void submit(std::function<bool()> job) {
        {
            std::lock_guard lock(state_->mutex);
            state_->jobs.push_back(std::move(job));
        }
        state_->ready.notify_one();
    }

    /// Gives up one running job: its thread no longer counts, and (when `replace`) another is
    /// started in its place unless `limit` threads live already.
    void abandon(bool replace = true) {
        std::lock_guard lock(state_->mutex);
        ++state_->stuck;
        if (replace && state_->live < state_->limit) spawn();
    }

    /// Threads that run jobs (not stuck in an abandoned one).
    [[nodiscard]] std::size_t available() const {
        std::lock_guard lock(state_->mutex);
        const long n = state_->live - state_->stuck;
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }

private:
    struct state {
        mutable std::mutex mutex;
        std::condition_variable ready, exited;
        std::deque<std::function<bool()>> jobs;
        // Signed: an abandoned job may return before abandon() has counted it.
        long live = 0, stuck = 0, target = 0, limit = 0;
        bool stopping = false;
    };

    void spawn() {  // with the mutex held
        ++state_->live;
        std::thread([s = state_] { run(*s); }).detach();
    }

    static void run(state& s) {
        std::unique_lock lock(s.mutex);
        for (;;) {
            s.ready.wait(lock, [&] { return !s.jobs.empty() || s.stopping; });
            if (s.jobs.empty()) break;
            auto job = std::move(s.jobs.front());
            s.jobs.pop_front();
            lock.unlock();
            const bool abandoned = job();
            job = nullptr;
            lock.lock();
            if (abandoned) {
                --s.stuck;
                if (s.live - s.stuck > s.target) break;  // its replacement took its place
            }
        }
        --s.live;
        s.exited.notify_all();
    }

    std::shared_ptr<state> state_;
};

}  // namespace pgflow::detail
