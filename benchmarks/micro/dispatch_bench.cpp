// Per-task client cost of pgflow-cpp: the worker receives a task's input as JSON text, decodes
// it, calls the typed handler through the flow's dispatcher and encodes the output back to text.
// Small payloads (a few numbers) show the fixed cost; large ones (an order of 200 lines, ~19 kB)
// show the JSON mapping's throughput. The handlers do trivial work so only pgflow's part is timed.

#include <pgflow/dispatch.hpp>
#include <pgflow/dsl.hpp>
#include <pgflow/json.hpp>

#include <benchmark/benchmark.h>
#include <boost/hana/adapt_struct.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct counter {
    std::int64_t value = 0;
};

struct line {
    std::int64_t sku = 0;
    std::string name;
    double price = 0;
    int quantity = 0;
    std::vector<std::string> tags;
};

struct order {
    std::string id;
    std::string customer;
    std::vector<line> lines;
};

struct summary {
    std::string id;
    double total = 0;
    std::int64_t items = 0;
};

}  // namespace bench

BOOST_HANA_ADAPT_STRUCT(bench::counter, value);
BOOST_HANA_ADAPT_STRUCT(bench::line, sku, name, price, quantity, tags);
BOOST_HANA_ADAPT_STRUCT(bench::order, id, customer, lines);
BOOST_HANA_ADAPT_STRUCT(bench::summary, id, total, items);

namespace {

const auto small_flow = pgflow::flow<"micro_small", bench::counter>(
    pgflow::step<"first">([](const bench::counter& run) { return bench::counter{run.value + 1}; }),
    pgflow::step<"second", pgflow::after<"first">>([](const bench::counter& run, const bench::counter& first) {
        return bench::counter{run.value + first.value};
    }));

const auto map_flow =
    pgflow::flow<"micro_map", std::vector<std::int64_t>>(pgflow::map<"double">([](std::int64_t x) { return x * 2; }));

const auto large_flow = pgflow::flow<"micro_large", bench::order>(
    pgflow::step<"summarize">([](const bench::order& o) {
        bench::summary s{o.id, 0, 0};
        for (const auto& l : o.lines) {
            s.total += l.price * l.quantity;
            s.items += l.quantity;
        }
        return s;
    }),
    pgflow::step<"reprice", pgflow::after<"summarize">>([](const bench::order& o, const bench::summary&) {
        bench::order copy = o;
        for (auto& l : copy.lines) l.price *= 1.1;
        return copy;
    }));

std::string large_order_json(int lines) {
    bench::order o{"order-4711", "customer-42", {}};
    for (int i = 0; i < lines; ++i)
        o.lines.push_back({i, "article number " + std::to_string(i), 9.99 + i, 1 + i % 5, {"tag-a", "tag-b"}});
    return boost::json::serialize(pgflow::to_json(o));
}

const std::string run_id = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// Text in, text out: what one task costs the worker besides the database round trip.
template <class Dispatcher>
void run_task(benchmark::State& state, const Dispatcher& dispatch, std::string_view flow, std::string_view step,
              const std::string& input_text, int task_index = 0) {
    const pgflow::task_context context{flow, run_id, step, task_index, 1, {}};
    std::size_t bytes = 0;
    for (auto _ : state) {
        const auto input = boost::json::parse(input_text);
        const auto output = dispatch(step, input, context);
        auto text = boost::json::serialize(output);
        bytes += input_text.size() + text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(state.iterations());
}

void small_single_step(benchmark::State& state) {
    const auto dispatch = pgflow::make_dispatcher(small_flow);
    run_task(state, dispatch, "micro_small", "first", R"({"run":{"value":1}})");
}
BENCHMARK(small_single_step);

void small_step_with_dependency(benchmark::State& state) {
    const auto dispatch = pgflow::make_dispatcher(small_flow);
    run_task(state, dispatch, "micro_small", "second", R"({"run":{"value":1},"first":{"value":2}})");
}
BENCHMARK(small_step_with_dependency);

void small_map_element(benchmark::State& state) {
    const auto dispatch = pgflow::make_dispatcher(map_flow);
    run_task(state, dispatch, "micro_map", "double", "21", 7);
}
BENCHMARK(small_map_element);

void large_order_summarize(benchmark::State& state) {
    const auto dispatch = pgflow::make_dispatcher(large_flow);
    const std::string input = R"({"run":)" + large_order_json(static_cast<int>(state.range(0))) + "}";
    state.counters["input_bytes"] = static_cast<double>(input.size());
    run_task(state, dispatch, "micro_large", "summarize", input);
}
BENCHMARK(large_order_summarize)->Arg(200);

void large_order_reprice(benchmark::State& state) {
    const auto dispatch = pgflow::make_dispatcher(large_flow);
    const std::string order = large_order_json(static_cast<int>(state.range(0)));
    const std::string input = R"({"run":)" + order + R"(,"summarize":{"id":"order-4711","total":1.0,"items":3}})";
    state.counters["input_bytes"] = static_cast<double>(input.size());
    run_task(state, dispatch, "micro_large", "reprice", input);
}
BENCHMARK(large_order_reprice)->Arg(200);

/// The JSON mapping alone, for reference: decode the large order and encode it again.
void large_order_json_roundtrip(benchmark::State& state) {
    const std::string text = large_order_json(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        auto o = pgflow::from_json<bench::order>(boost::json::parse(text));
        auto out = boost::json::serialize(pgflow::to_json(o));
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(2 * text.size()));
}
BENCHMARK(large_order_json_roundtrip)->Arg(200);

}  // namespace

BENCHMARK_MAIN();
