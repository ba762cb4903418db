#pragma once
// The registration buffer's capacity is counted by arithmetic (detail::registration_capacity); this
// runs write_registration itself into a counting sink with every option at its widest, which is what
// the capacity must equal.

#include <pgflow/flow.hpp>

#include <array>
#include <cstddef>
#include <limits>

namespace test_support {

template <class Flow>
constexpr std::size_t capacity_by_writing(const Flow&) {
    using traits = typename Flow::traits;
    constexpr const auto& facts = traits::facts;
    constexpr int widest = std::numeric_limits<int>::min();
    std::array<pgflow::step_options, Flow::step_count> steps{};
    for (pgflow::step_options& s : steps) s = {widest, widest, widest, widest};
    std::array<pgflow::detail::step_wait_text, Flow::step_count> waits = facts.waits;
    for (pgflow::detail::step_wait_text& w : waits)
        if (w.kind == pgflow::step_kind::signal) w.signal_timeout = widest;
    const pgflow::detail::graph_source<Flow::step_count, traits::edge_count> widest_flow{
        Flow::slug, facts.graph, facts.types, facts.conditions, {widest, widest, widest}, steps, waits};
    pgflow::detail::text_size size;
    pgflow::detail::write_registration(size, widest_flow);
    return size.size;
}

template <class Flow>
constexpr bool capacity_matches_the_writer(const Flow& flow) {
    using traits = typename Flow::traits;
    constexpr const auto& facts = traits::facts;
    return capacity_by_writing(flow) ==
           pgflow::detail::registration_capacity(Flow::slug, facts.graph, facts.types, facts.conditions, facts.waits);
}

}  // namespace test_support
