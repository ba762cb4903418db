// The flow graph: lookups, stable topological order, and the structural problems the compile-time
// checks report (duplicate, undeclared dependency, cycle), on the constexpr algorithm directly and
// through valid flows.

#include <pgflow/compile/graph.hpp>
#include <pgflow/flow.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string_view>
#include <vector>

namespace {

using pgflow::detail::npos;
using sv = std::string_view;

template <std::size_t N, std::size_t E>
constexpr auto graph(std::array<sv, N> slugs, std::array<std::size_t, N + 1> begin, std::array<sv, E> deps) {
    return pgflow::detail::analyze_graph(slugs, begin, deps);
}

template <std::size_t N, std::size_t E>
std::vector<sv> order_of(const pgflow::detail::flow_graph<N, E>& g) {
    std::vector<sv> out;
    for (std::size_t i : g.order) out.push_back(g.slugs[i]);
    return out;
}

TEST(graph, declaration_order_is_kept_when_dependencies_come_first) {
    constexpr auto g = graph<3, 2>({"a", "b", "c"}, {0, 0, 1, 2}, {"a", "b"});
    static_assert(g.valid());
    EXPECT_EQ(order_of(g), (std::vector<sv>{"a", "b", "c"}));
    EXPECT_EQ(g.dependency(2, 0), 1u);
    EXPECT_FALSE(g.is_leaf(0));
    EXPECT_TRUE(g.is_leaf(2));
}

TEST(graph, dependencies_declared_later_are_moved_before_their_dependents) {
    // c depends on a; a on b; d independent: b must precede a, everything else keeps its place.
    constexpr auto g = graph<4, 2>({"c", "a", "b", "d"}, {0, 1, 2, 2, 2}, {"a", "b"});
    static_assert(g.valid());
    EXPECT_EQ(order_of(g), (std::vector<sv>{"b", "a", "c", "d"}));
}

TEST(graph, topological_order_is_stable_taking_the_first_declared_ready_step) {
    // join(left, right) declared first; left and right depend on top, declared last.
    constexpr auto g = graph<4, 4>({"join", "right", "left", "top"}, {0, 2, 3, 4, 4}, {"left", "right", "top", "top"});
    static_assert(g.valid());
    EXPECT_EQ(order_of(g), (std::vector<sv>{"top", "right", "left", "join"}));
}

TEST(graph, reports_the_first_duplicate_slug) {
    constexpr auto g = graph<4, 0>({"a", "b", "a", "b"}, {0, 0, 0, 0, 0}, {});
    EXPECT_FALSE(g.valid());
    EXPECT_EQ(g.duplicate, 2u);
}

TEST(graph, reports_the_first_undeclared_dependency_in_declaration_order) {
    constexpr auto g = graph<3, 3>({"a", "b", "c"}, {0, 0, 2, 3}, {"a", "valdate", "nope"});
    EXPECT_FALSE(g.valid());
    EXPECT_EQ(g.undeclared_step, 1u);
    EXPECT_EQ(g.undeclared_position, 1u);
}

TEST(graph, finds_a_cycle_and_names_it_from_its_first_declared_step) {
    // root <- x; y -> z -> x -> y is a cycle (x depends on y...), w depends on the cycle.
    constexpr auto g = graph<5, 5>({"root", "w", "z", "x", "y"}, {0, 0, 1, 2, 4, 5}, {"x", "x", "root", "y", "z"});
    EXPECT_FALSE(g.valid());
    ASSERT_EQ(g.cycle_length, 3u);
    std::vector<sv> cycle;
    for (std::size_t k = 0; k < g.cycle_length; ++k) cycle.push_back(g.slugs[g.cycle[k]]);
    // z depends on x, x on y, y on z.
    EXPECT_EQ(cycle, (std::vector<sv>{"z", "x", "y"}));
}

TEST(graph, a_two_step_cycle) {
    constexpr auto g = graph<2, 2>({"a", "b"}, {0, 1, 2}, {"b", "a"});
    ASSERT_EQ(g.cycle_length, 2u);
    EXPECT_EQ(g.slugs[g.cycle[0]], "a");
    EXPECT_EQ(g.slugs[g.cycle[1]], "b");
}

TEST(graph, empty_graph) {
    constexpr auto g = graph<0, 0>({}, {0}, {});
    static_assert(g.valid());
    EXPECT_EQ(g.index_of("a"), npos);
}

// Through the DSL: steps declared out of order register dependencies first.
constexpr auto out_of_order = pgflow::flow<"out_of_order", int>(
    pgflow::step<"sum", pgflow::after<"double", "triple">>([](int, int d, int t) { return d + t; }),
    pgflow::step<"triple">([](int n) { return 3 * n; }), pgflow::step<"double">([](int n) { return 2 * n; }));

TEST(graph, flows_list_step_slugs_in_registration_order) {
    constexpr auto slugs = decltype(out_of_order)::step_slugs();
    EXPECT_EQ(std::vector<sv>(slugs.begin(), slugs.end()), (std::vector<sv>{"triple", "double", "sum"}));
}

TEST(graph, step_output_types_follow_the_handlers) {
    static_assert(std::is_same_v<pgflow::step_output_t<decltype(out_of_order), "sum">, int>);
    constexpr auto mapped = pgflow::flow<"mapped", std::vector<int>>(
        pgflow::map<"halves">([](int x) { return x / 2.0; }),
        pgflow::step<"count", pgflow::after<"halves">>(
            [](const std::vector<int>& in, const std::vector<double>& h) { return in.size() + h.size(); }));
    static_assert(std::is_same_v<pgflow::step_output_t<decltype(mapped), "halves">, std::vector<double>>);
    static_assert(std::is_same_v<pgflow::step_output_t<decltype(mapped), "count">, std::size_t>);
    EXPECT_EQ(mapped.step_count, 2u);
}

}  // namespace
