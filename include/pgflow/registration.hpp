#pragma once
// What a flow looks like to the database:
//   registration_sql(f) — pgflow 0.8.1's compileFlow text (docs/registration.md), a constant expression for a
//                         constexpr flow: `constexpr std::string_view sql = registration_sql(f);`. The
//                         same text as registration_sql(shape_of(f)): one writer, compile/registration_text.hpp.
//   shape_of(f)         — a run-time description (pgflow::flow_shape) to compare with what a
//                         database has registered.

#include <pgflow/compile/type_list.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/detail/type_name.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow {

/// `SELECT pgflow.create_flow(...);` then one `SELECT pgflow.add_step(...);` per step, joined by
/// '\n' without a trailing newline. The view points into `f`.
template <flow_type Flow>
[[nodiscard]] constexpr std::string_view registration_sql(const Flow& f) noexcept {
    return f.registration_sql();
}

/// A flow whose checks failed (already reported); keeps follow-up code from adding errors.
constexpr std::string_view registration_sql(const detail::invalid_flow&) noexcept { return {}; }

namespace detail {

template <class... Ts>
constexpr std::array<std::string_view, sizeof...(Ts)> type_names_of(type_list<Ts...>) noexcept {
    return {type_name<Ts>()...};
}

/// The C++ type names of every step's handler arguments and output, as one constexpr table (make()),
/// so that shape_of() is a single loop rather than one function per step.
template <class Traits>
struct step_type_names {
    // Enumerators, no static data member: see flow_traits (compile/flow_analysis.hpp).
    enum : std::size_t { n = Traits::step_count };
    template <std::size_t... Is>
    static constexpr std::size_t count_arguments(std::index_sequence<Is...>) {
        return sum_of_pack<step_analysis<Traits, Is>::arguments::size...>();
    }
    enum : std::size_t { argument_count = count_arguments(std::make_index_sequence<n>{}) };

    struct table {
        std::array<std::string_view, n> output{};
        std::array<std::size_t, n + 1> argument_begin{};
        std::array<std::string_view, argument_count> arguments{};
    };
    template <std::size_t... Is>
    static constexpr table make(std::index_sequence<Is...>) {
        table t;
        std::size_t a = 0;
        const auto add = [&](std::size_t i, std::string_view output, const auto& names) {
            t.output[i] = output;
            t.argument_begin[i] = a;
            for (const std::string_view name : names) t.arguments[a++] = name;
        };
        [[maybe_unused]] const int added[] = {0, (add(Is, type_name<typename step_analysis<Traits, Is>::output_type>(),
                                                      type_names_of(typename step_analysis<Traits, Is>::arguments{})),
                                                  0)...};
        static_cast<void>(add);  // a flow may have no steps
        t.argument_begin[n] = a;
        return t;
    }
};

}  // namespace detail

/// The flow as pgflow.flows / pgflow.steps / pgflow.deps would hold it: effective flow options
/// (create_flow's defaults 3 / 5 / 60 where unset), per-step options as given (nullopt = inherit),
/// steps in registration order, plus the C++ input and output types for messages.
template <flow_type Flow>
[[nodiscard]] flow_shape shape_of(const Flow& f) {
    using traits = typename Flow::traits;
    constexpr const auto& g = traits::facts.graph;
    // A local constant, not a static data member: that would be a symbol named after every step
    // (some 64 kB for 500), and g++ spends about 40 ms at -O0 on each such name it emits. (Copied
    // to the stack per call at -O0: once per registration.)
    constexpr auto names = detail::step_type_names<traits>::make(std::make_index_sequence<Flow::step_count>{});
    const std::array<step_options, Flow::step_count>& options = f.declared_step_options();
    const std::array<detail::step_wait_text, Flow::step_count>& waits = f.step_waits();

    flow_shape shape;
    shape.slug = std::string(Flow::slug);
    shape.max_attempts = f.options().max_attempts.value_or(default_max_attempts);
    shape.base_delay = f.options().base_delay.value_or(default_base_delay);
    shape.timeout = f.options().timeout.value_or(default_timeout);
    shape.stated_options = f.options();
    shape.input_type = std::string(detail::type_name<typename Flow::input_type>());
    shape.steps.reserve(Flow::step_count);
    for (const std::size_t i : g.order) {
        step_shape& s = shape.steps.emplace_back();
        s.slug = std::string(g.slugs[i]);
        s.type = traits::facts.types[i];
        for (std::size_t k = 0; k < g.dependency_count(i); ++k)
            s.dependencies.emplace_back(g.slugs[g.dependency(i, k)]);
        s.max_attempts = options[i].max_attempts;
        s.base_delay = options[i].base_delay;
        s.timeout = options[i].timeout;
        s.start_delay = options[i].start_delay;
        s.required_input_pattern = std::string(traits::facts.conditions[i].required);
        s.forbidden_input_pattern = std::string(traits::facts.conditions[i].forbidden);
        s.when_unmet = traits::facts.conditions[i].when_unmet;
        s.when_exhausted = traits::facts.conditions[i].when_exhausted;
        s.kind = waits[i].kind;
        s.signal_timeout = waits[i].signal_timeout;
        s.value_shape = std::string(waits[i].value_shape);
        s.child_flow = std::string(waits[i].child_flow);
        // A map task gets one element; a step gets {"run": input, "<dependency>": output, ...}.
        const std::size_t first = names.argument_begin[i];
        if (s.type == step_type::map) {
            s.input_type = std::string(names.arguments[first]);
        } else {
            s.input_type = detail::concat({"{\"run\": ", names.arguments[first]});
            for (std::size_t k = 0; k < s.dependencies.size(); ++k)
                s.input_type += detail::concat({", \"", s.dependencies[k], "\": ", names.arguments[first + 1 + k]});
            s.input_type += '}';
        }
        s.output_type = std::string(names.output[i]);
    }
    return shape;
}

inline flow_shape shape_of(const detail::invalid_flow&) { return {}; }

namespace detail {

template <class Flow>
void add_registration_shapes(const Flow& f, std::vector<flow_shape>& out);

/// The child flows of f's subflow steps, each with its own children first.
template <class Flow, std::size_t... Is>
void add_child_shapes(const Flow& f, std::vector<flow_shape>& out, std::index_sequence<Is...>) {
    const auto add = [&](const auto& step) {
        if constexpr (detail::is(std::remove_cvref_t<decltype(step)>::kind, step_kind::subflow))
            add_registration_shapes(*step.handler.child, out);
    };
    [[maybe_unused]] const int added[] = {
        0,
        (add(static_cast<const indexed_value<Is, flow_step_t<typename Flow::traits, Is>>&>(f.storage()).value), 0)...};
    static_cast<void>(add);
}

template <class Flow>
void add_registration_shapes(const Flow& f, std::vector<flow_shape>& out) {
    if constexpr (Flow::traits::has_waits) add_child_shapes(f, out, std::make_index_sequence<Flow::step_count>{});
    for (const flow_shape& known : out)
        if (known.slug == Flow::slug) return;  // a child of two subflow steps registers once
    out.push_back(shape_of(f));
}

}  // namespace detail

/// What registering f takes, in order: the flows its subflow steps run (recursively, each once),
/// then f. pgflow_cpp.set_step_kind needs a subflow's child flow to exist, so the client and the
/// worker register these in this order.
template <flow_type Flow>
[[nodiscard]] std::vector<flow_shape> registration_shapes(const Flow& f) {
    std::vector<flow_shape> out;
    detail::add_registration_shapes(f, out);
    return out;
}

}  // namespace pgflow
