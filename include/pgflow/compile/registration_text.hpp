#pragma once
// The text of pgflow 0.8.1's compileFlow (docs/registration.md), written at compile time into a buffer whose
// size is bounded from the slugs alone (option values are not part of the flow's type).

#include <pgflow/compile/graph.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace pgflow::detail {

/// Widest text of one `, name => <int>` option.
constexpr std::size_t option_capacity(std::string_view name) noexcept {
    return 2 + name.size() + 4 + 11;  // ", " name " => " and up to 11 characters of an int
}

template <std::size_t N, std::size_t E>
constexpr std::size_t registration_capacity(std::string_view flow_slug, const flow_graph<N, E>& g) noexcept {
    std::size_t n = std::string_view("SELECT pgflow.create_flow('").size() + flow_slug.size() + 1 +
                    option_capacity("max_attempts") + option_capacity("base_delay") + option_capacity("timeout") + 2;
    for (std::size_t i = 0; i < N; ++i) {
        n += 1 + std::string_view("SELECT pgflow.add_step('").size() + flow_slug.size() + 4 + g.slugs[i].size() + 1;
        const std::size_t deps = g.dep_begin[i + 1] - g.dep_begin[i];
        if (deps > 0) {
            n += std::string_view(", ARRAY[").size() + 1;
            for (std::size_t e = g.dep_begin[i]; e < g.dep_begin[i + 1]; ++e)
                n += g.dep_index[e] < N ? g.slugs[g.dep_index[e]].size() + 4 : 4;
        }
        n += option_capacity("max_attempts") + option_capacity("base_delay") + option_capacity("timeout") +
             option_capacity("start_delay") + std::string_view(", step_type => 'map'").size() + 2;
    }
    return n;
}

template <std::size_t Capacity>
struct text_writer {
    std::array<char, Capacity>& out;
    std::size_t size = 0;

    constexpr void put(std::string_view s) noexcept {
        for (const char c : s) out[size++] = c;
    }
    constexpr void put(int value) noexcept {
        char digits[11]{};
        std::size_t n = 0;
        // Negative values are rejected before any SQL is written; long long keeps INT_MIN safe anyway.
        long long v = value;
        if (v < 0) {
            out[size++] = '-';
            v = -v;
        }
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v > 0);
        while (n > 0) out[size++] = digits[--n];
    }
    constexpr void option(std::string_view name, const std::optional<int>& value) noexcept {
        if (!value) return;
        put(", ");
        put(name);
        put(" => ");
        put(*value);
    }
};

/// Writes the statements, `\n`-joined, steps in the graph's topological order; returns the length.
template <std::size_t Capacity, std::size_t N, std::size_t E>
constexpr std::size_t write_registration_sql(std::array<char, Capacity>& buffer, std::string_view flow_slug,
                                             const flow_graph<N, E>& g, const std::array<step_type, N>& types,
                                             const flow_options& flow_opts,
                                             const std::array<step_options, N>& step_opts) noexcept {
    text_writer<Capacity> w{buffer};
    w.put("SELECT pgflow.create_flow('");
    w.put(flow_slug);
    w.put("'");
    w.option("max_attempts", flow_opts.max_attempts);
    w.option("base_delay", flow_opts.base_delay);
    w.option("timeout", flow_opts.timeout);
    w.put(");");
    for (std::size_t k = 0; k < N; ++k) {
        const std::size_t i = g.order[k];
        w.put("\nSELECT pgflow.add_step('");
        w.put(flow_slug);
        w.put("', '");
        w.put(g.slugs[i]);
        w.put("'");
        if (g.dep_begin[i + 1] > g.dep_begin[i]) {
            w.put(", ARRAY[");
            for (std::size_t e = g.dep_begin[i]; e < g.dep_begin[i + 1]; ++e) {
                if (e > g.dep_begin[i]) w.put(", ");
                w.put("'");
                w.put(g.slugs[g.dep_index[e]]);
                w.put("'");
            }
            w.put("]");
        }
        w.option("max_attempts", step_opts[i].max_attempts);
        w.option("base_delay", step_opts[i].base_delay);
        w.option("timeout", step_opts[i].timeout);
        w.option("start_delay", step_opts[i].start_delay);
        if (types[i] == step_type::map) w.put(", step_type => 'map'");
        w.put(");");
    }
    return w.size;
}

}  // namespace pgflow::detail
