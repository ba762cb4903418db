#pragma once
// The five benchmark shapes as typed pgflow-cpp flows: the same slugs, dependencies and arithmetic
// as shapes.hpp (compute_output), so the database sees identical work from every engine.

#include "sql_drivers.hpp"

#include <pgflow/dsl.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <atomic>
#include <cstdint>
#include <numeric>
#include <vector>

namespace pgflow_bench {

struct value_box {
    std::int64_t value = 0;
};

}  // namespace pgflow_bench

BOOST_HANA_ADAPT_STRUCT(pgflow_bench::value_box, value);

namespace pgflow_bench {

/// Where typed handlers report their entry (the idle-latency probe); set before workers start.
inline std::atomic<counters*> handler_probe{nullptr};

inline void enter_handler() {
    if (counters* c = handler_probe.load(std::memory_order_relaxed)) c->handler_entered();
}

inline value_box plus_one(std::int64_t sum) {
    enter_handler();
    return value_box{sum + 1};
}

using numbers = std::vector<std::int64_t>;

inline const auto single_flow = pgflow::flow<"bench_single", value_box>(
    pgflow::step<"only">([](const value_box& run) { return plus_one(run.value); }));

inline const auto chain5_flow = pgflow::flow<"bench_chain5", value_box>(
    pgflow::step<"s1">([](const value_box& run) { return plus_one(run.value); }),
    pgflow::step<"s2", pgflow::after<"s1">>(
        [](const value_box& run, const value_box& s1) { return plus_one(run.value + s1.value); }),
    pgflow::step<"s3", pgflow::after<"s2">>(
        [](const value_box& run, const value_box& s2) { return plus_one(run.value + s2.value); }),
    pgflow::step<"s4", pgflow::after<"s3">>(
        [](const value_box& run, const value_box& s3) { return plus_one(run.value + s3.value); }),
    pgflow::step<"s5", pgflow::after<"s4">>(
        [](const value_box& run, const value_box& s4) { return plus_one(run.value + s4.value); }));

inline const auto diamond_flow = pgflow::flow<"bench_diamond", value_box>(
    pgflow::step<"a">([](const value_box& run) { return plus_one(run.value); }),
    pgflow::step<"b", pgflow::after<"a">>(
        [](const value_box& run, const value_box& a) { return plus_one(run.value + a.value); }),
    pgflow::step<"c", pgflow::after<"a">>(
        [](const value_box& run, const value_box& a) { return plus_one(run.value + a.value); }),
    pgflow::step<"d", pgflow::after<"b", "c">>([](const value_box& run, const value_box& b, const value_box& c) {
        return plus_one(run.value + b.value + c.value);
    }));

inline std::int64_t doubled(std::int64_t x) {
    enter_handler();
    return x * 2;
}

inline const auto map100_flow = pgflow::flow<"bench_map100", numbers>(
    pgflow::map<"items">([](std::int64_t x) { return doubled(x); }),
    pgflow::step<"total", pgflow::after<"items">>([](const numbers&, const numbers& items) {
        enter_handler();
        return value_box{std::accumulate(items.begin(), items.end(), std::int64_t{0})};
    }));

inline const auto map1000_flow =
    pgflow::flow<"bench_map1000", numbers>(pgflow::map<"items">([](std::int64_t x) { return doubled(x); }));
inline const auto map10k_flow =
    pgflow::flow<"bench_map10k", numbers>(pgflow::map<"items">([](std::int64_t x) { return doubled(x); }));
inline const auto map100k_flow =
    pgflow::flow<"bench_map100k", numbers>(pgflow::map<"items">([](std::int64_t x) { return doubled(x); }));

}  // namespace pgflow_bench
