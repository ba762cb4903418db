#pragma once
// The engines bench_e2e can drive, behind one interface: W workers started before the window and
// joined after it.

#include "harness.hpp"
#include "sql_drivers.hpp"

#include <pgflow/worker.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pgflow_bench {

struct engine_options {
    int poll_interval_ms = 100;  ///< edge engine: pollIntervalMs of read_with_poll
};

/// W emulated pgflow 0.8.1 edge workers (flow mode, spec 11.3 defaults).
class edge_group final : public worker_group {
public:
    edge_group(const std::string& db, const shape& s, int workers, counters& c, const engine_options& o) : c_(c) {
        edge_settings settings;
        settings.poll_interval_ms = o.poll_interval_ms;
        for (int i = 0; i < workers; ++i) {
            workers_.push_back(std::make_unique<edge_worker>(db, s.flow_slug, c, settings));
            workers_.back()->connect();
        }
    }
    void start() override {
        for (auto& w : workers_) threads_.emplace_back([&w] { w->run(); });
    }
    void join() override {
        c_.stop = true;
        // A worker may be inside read_with_poll (up to 2 s): cancel it, repeatedly, since a
        // cancel that arrives between two statements is lost.
        for (std::size_t i = 0; i < threads_.size(); ++i) {
            while (!finished(i)) {
                workers_[i]->interrupt();
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            threads_[i].join();
        }
        threads_.clear();
    }

private:
    bool finished(std::size_t i) { return workers_[i]->done(); }

    counters& c_;
    std::vector<std::unique_ptr<edge_worker>> workers_;
    std::vector<std::thread> threads_;
};

/// W pgflow::worker instances (pgflow-cpp's worker, its default options), one thread each.
class pgflow_worker_group final : public worker_group {
public:
    pgflow_worker_group(const std::string& db, const shape& s, int workers, counters& c) : c_(c) {
        pgflow::worker_options options;
        options.function_name = "pgflow-bench";
        for (int i = 0; i < workers; ++i)
            workers_.push_back(std::make_unique<pgflow::worker>(
                pgflow::connection_options(db), s.flow_slug,
                [&c](std::string_view step, const boost::json::value& input, const pgflow::task_context&) {
                    c.handler_entered();
                    return compute_output(std::string(step), input);
                },
                options));
    }
    void start() override {
        for (auto& w : workers_)
            threads_.emplace_back([this, &w] {
                try {
                    w->run(stop_.get_token());
                } catch (const std::exception& e) {
                    c_.fail(std::string("pgflow::worker: ") + e.what());
                }
            });
    }
    void join() override {
        c_.stop = true;
        stop_.request_stop();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }

private:
    counters& c_;
    std::stop_source stop_;
    std::vector<std::unique_ptr<pgflow::worker>> workers_;
    std::vector<std::thread> threads_;
};

inline std::unique_ptr<worker_group> make_group(const std::string& engine, const std::string& db, const shape& s,
                                                int workers, counters& c, const engine_options& o) {
    if (engine == "edge") return std::make_unique<edge_group>(db, s, workers, c, o);
    if (engine == "worker") return std::make_unique<pgflow_worker_group>(db, s, workers, c);
    throw std::invalid_argument("unknown engine '" + engine + "'");
}

}  // namespace pgflow_bench
