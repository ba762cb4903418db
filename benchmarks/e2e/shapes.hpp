#pragma once
// The five flow shapes every engine is measured on, described once: their pgflow registration
// (create_flow/add_step calls with parameters), the run input, how many tasks one run has, how
// many can be ready at once, and the handler work done per task, shared by the SQL-level drivers.

#include <boost/json.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgflow_bench {

struct step_def {
    std::string slug;
    std::vector<std::string> deps;
    bool map = false;
};

struct shape {
    /// single, chain5, diamond, map100, map1000, single_many, single_eager, map10k, map100k, *_held
    std::string name;
    std::string flow_slug;  ///< the flow registered for it
    std::vector<step_def> steps;
    int map_size = 0;  ///< root map element count (0: no map)
    int tasks_per_run = 0;
    int ready_width = 1;         ///< most tasks of one run that are ready at the same time
    int start_batch = 1;         ///< runs a client starts per call (1: start_flow; more: start_many)
    bool hold_snapshot = false;  ///< another session holds a snapshot open for the whole measurement
    /// pgflow::worker's claim_linger in ms (ours only; pgflow's edge worker reads every 100 ms); -1:
    /// the worker's default.
    int claim_linger_ms = -1;

    /// The run input: {"value": 1} for single-step shapes, an array of map_size numbers for maps.
    [[nodiscard]] std::string run_input() const {
        if (map_size == 0) return R"({"value": 1})";
        std::string s = "[";
        for (int i = 0; i < map_size; ++i) {
            if (i) s += ',';
            s += std::to_string(i);
        }
        return s + "]";
    }
};

inline std::vector<shape> all_shapes() {
    std::vector<shape> v;
    v.push_back({"single", "bench_single", {{"only", {}, false}}, 0, 1, 1});
    v.push_back({"chain5",
                 "bench_chain5",
                 {{"s1", {}, false},
                  {"s2", {"s1"}, false},
                  {"s3", {"s2"}, false},
                  {"s4", {"s3"}, false},
                  {"s5", {"s4"}, false}},
                 0,
                 5,
                 1});
    v.push_back({"diamond",
                 "bench_diamond",
                 {{"a", {}, false}, {"b", {"a"}, false}, {"c", {"a"}, false}, {"d", {"b", "c"}, false}},
                 0,
                 4,
                 2});
    v.push_back({"map100", "bench_map100", {{"items", {}, true}, {"total", {"items"}, false}}, 100, 101, 100});
    v.push_back({"map1000", "bench_map1000", {{"items", {}, true}}, 1000, 1000, 1000});
    // The single-step flow, its runs started 100 per call (client::start_many; on pgflow 0.8.1's SQL
    // 100 start_flow calls in one statement, so one transaction too).
    v.push_back({"single_many", "bench_single", {{"only", {}, false}}, 0, 1, 1, 100});
    // The single-step flow, pgflow::worker claiming on every notification (worker_options::claim_linger
    // 0; the default lingers 25 ms under a stream of starts).
    v.push_back({"single_eager", "bench_single", {{"only", {}, false}}, 0, 1, 1, 1, false, 0});
    // Large fan-outs: a claim's cost must not grow with the array.
    v.push_back({"map10k", "bench_map10k", {{"items", {}, true}}, 10000, 10000, 10000});
    v.push_back({"map100k", "bench_map100k", {{"items", {}, true}}, 100000, 100000, 100000});
    // A long transaction elsewhere: vacuum can remove no row version dead since it began, so the
    // queue's and the tasks' dead rows pile up in the indexes the claims scan.
    v.push_back({"single_held", "bench_single", {{"only", {}, false}}, 0, 1, 1, 1, true});
    v.push_back({"map1000_held", "bench_map1000", {{"items", {}, true}}, 1000, 1000, 1000, 1, true});
    return v;
}

inline shape shape_named(const std::string& name) {
    for (auto& s : all_shapes())
        if (s.name == name) return s;
    throw std::invalid_argument("unknown shape '" + name +
                                "' (single, chain5, diamond, map100, map1000, single_many, single_eager, "
                                "map10k, map100k, single_held, map1000_held)");
}

/// Runs kept in flight so that every worker always finds a full batch of ready tasks.
inline int runs_in_flight(const shape& s, int workers) {
    return std::max(2, static_cast<int>(std::ceil(20.0 * workers / s.ready_width)));
}

/// The handler work of the SQL-level drivers, the same arithmetic the typed C++ flows do:
/// a map element doubles; `total` sums its array; a single step adds one to the sum of the
/// "value" fields it receives (the run input's or its dependencies').
inline boost::json::value compute_output(const std::string& step_slug, const boost::json::value& input) {
    if (step_slug == "items") return input.as_int64() * 2;
    if (step_slug == "total") {
        std::int64_t sum = 0;
        for (const auto& e : input.at("items").as_array()) sum += e.as_int64();
        return boost::json::object{{"value", sum}};
    }
    std::int64_t sum = 0;
    for (const auto& [key, v] : input.as_object())
        if (v.is_object()) sum += v.as_object().at("value").as_int64();
    return boost::json::object{{"value", sum + 1}};
}

}  // namespace pgflow_bench
