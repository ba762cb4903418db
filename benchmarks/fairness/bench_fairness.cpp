// bench_fairness — flow control figures (docs/flow_control.md), run by `scripts/bench --fairness`:
//
//  * fairness: p50/p99 start→complete of small runs started (one every --every-ms) while a run's
//    --big-element map drains on W workers: small runs of the same flow (a 1-element run of the
//    map flow) and of another flow on the same database (W workers of its own). pgflow-cpp's
//    worker on pgflow-cpp's SQL against pgflow 0.8.1's SQL driven like its edge worker
//    (benchmarks/e2e/sql_drivers.hpp), plus the same small runs with no map draining.
//  * claim cost: tasks/s draining a map with no limit and with limits that never bind (step
//    concurrency, per key, a rate limit): what a limited step's claim costs.
// Prints TSV rows; times come from the database (pgflow.runs.started_at / completed_at).
//
//   bench_fairness --db-ours "dbname=bench_ours" --db-pgflow "dbname=bench_pgflow" --workers 4

#include "../e2e/sql_drivers.hpp"

#include <pgflow/pgflow.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The edge driver's handler work (compute_output): a map element "items" doubles, a single step
// "only" adds one to the values it receives.
constexpr auto map_flow = pgflow::flow<"fair_map", std::vector<int>>(pgflow::map<"items">([](int x) { return 2 * x; }));
constexpr auto other_flow = pgflow::flow<"fair_other">(pgflow::step<"only">([](const boost::json::value&) {
    return boost::json::value{{"value", 2}};
}));

constexpr auto limited_concurrency = pgflow::flow<"cost_concurrency", std::vector<int>>(
    pgflow::flow_controls<pgflow::step_limits<"items", pgflow::concurrency<1000000>>>{},
    pgflow::map<"items">([](int x) { return 2 * x; }));
constexpr auto limited_per_key = pgflow::flow<"cost_per_key", std::vector<int>>(
    pgflow::flow_controls<pgflow::step_limits<"items", pgflow::concurrency_per_key<"0", 1000000>>>{},
    pgflow::map<"items">([](int x) { return 2 * x; }));
constexpr auto limited_rate = pgflow::flow<"cost_rate", std::vector<int>>(
    pgflow::flow_controls<pgflow::rate_limit<"cost_rate", 1000000, 1>,
                          pgflow::step_limits<"items", pgflow::rate_limited<"cost_rate">>>{},
    pgflow::map<"items">([](int x) { return 2 * x; }));
constexpr auto unlimited =
    pgflow::flow<"cost_none", std::vector<int>>(pgflow::map<"items">([](int x) { return 2 * x; }));

std::string array_of(int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(i);
    return s + "]";
}

/// Workers of one engine for one flow, running until destroyed.
class workers {
public:
    virtual ~workers() = default;
};

class our_workers final : public workers {
public:
    template <class Flow>
    our_workers(const std::string& db, const Flow& flow, int n) {
        pgflow::worker_options options;
        options.log = [](std::string_view) {};
        for (int i = 0; i < n; ++i) {
            auto w = std::make_shared<pgflow::worker>(pgflow::connection_options(db), flow, options);
            threads_.emplace_back([w](std::stop_token stop) { w->run(stop); });
        }
    }

private:
    std::vector<std::jthread> threads_;  // request_stop and join on destruction
};

class edge_workers final : public workers {
public:
    edge_workers(const std::string& db, const std::string& flow_slug, int n) {
        for (int i = 0; i < n; ++i) {
            workers_.push_back(std::make_unique<pgflow_bench::edge_worker>(db, flow_slug, counters_));
            workers_.back()->connect();
        }
        for (auto& w : workers_) threads_.emplace_back([&w] { w->run(); });
    }
    ~edge_workers() override {
        counters_.stop = true;
        for (std::size_t i = 0; i < threads_.size(); ++i) {
            while (!workers_[i]->done()) {  // cancel read_with_poll, repeatedly (a cancel may be lost)
                workers_[i]->interrupt();
                std::this_thread::sleep_for(20ms);
            }
            threads_[i].join();
        }
    }

private:
    pgflow_bench::counters counters_;
    std::vector<std::unique_ptr<pgflow_bench::edge_worker>> workers_;
    std::vector<std::thread> threads_;
};

struct settings {
    int workers = 4, big = 10000, small = 40, every_ms = 50, cost_elements = 5000;
};

std::string start(pgflow::pq::connection& c, std::string_view flow, const std::string& input) {
    return std::string(c.execute("SELECT run_id::text FROM pgflow.start_flow($1, $2::jsonb)", flow, input).text(0, 0));
}

bool all_ended(pgflow::pq::connection& c, const std::string& ids) {
    return c.execute("SELECT count(*) FROM pgflow.runs WHERE run_id = ANY($1::uuid[]) AND status = 'started'", ids)
               .get<long long>(0, 0) == 0;
}

void wait_for(pgflow::pq::connection& c, const std::string& ids, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!all_ended(c, ids)) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("runs did not end in time");
        std::this_thread::sleep_for(20ms);
    }
}

/// One fairness row: the small runs' latency, and how many of them started before the map ended.
void fairness_row(const std::string& engine, const std::string& db, const std::string& scenario, const settings& s,
                  const std::function<std::unique_ptr<workers>(const std::string& flow)>& make_workers) {
    auto c = pgflow::connection_options(db).connect();
    const bool other = scenario == "other flow";
    auto map_workers = make_workers("fair_map");
    std::unique_ptr<workers> other_workers = other ? make_workers("fair_other") : nullptr;
    std::this_thread::sleep_for(500ms);  // workers registered and polling
    std::string big;
    if (scenario != "no map") {
        big = start(c, "fair_map", array_of(s.big));
        std::this_thread::sleep_for(200ms);  // the map is draining
    }
    std::string ids = "{";
    for (int i = 0; i < s.small; ++i) {
        ids += (i ? "," : "") + (other ? start(c, "fair_other", R"({"value": 1})") : start(c, "fair_map", "[1]"));
        std::this_thread::sleep_for(std::chrono::milliseconds{s.every_ms});
    }
    ids += "}";
    wait_for(c, ids, 600s);
    const auto r = c.execute(
        R"(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms),
                  max(ms), count(*) FILTER (WHERE completed_at < coalesce((SELECT completed_at FROM pgflow.runs
                                                                            WHERE run_id::text = $2), 'infinity'))
           FROM (SELECT extract(epoch FROM completed_at - started_at) * 1000 AS ms, completed_at
                 FROM pgflow.runs WHERE run_id = ANY($1::uuid[])) x)",
        ids, big);
    std::printf("fairness\t%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%lld/%d\n", engine.c_str(), scenario.c_str(), s.workers,
                r.get<double>(0, 0), r.get<double>(0, 1), r.get<double>(0, 2), r.get<long long>(0, 3), s.small);
    std::fflush(stdout);
    if (!big.empty()) wait_for(c, "{" + big + "}", 600s);  // the next row starts on an empty queue
}

template <class Flow>
void claim_cost_row(const std::string& db, const Flow& flow, const std::string& label, const settings& s) {
    pgflow::client client{pgflow::connection_options(db)};
    client.ensure_registered(flow);
    auto c = pgflow::connection_options(db).connect();
    our_workers w{db, flow, s.workers};
    std::this_thread::sleep_for(500ms);
    const std::string id = start(c, Flow::slug, array_of(s.cost_elements));
    wait_for(c, "{" + id + "}", 600s);
    const double seconds = c.execute(R"(SELECT extract(epoch FROM max(completed_at) - min(started_at))
                                        FROM pgflow.step_tasks WHERE run_id = $1::uuid)",
                                     id)
                               .get<double>(0, 0);
    std::printf("claim_cost\t%s\t%d\t%d\t%.0f\n", label.c_str(), s.workers, s.cost_elements, s.cost_elements / seconds);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"pgflow-cpp flow control benchmark: fairness under a draining map, and a limited claim's cost"};
    std::string db_ours, db_pgflow;
    settings s;
    int reps = 1;
    app.add_option("--db-ours", db_ours, "libpq connection string of a database with pgflow-cpp's schema")->required();
    app.add_option("--db-pgflow", db_pgflow, "... with pgflow 0.8.1's migrations (empty: skip its rows)");
    app.add_option("--workers", s.workers, "workers per flow")->check(CLI::Range(1, 64));
    app.add_option("--big", s.big, "elements of the draining map");
    app.add_option("--small", s.small, "small runs measured per row");
    app.add_option("--every-ms", s.every_ms, "pause between two small runs' starts");
    app.add_option("--cost-elements", s.cost_elements, "elements of the claim-cost maps");
    app.add_option("--reps", reps, "claim-cost alternations");
    CLI11_PARSE(app, argc, argv);

    pgflow::client ours{pgflow::connection_options(db_ours)};
    ours.ensure_registered(map_flow);
    ours.ensure_registered(other_flow);
    if (!db_pgflow.empty()) {  // pgflow 0.8.1's schema: the flows' registration text, one statement at a time
        auto c = pgflow::connection_options(db_pgflow).connect();
        for (const std::string_view sql : {pgflow::registration_sql(map_flow), pgflow::registration_sql(other_flow)}) {
            const std::string text(sql);
            const std::string slug =
                text.substr(text.find('\'') + 1, text.find('\'', text.find('\'') + 1) - text.find('\'') - 1);
            if (!c.execute("SELECT 1 FROM pgflow.flows WHERE flow_slug = $1", slug).empty()) continue;
            std::size_t from = 0;
            for (std::size_t end = text.find('\n'); from < text.size(); end = text.find('\n', from)) {
                c.execute(text.substr(from, end == std::string::npos ? std::string::npos : end - from));
                from = end == std::string::npos ? text.size() : end + 1;
            }
        }
    }
    std::printf("table\tengine\tsmall runs of\tworkers\tp50 ms\tp99 ms\tmax ms\tended before the map\n");
    for (const char* scenario : {"no map", "same flow", "other flow"}) {
        fairness_row("pgflow-cpp", db_ours, scenario, s, [&](const std::string& flow) -> std::unique_ptr<workers> {
            if (flow == "fair_map") return std::make_unique<our_workers>(db_ours, map_flow, s.workers);
            return std::make_unique<our_workers>(db_ours, other_flow, s.workers);
        });
        if (!db_pgflow.empty())
            fairness_row("pgflow 0.8.1 (edge worker protocol)", db_pgflow, scenario, s,
                         [&](const std::string& flow) -> std::unique_ptr<workers> {
                             return std::make_unique<edge_workers>(db_pgflow, flow, s.workers);
                         });
    }
    std::printf("table\tlimits\tworkers\telements\ttasks/s\n");
    for (int r = 0; r < reps; ++r) {
        claim_cost_row(db_ours, unlimited, "none", s);
        claim_cost_row(db_ours, limited_concurrency, "concurrency<1000000>", s);
        claim_cost_row(db_ours, limited_per_key, "concurrency_per_key<\"0\", 1000000>", s);
        claim_cost_row(db_ours, limited_rate, "rate_limit<1000000 per 1 s>", s);
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_fairness: " << e.what() << '\n';
    return 1;
}
