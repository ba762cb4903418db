#pragma once
// The dependency graph of a flow as constexpr data: slugs, dependency indices, a stable
// topological order, and the first structural problem (duplicate slug, undeclared dependency,
// cycle). Plain algorithms over std::array, evaluated once per flow type: compile time stays
// roughly linear in the number of steps, with no recursive template instantiation.

#include <pgflow/compile/slug_index.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail {

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

template <std::size_t N, std::size_t E>
struct flow_graph {
    std::array<std::string_view, N> slugs{};
    std::array<std::size_t, N + 1> dep_begin{};  ///< dependencies of step i: edges [dep_begin[i], dep_begin[i+1])
    std::array<std::size_t, E> dep_index{};      ///< step index of each edge's dependency, npos if undeclared
    std::array<std::size_t, N> dependent_count{};
    std::array<std::size_t, N> order{};  ///< stable topological order (meaningful when no problem below)

    std::size_t duplicate = npos;         ///< a step whose slug an earlier step already has
    std::size_t undeclared_step = npos;   ///< first step (declaration order) with an undeclared dependency
    std::size_t undeclared_position = 0;  ///< ...and that dependency's position in its after<...>
    std::size_t cycle_length = 0;         ///< > 0: cycle[k] depends on cycle[k+1], the last on cycle[0]
    std::array<std::size_t, N> cycle{};
    slug_index<N> index{};  ///< the slugs, hashed: index_of() (the dispatcher's lookup too)

    /// Scratch space of the analysis (N + 1 covers every use).
    [[nodiscard]] static constexpr std::array<std::size_t, N + 1> scratch() noexcept { return {}; }
    [[nodiscard]] static constexpr std::array<std::size_t, E> edge_scratch() noexcept { return {}; }

    [[nodiscard]] constexpr bool valid() const noexcept {
        return duplicate == npos && undeclared_step == npos && cycle_length == 0;
    }
    [[nodiscard]] constexpr std::size_t dependency_count(std::size_t step) const noexcept {
        return dep_begin[step + 1] - dep_begin[step];
    }
    [[nodiscard]] constexpr std::size_t dependency(std::size_t step, std::size_t k) const noexcept {
        return dep_index[dep_begin[step] + k];
    }
    [[nodiscard]] constexpr bool is_leaf(std::size_t step) const noexcept { return dependent_count[step] == 0; }
    /// The step with this slug (the first, if a duplicate made the graph invalid), or npos.
    [[nodiscard]] constexpr std::size_t index_of(std::string_view slug) const noexcept {
        return index.find(slugs, slug);
    }
};

/// Every step left waits on another step left: walk dependencies until a step repeats. The cycle is
/// reported from its step declared first, so the text does not depend on the walk.
template <class Graph, class Waiting>
constexpr void find_cycle(Graph& g, const Waiting& waiting_on) {
    auto position = g.scratch();
    for (auto& p : position) p = npos;
    std::size_t current = 0;
    while (waiting_on[current] == 0) ++current;
    auto path = g.scratch();
    std::size_t length = 0;
    while (position[current] == npos) {
        position[current] = length;
        path[length++] = current;
        for (std::size_t e = g.dep_begin[current]; e < g.dep_begin[current + 1]; ++e)
            if (waiting_on[g.dep_index[e]] != 0) {
                current = g.dep_index[e];
                break;
            }
    }
    std::size_t first = position[current];
    for (std::size_t k = position[current]; k < length; ++k)
        if (path[k] < path[first]) first = k;
    for (std::size_t k = first; k < length; ++k) g.cycle[g.cycle_length++] = path[k];
    for (std::size_t k = position[current]; k < first; ++k) g.cycle[g.cycle_length++] = path[k];
}

/// Kahn's algorithm, always taking the ready step declared first (a min-heap of indices); a cycle when
/// some steps are never ready.
template <class Graph>
constexpr void topological_order(Graph& g) {
    const std::size_t n = g.slugs.size();
    auto child_begin = g.scratch();
    for (std::size_t i = 0; i < n; ++i) child_begin[i + 1] = child_begin[i] + g.dependent_count[i];
    auto children = g.edge_scratch();
    auto filled = g.scratch();
    auto waiting_on = g.scratch();
    for (std::size_t i = 0; i < n; ++i) {
        waiting_on[i] = g.dep_begin[i + 1] - g.dep_begin[i];
        for (std::size_t e = g.dep_begin[i]; e < g.dep_begin[i + 1]; ++e) {
            const std::size_t d = g.dep_index[e];
            children[child_begin[d] + filled[d]++] = i;
        }
    }
    auto heap = g.scratch();
    std::size_t heap_size = 0;
    const auto later = [](std::size_t a, std::size_t b) { return a > b; };
    for (std::size_t i = 0; i < n; ++i)
        if (waiting_on[i] == 0) heap[heap_size++] = i;
    std::make_heap(heap.begin(), heap.begin() + heap_size, later);
    std::size_t done = 0;
    while (heap_size > 0) {
        std::pop_heap(heap.begin(), heap.begin() + heap_size, later);
        const std::size_t s = heap[--heap_size];
        g.order[done++] = s;
        for (std::size_t c = child_begin[s]; c < child_begin[s + 1]; ++c)
            if (--waiting_on[children[c]] == 0) {
                heap[heap_size++] = children[c];
                std::push_heap(heap.begin(), heap.begin() + heap_size, later);
            }
    }
    if (done < n) find_cycle(g, waiting_on);
}

/// The one graph algorithm, for a compile-time flow_graph (arrays) and a run-time dynamic_graph
/// (vectors): reads g.slugs and g.dep_begin, the dependency slug of each edge and an empty slug index
/// of the graph's size; fills in the rest. Scratch space comes from the graph's scratch() (sized n + 1,
/// enough for every use below).
template <class Graph, class DependencySlugs, class Index>
constexpr void analyze_graph_into(Graph& g, const DependencySlugs& dep_slugs, Index& index) {
    const std::size_t n = g.slugs.size();
    const std::size_t edges = g.dep_index.size();
    for (std::size_t i = 0; i < n; ++i)
        if (index.insert(g.slugs, i) != npos && g.duplicate == npos) g.duplicate = i;
    if (g.duplicate != npos) return;

    for (std::size_t e = 0; e < edges; ++e) g.dep_index[e] = index.find(g.slugs, dep_slugs[e]);
    for (std::size_t i = 0; i < n && g.undeclared_step == npos; ++i)
        for (std::size_t e = g.dep_begin[i]; e < g.dep_begin[i + 1]; ++e)
            if (g.dep_index[e] == npos) {
                g.undeclared_step = i;
                g.undeclared_position = e - g.dep_begin[i];
                break;
            }
    if (g.undeclared_step != npos) return;

    bool declaration_order_is_topological = true;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t e = g.dep_begin[i]; e < g.dep_begin[i + 1]; ++e) {
            ++g.dependent_count[g.dep_index[e]];
            if (g.dep_index[e] >= i) declaration_order_is_topological = false;
        }
    if (declaration_order_is_topological) {
        for (std::size_t i = 0; i < n; ++i) g.order[i] = i;
        return;
    }
    topological_order(g);
}

template <std::size_t N, std::size_t E>
constexpr flow_graph<N, E> analyze_graph(const std::array<std::string_view, N>& slugs,
                                         const std::array<std::size_t, N + 1>& dep_begin,
                                         const std::array<std::string_view, E>& dep_slugs) {
    flow_graph<N, E> g;
    g.slugs = slugs;
    g.dep_begin = dep_begin;
    analyze_graph_into(g, dep_slugs, g.index);
    return g;
}

/// A dynamic flow's graph: flow_graph's fields with run-time sizes, analyzed by the same algorithm.
struct dynamic_graph {
    std::vector<std::string_view> slugs;
    std::vector<std::size_t> dep_begin;
    std::vector<std::size_t> dep_index;
    std::vector<std::size_t> dependent_count;
    std::vector<std::size_t> order;
    std::size_t duplicate = npos;
    std::size_t undeclared_step = npos;
    std::size_t undeclared_position = 0;
    std::size_t cycle_length = 0;
    std::vector<std::size_t> cycle;

    [[nodiscard]] std::vector<std::size_t> scratch() const { return std::vector<std::size_t>(slugs.size() + 1, 0); }
    [[nodiscard]] std::vector<std::size_t> edge_scratch() const {
        return std::vector<std::size_t>(dep_index.size(), 0);
    }
};

/// Step i depends on dep_slugs[dep_begin[i]] .. dep_slugs[dep_begin[i + 1] - 1].
inline dynamic_graph analyze_graph(std::vector<std::string_view> slugs, std::vector<std::size_t> dep_begin,
                                   const std::vector<std::string_view>& dep_slugs) {
    dynamic_graph g;
    const std::size_t n = slugs.size();
    g.slugs = std::move(slugs);
    g.dep_begin = std::move(dep_begin);
    g.dep_index.assign(dep_slugs.size(), npos);
    g.dependent_count.assign(n, 0);
    g.order.assign(n, 0);
    g.cycle.assign(n, 0);
    runtime_slug_index index(n);
    analyze_graph_into(g, dep_slugs, index);
    return g;
}

}  // namespace pgflow::detail
