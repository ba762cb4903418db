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
    [[nodiscard]] constexpr std::size_t index_of(std::string_view slug) const noexcept {
        for (std::size_t i = 0; i < N; ++i)
            if (slugs[i] == slug) return i;
        return npos;
    }
};

template <std::size_t N, std::size_t E>
constexpr flow_graph<N, E> analyze_graph(const std::array<std::string_view, N>& slugs,
                                         const std::array<std::size_t, N + 1>& dep_begin,
                                         const std::array<std::string_view, E>& dep_slugs) {
    flow_graph<N, E> g;
    g.slugs = slugs;
    g.dep_begin = dep_begin;

    slug_index<N> index;
    for (std::size_t i = 0; i < N; ++i)
        if (index.insert(slugs, i) != npos && g.duplicate == npos) g.duplicate = i;
    if (g.duplicate != npos) return g;

    for (std::size_t e = 0; e < E; ++e) g.dep_index[e] = index.find(slugs, dep_slugs[e]);
    for (std::size_t i = 0; i < N && g.undeclared_step == npos; ++i)
        for (std::size_t e = dep_begin[i]; e < dep_begin[i + 1]; ++e)
            if (g.dep_index[e] == npos) {
                g.undeclared_step = i;
                g.undeclared_position = e - dep_begin[i];
                break;
            }
    if (g.undeclared_step != npos) return g;

    bool declaration_order_is_topological = true;
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t e = dep_begin[i]; e < dep_begin[i + 1]; ++e) {
            ++g.dependent_count[g.dep_index[e]];
            if (g.dep_index[e] >= i) declaration_order_is_topological = false;
        }
    if (declaration_order_is_topological) {
        for (std::size_t i = 0; i < N; ++i) g.order[i] = i;
        return g;
    }

    // Kahn's algorithm, always taking the ready step declared first (a min-heap of indices).
    std::array<std::size_t, N + 1> child_begin{};
    for (std::size_t i = 0; i < N; ++i) child_begin[i + 1] = child_begin[i] + g.dependent_count[i];
    std::array<std::size_t, E> children{};
    std::array<std::size_t, N> filled{};
    std::array<std::size_t, N> waiting_on{};
    for (std::size_t i = 0; i < N; ++i) {
        waiting_on[i] = dep_begin[i + 1] - dep_begin[i];
        for (std::size_t e = dep_begin[i]; e < dep_begin[i + 1]; ++e) {
            const std::size_t d = g.dep_index[e];
            children[child_begin[d] + filled[d]++] = i;
        }
    }
    std::array<std::size_t, N> heap{};
    std::size_t heap_size = 0;
    const auto later = [](std::size_t a, std::size_t b) { return a > b; };
    for (std::size_t i = 0; i < N; ++i)
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
    if (done == N) return g;

    // Every step left waits on another step left: walk dependencies until a step repeats.
    std::array<std::size_t, N> position{};
    for (auto& p : position) p = npos;
    std::size_t current = 0;
    while (waiting_on[current] == 0) ++current;
    std::array<std::size_t, N> path{};
    std::size_t length = 0;
    while (position[current] == npos) {
        position[current] = length;
        path[length++] = current;
        for (std::size_t e = dep_begin[current]; e < dep_begin[current + 1]; ++e)
            if (waiting_on[g.dep_index[e]] != 0) {
                current = g.dep_index[e];
                break;
            }
    }
    // Report the cycle starting from its step declared first, so the text does not depend on the walk.
    std::size_t first = position[current];
    for (std::size_t k = position[current]; k < length; ++k)
        if (path[k] < path[first]) first = k;
    for (std::size_t k = first; k < length; ++k) g.cycle[g.cycle_length++] = path[k];
    for (std::size_t k = position[current]; k < first; ++k) g.cycle[g.cycle_length++] = path[k];
    return g;
}

}  // namespace pgflow::detail
