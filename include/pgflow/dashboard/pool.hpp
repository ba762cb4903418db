#pragma once
// The dashboard's database connections: at most `size` of them, opened on first need, each used by
// one request at a time, and dropped when it breaks (the next request opens a fresh one). Every
// connection has a statement timeout, so that no query holds a request thread for long, and no JIT.

#include <pgflow/connection_options.hpp>
#include <pgflow/dashboard/queries.hpp>
#include <pgflow/pq/connection.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgflow::dashboard::detail {

/// One pooled connection and what it learnt about its schema.
struct pooled_connection {
    pq::connection connection;
    std::optional<bool> run_control;

    bool has_run_control() {
        if (!run_control) run_control = connection.execute(sql::has_run_control).get<bool>(0, 0);
        return *run_control;
    }
};

class connection_pool {
public:
    connection_pool(connection_options db, std::size_t size, std::chrono::milliseconds statement_timeout)
        : db_(std::move(db)), size_(size), statement_timeout_(statement_timeout) {}

    /// A connection lent to one request; it goes back to the pool when this ends, unless broken.
    class lease {
    public:
        lease(connection_pool& pool, std::unique_ptr<pooled_connection> c) : pool_(&pool), c_(std::move(c)) {}
        lease(lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), c_(std::move(other.c_)) {}
        lease& operator=(lease&&) = delete;
        ~lease() {
            if (pool_ != nullptr) pool_->give_back(std::move(c_));
        }
        pooled_connection& operator*() const noexcept { return *c_; }
        pooled_connection* operator->() const noexcept { return c_.get(); }

    private:
        connection_pool* pool_;
        std::unique_ptr<pooled_connection> c_;
    };

    /// An idle connection, a new one while fewer than `size` exist, or else waits for one.
    /// Throws database_error when a new connection cannot be made.
    lease acquire() {
        std::unique_lock lock(mutex_);
        returned_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return {*this, std::move(c)};
        }
        ++open_;
        lock.unlock();
        try {
            auto c = std::make_unique<pooled_connection>(pooled_connection{db_.connect(), std::nullopt});
            // JIT compiling a dashboard query costs more than running it: with a million runs the
            // planner's estimates of the per-flow counts crossed jit_above_cost and /api/flows
            // spent 1.3 s of its 1.3 s compiling.
            c->connection.execute("SELECT set_config('statement_timeout', $1, false), set_config('jit', 'off', false)",
                                  std::to_string(statement_timeout_.count()));
            return {*this, std::move(c)};
        } catch (...) {
            lock.lock();
            --open_;
            returned_.notify_one();
            throw;
        }
    }

private:
    void give_back(std::unique_ptr<pooled_connection> c) {
        std::lock_guard lock(mutex_);
        if (c && c->connection.is_ok())
            idle_.push_back(std::move(c));
        else
            --open_;
        returned_.notify_one();
    }

    connection_options db_;
    std::size_t size_;
    std::chrono::milliseconds statement_timeout_;
    std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<pooled_connection>> idle_;
    std::size_t open_ = 0;
};

}  // namespace pgflow::dashboard::detail
