#pragma once
// What a flow looks like to the database:
//   registration_sql(f) — pgflow 0.8.1's compileFlow text (spec 12.4), a constant expression for a
//                         constexpr flow: `constexpr std::string_view sql = registration_sql(f);`
//   shape_of(f)         — a run-time description (pgflow::flow_shape) to compare with what a
//                         database has registered.

#include <pgflow/detail/type_name.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

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

/// `{"run": Order, "validate": Validated}` for a single step, the element type for a map step.
template <class Analysis>
std::string describe_step_input() {
    using step = typename Analysis::step;
    if constexpr (step::type == step_type::map) {
        return std::string(type_name<list_at<0, typename Analysis::arguments>>());
    } else {
        return []<std::size_t... Ks>(std::index_sequence<Ks...>) {
            std::string text = "{\"run\": " + std::string(type_name<list_at<0, typename Analysis::arguments>>());
            ((text += ", \"" + std::string(step::dependencies::slugs[Ks]) + "\": " +
                      std::string(type_name<list_at<Ks + 1, typename Analysis::arguments>>())),
             ...);
            return text + "}";
        }(std::make_index_sequence<step::dependencies::size>{});
    }
}

template <class Flow, std::size_t I>
step_shape shape_of_step(const Flow& f) {
    using analysis = step_analysis<typename Flow::traits, I>;
    using step = typename analysis::step;
    const step_options& o = f.template step_at<I>().options;
    step_shape s;
    s.slug = std::string(step::slug);
    s.type = step::type;
    for (const std::string_view d : step::dependencies::slugs) s.dependencies.emplace_back(d);
    s.max_attempts = o.max_attempts;
    s.base_delay = o.base_delay;
    s.timeout = o.timeout;
    s.start_delay = o.start_delay;
    s.input_type = describe_step_input<analysis>();
    s.output_type = std::string(type_name<typename analysis::output_type>());
    return s;
}

}  // namespace detail

/// The flow as pgflow.flows / pgflow.steps / pgflow.deps would hold it: effective flow options
/// (create_flow's defaults 3 / 5 / 60 where unset), per-step options as given (nullopt = inherit),
/// steps in registration order, plus the C++ input and output types for messages.
template <flow_type Flow>
[[nodiscard]] flow_shape shape_of(const Flow& f) {
    using traits = typename Flow::traits;
    flow_shape shape;
    shape.slug = std::string(Flow::slug);
    shape.max_attempts = f.options().max_attempts.value_or(default_max_attempts);
    shape.base_delay = f.options().base_delay.value_or(default_base_delay);
    shape.timeout = f.options().timeout.value_or(default_timeout);
    shape.input_type = std::string(detail::type_name<typename Flow::input_type>());
    std::array<step_shape, Flow::step_count> declared = [&]<std::size_t... Is>(std::index_sequence<Is...>) {
        return std::array<step_shape, Flow::step_count>{detail::shape_of_step<Flow, Is>(f)...};
    }(std::make_index_sequence<Flow::step_count>{});
    shape.steps.reserve(Flow::step_count);
    for (std::size_t k = 0; k < Flow::step_count; ++k) shape.steps.push_back(std::move(declared[traits::graph.order[k]]));
    return shape;
}

inline flow_shape shape_of(const detail::invalid_flow&) { return {}; }

}  // namespace pgflow
