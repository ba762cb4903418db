#pragma once
// The engines bench_e2e can drive, behind one interface: W workers started before the window and
// joined after it.

#include "harness.hpp"
#include "sql_drivers.hpp"

#include "typed_flows.hpp"

#include <pgflow/worker.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pgflow_bench {

struct engine_options {
    int poll_interval_ms = 100;  ///< edge engine: pollIntervalMs of read_with_poll
    /// Tasks per claim, for every engine (0: each engine's default, 10): the edge worker's
    /// batchSize and maxConcurrent (its handlers run one after another, its completions over at
    /// most 4 connections), pgflow::worker's batch_size and max_concurrent (handler threads), the
    /// limit's claims and acknowledgements per transaction.
    int batch = 0;
    /// pgflow::worker's claim_linger in ms (-1: the shape's, which is the worker's default but for
    /// single_eager).
    int claim_linger_ms = -1;
};

/// W emulated pgflow 0.8.1 edge workers (flow mode, its defaults: see edge_settings).
class edge_group final : public worker_group {
public:
    edge_group(const std::string& db, const shape& s, int workers, counters& c, const engine_options& o) : c_(c) {
        edge_settings settings;
        settings.poll_interval_ms = o.poll_interval_ms;
        if (o.batch > 0) settings.batch_size = settings.max_concurrent = o.batch;
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

/// W pgflow::worker instances running the typed flow of the shape (pgflow-cpp's worker with its
/// default options but for engine_options::batch and the claim linger), one thread each.
class pgflow_worker_group final : public worker_group {
public:
    pgflow_worker_group(const std::string& db, const shape& s, int workers, counters& c, const engine_options& o)
        : c_(c) {
        handler_probe = &c;
        pgflow::worker_options options;
        options.function_name = "pgflow-bench";
        if (o.batch > 0) options.batch_size = options.max_concurrent = o.batch;
        if (const int linger = o.claim_linger_ms >= 0 ? o.claim_linger_ms : s.claim_linger_ms; linger >= 0)
            options.claim_linger = std::chrono::milliseconds{linger};
        // What a worker reports while the measurement stops (tasks it waits for) is expected.
        options.log = [&c](std::string_view line) {
            if (!c.stop) std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        };
        auto add = [&](const auto& flow) {
            for (int i = 0; i < workers; ++i)
                workers_.push_back(std::make_unique<pgflow::worker>(pgflow::connection_options(db), flow, options));
        };
        if (s.name == "single" || s.name == "single_many" || s.name == "single_eager" || s.name == "single_held")
            add(single_flow);
        else if (s.name == "chain5")
            add(chain5_flow);
        else if (s.name == "diamond")
            add(diamond_flow);
        else if (s.name == "map100")
            add(map100_flow);
        else if (s.name == "map1000" || s.name == "map1000_held")
            add(map1000_flow);
        else if (s.name == "map10k")
            add(map10k_flow);
        else if (s.name == "map100k")
            add(map100k_flow);
        else
            throw std::invalid_argument("no typed flow for shape '" + s.name + "'");
    }
    ~pgflow_worker_group() override { handler_probe = nullptr; }

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
    if (engine == "worker") return std::make_unique<pgflow_worker_group>(db, s, workers, c, o);
    throw std::invalid_argument("unknown engine '" + engine + "'");
}

}  // namespace pgflow_bench
