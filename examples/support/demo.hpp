#pragma once
// What the example programs share besides pgflow itself: a worker on a background thread, a live
// progress line, and result checks that decide the exit code (scripts/demo and the example.* tests
// rely on it).

#include <pgflow/client.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/worker.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace examples {

/// A pgflow::worker running on a thread of this program until stop() or destruction.
class background_worker {
public:
    template <class Flow>
    background_worker(const pgflow::connection_options& db, const Flow& flow, pgflow::worker_options options = {})
        : worker_(std::make_unique<pgflow::worker>(db, flow, std::move(options))) {
        thread_ = std::jthread([this](std::stop_token stop) {
            try {
                worker_->run(stop);
            } catch (...) {
                failure_ = std::current_exception();
            }
        });
    }
    background_worker(const background_worker&) = delete;
    background_worker& operator=(const background_worker&) = delete;
    ~background_worker() {
        try {
            stop();
        } catch (const std::exception& e) {
            std::cerr << "worker: " << e.what() << '\n';
        }
    }

    /// Stops the worker (running tasks finish first) and rethrows what made it fail, if anything.
    void stop() {
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
        if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    }

    [[nodiscard]] const pgflow::worker& get() const noexcept { return *worker_; }

private:
    std::unique_ptr<pgflow::worker> worker_;
    std::exception_ptr failure_;
    std::jthread thread_;
};

/// One line that keeps itself up to date while runs execute: runs finished, tasks completed and
/// tasks per second, read from pgflow.runs / pgflow.step_tasks. On a terminal it redraws every
/// 100 ms; otherwise only the final line is printed.
class progress_line {
public:
    progress_line(const pgflow::connection_options& db, std::string label, const std::vector<pgflow::run_id>& runs)
        : label_(std::move(label)), db_(db), started_(clock::now()) {
        for (const auto& id : runs) run_ids_.push_back(id.str());
        if (terminal_)
            thread_ = std::jthread([this](std::stop_token stop) {
                auto conn = db_.connect();
                while (!stop.stop_requested()) {
                    print(read(conn), false);
                    std::this_thread::sleep_for(std::chrono::milliseconds{100});
                }
            });
    }
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;
    ~progress_line() {
        try {
            finish();
        } catch (const std::exception& e) {
            std::cerr << "progress: " << e.what() << '\n';
        }
    }

    /// Stops redrawing and prints the final figures on a line of their own.
    void finish() {
        if (finished_) return;
        finished_ = true;
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
        auto conn = db_.connect();
        print(read(conn), true);
    }

private:
    using clock = std::chrono::steady_clock;
    struct figures {
        long long runs_done = 0, runs_failed = 0, tasks_done = 0;
    };

    figures read(pgflow::pq::connection& conn) const {
        const auto r = conn.execute(R"(
SELECT count(*) FILTER (WHERE status <> 'started'),
       count(*) FILTER (WHERE status = 'failed'),
       (SELECT count(*) FROM pgflow.step_tasks WHERE run_id = ANY($1::uuid[]) AND status = 'completed')
  FROM pgflow.runs WHERE run_id = ANY($1::uuid[]))",
                                    run_ids_);
        return {r.get<long long>(0, 0), r.get<long long>(0, 1), r.get<long long>(0, 2)};
    }

    void print(const figures& f, bool final) const {
        const double seconds = std::chrono::duration<double>(clock::now() - started_).count();
        std::string failed = f.runs_failed > 0 ? " (" + std::to_string(f.runs_failed) + " failed)" : "";
        std::printf("%s  %s: runs %lld/%zu done%s, %lld tasks done, %.1f tasks/s", terminal_ ? "\r\033[K" : "",
                    label_.c_str(), f.runs_done, run_ids_.size(), failed.c_str(), f.tasks_done,
                    seconds > 0 ? static_cast<double>(f.tasks_done) / seconds : 0.0);
        if (final) std::printf(" in %.2f s\n", seconds);
        std::fflush(stdout);
    }

    std::string label_;
    pgflow::connection_options db_;
    std::vector<std::string> run_ids_;
    clock::time_point started_;
    bool terminal_ = ::isatty(STDOUT_FILENO) != 0;
    bool finished_ = false;
    std::jthread thread_;
};

/// Collects failed expectations; the example's exit code.
class checks {
public:
    /// Records `what` as failed unless `ok`; returns ok.
    bool expect(bool ok, const std::string& what) {
        if (!ok) {
            ++failures_;
            std::cerr << "  UNEXPECTED: " << what << '\n';
        }
        return ok;
    }
    [[nodiscard]] int exit_code() const {
        if (failures_ == 0) return 0;
        std::cerr << "  " << failures_ << " check(s) failed\n";
        return 1;
    }

private:
    int failures_ = 0;
};

}  // namespace examples
