#pragma once
// pgflow::flow<Slug, Input>(options?, steps...) — a whole flow, checked at compile time.
//
//   constexpr auto order_processing = pgflow::flow<"order_processing", Order>(
//       pgflow::flow_options{.max_attempts = 3},
//       pgflow::step<"validate">([](const Order& o) { return Validated{o.amount > 0}; }),
//       pgflow::step<"charge", pgflow::after<"validate">>(
//           [](const Order& o, const Validated& v) { return Charge{...}; }));
//
// Steps may be declared in any order. Building the flow checks, in this order, stopping at the
// first problem: the flow slug; each step's own declaration (step.hpp); duplicate step slugs;
// undeclared dependencies; cycles; the flow input's JSON mapping; then, step by step in topological
// order, map inputs, handler signatures and output JSON mappings; finally (as values) the option
// ranges. The flow object carries its registration SQL, written while it is constructed, so that
// registration_sql(f) is a constant expression for a constexpr flow.

#include <pgflow/checks.hpp>
#include <pgflow/compile/flow_analysis.hpp>
#include <pgflow/compile/flow_checks.hpp>
#include <pgflow/compile/registration_text.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/options.hpp>
#include <pgflow/step.hpp>

#include <boost/json/fwd.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace pgflow {

namespace detail {

/// What flow<...>(...) returns when one of its checks failed (the check already reported it).
struct invalid_flow {};

/// Only flow<...>(...), after its checks, constructs a flow_definition.
struct checked_flow {
    explicit checked_flow() = default;
};

}  // namespace detail

/// A flow: its steps (with their handlers), options and registration SQL. Built by flow<...>(...).
/// Its static members slug_string (a fixed_string), slug (a std::string_view) and step_count come from
/// detail::flow_identity (in a base named by them alone, see flow_traits in compile/flow_analysis.hpp).
template <fixed_string Slug, class Input, class... Steps>
class flow_definition : public detail::flow_identity<Slug, sizeof...(Steps)> {
public:
    /// Compile-time facts about the flow (graph, per-step analysis); machinery, not API.
    using traits = detail::flow_traits_t<Slug, Input, Steps...>;

    using detail::flow_identity<Slug, sizeof...(Steps)>::slug;
    using detail::flow_identity<Slug, sizeof...(Steps)>::step_count;
    using input_type = Input;
    /// One member per leaf step, read with pgflow::get<"slug">(out) (output.hpp).
    using output_type = typename detail::leaf_steps<traits>::output_type;

    constexpr flow_definition(detail::checked_flow, flow_options options, Steps... steps)
        : options_(options), steps_{{std::move(steps)}...},
          step_options_(step_options_in_declaration_order(std::index_sequence_for<Steps...>{})),
          step_waits_(step_waits_in_declaration_order(std::index_sequence_for<Steps...>{})) {
        check_options(std::index_sequence_for<Steps...>{});
        detail::text_buffer<sql_capacity> sql{sql_};
        detail::write_registration(sql, detail::graph_source<step_count, traits::edge_count>{
                                            slug, traits::facts.graph, traits::facts.types, traits::facts.conditions,
                                            options_, step_options_, step_waits_});
        sql_size_ = sql.size;
    }

    [[nodiscard]] constexpr const flow_options& options() const noexcept { return options_; }

    /// pgflow 0.8.1's compileFlow text for this flow, statements joined by '\n' (docs/registration.md).
    [[nodiscard]] constexpr std::string_view registration_sql() const noexcept { return {sql_.data(), sql_size_}; }

    /// The steps' storage (machinery for the dispatcher, not API).
    [[nodiscard]] constexpr const auto& storage() const noexcept { return steps_; }

    /// Every step's options, in declaration order.
    [[nodiscard]] constexpr const std::array<step_options, step_count>& declared_step_options() const noexcept {
        return step_options_;
    }

    /// What pgflow_cpp.set_step_kind registers per step (kind handler for handler steps), in
    /// declaration order.
    [[nodiscard]] constexpr const std::array<detail::step_wait_text, step_count>& step_waits() const noexcept {
        return step_waits_;
    }

    /// Step slugs in registration order (dependencies first, otherwise declaration order).
    [[nodiscard]] static constexpr std::array<std::string_view, step_count> step_slugs() noexcept {
        std::array<std::string_view, step_count> out{};
        constexpr const auto& g = traits::facts.graph;
        for (std::size_t k = 0; k < step_count; ++k) out[k] = g.slugs[g.order[k]];
        return out;
    }

private:
    template <std::size_t... Is>
    constexpr void check_options(std::index_sequence<Is...>) const {
        detail::check_flow_options(slug, options_);
        // Braced lists, not folds: see compile/type_list.hpp.
        [[maybe_unused]] const int checked[] = {
            0, (detail::check_step_options(slug, Steps::slug,
                                           static_cast<const detail::indexed_value<Is, Steps>&>(steps_).value.options),
                0)...};
        if constexpr (traits::has_waits) {
            [[maybe_unused]] const int timeouts_checked[] = {
                0, (check_signal_timeout(static_cast<const detail::indexed_value<Is, Steps>&>(steps_).value), 0)...};
        }
    }
    template <class Step>
    static constexpr void check_signal_timeout(const Step& step) {
        if constexpr (detail::is(Step::kind, step_kind::signal)) {
            if (step.handler.timeout && *step.handler.timeout <= 0)
                detail::step_option_out_of_range::signal_timeout_must_be_positive(slug, Step::slug,
                                                                                  *step.handler.timeout);
        }
    }
    template <std::size_t... Is>
    constexpr std::array<detail::step_wait_text, step_count> step_waits_in_declaration_order(
        std::index_sequence<Is...>) const noexcept {
        std::array<detail::step_wait_text, step_count> out = traits::facts.waits;
        if constexpr (traits::has_waits) {
            const auto timeout = [&](std::size_t i, const auto& step) {
                if constexpr (detail::is(std::remove_cvref_t<decltype(step)>::kind, step_kind::signal))
                    out[i].signal_timeout = step.handler.timeout;
            };
            [[maybe_unused]] const int filled[] = {
                0, (timeout(Is, static_cast<const detail::indexed_value<Is, Steps>&>(steps_).value), 0)...};
        }
        return out;
    }
    template <std::size_t... Is>
    constexpr std::array<step_options, step_count> step_options_in_declaration_order(
        std::index_sequence<Is...>) const noexcept {
        return {static_cast<const detail::indexed_value<Is, Steps>&>(steps_).value.options...};
    }

    // An enumerator, not a static data member: see flow_traits.
    enum : std::size_t {
        sql_capacity = detail::registration_capacity(slug, traits::facts.graph, traits::facts.types,
                                                     traits::facts.conditions, traits::facts.waits)
    };

    flow_options options_;
    detail::indexed_values<std::index_sequence_for<Steps...>, Steps...> steps_;
    // Kept, not rebuilt on demand: shape_of() reads them at run time, and rebuilding them there made
    // every worker compile a function of one base-class cast per step.
    std::array<step_options, step_count> step_options_;
    std::array<detail::step_wait_text, step_count> step_waits_;
    std::array<char, sql_capacity> sql_{};
    std::size_t sql_size_ = 0;
};

/// Declares a flow whose run input is an Input (any JSON-convertible type; boost::json::value
/// when left out). Steps may be given in any order.
// `requires detail::step_arguments<Steps...>`, not `detail::step_argument... Steps`: the latter is
// a fold, which clang refuses past 256 steps (compile/type_list.hpp).
template <fixed_string Slug, class Input = boost::json::value, class... Steps>
    requires detail::step_arguments<Steps...>
[[nodiscard]] constexpr auto flow(flow_options options, Steps... steps) {
    using problem = typename decltype(detail::flow_problem<Slug, Input, Steps...>())::type;
    if constexpr (!std::is_same_v<problem, detail::no_problem>) {
        static_assert(sizeof(problem) > 0);  // shows the check's diagnostic
        return detail::invalid_flow{};
    } else {
        return flow_definition<Slug, Input, Steps...>(detail::checked_flow{}, options, std::move(steps)...);
    }
}
template <fixed_string Slug, class Input = boost::json::value, class... Steps>
    requires detail::step_arguments<Steps...>
[[nodiscard]] constexpr auto flow(Steps... steps) {
    return flow<Slug, Input>(flow_options{}, std::move(steps)...);
}

namespace detail {
template <class T>
struct is_flow_definition : std::false_type {};
template <fixed_string S, class I, class... Steps>
struct is_flow_definition<flow_definition<S, I, Steps...>> : std::true_type {};

template <class Flow, fixed_string Step>
struct step_output_lookup {
    static constexpr std::size_t index = Flow::traits::facts.graph.index_of(Step.view());
    static_assert(index != npos, "the flow has no step with this slug");
    using type = typename step_analysis<typename Flow::traits, index>::output_type;
};

/// The value type of signal step Step (a check names what is wrong: no such step, not a signal
/// step, or — when Given is not void — a Given that is not that type); invalid_output then.
template <class Flow, fixed_string Step, class Given>
constexpr auto signal_value_lookup() {
    constexpr std::size_t index = Flow::traits::facts.graph.index_of(Step.view());
    if constexpr (index == npos) {
        static_assert(sizeof(check_signal_step_exists<Flow::slug_string, Step>) > 0);
        return std::type_identity<invalid_output>{};
    } else if constexpr (!detail::is(detail::flow_step_t<typename Flow::traits, index>::kind, step_kind::signal)) {
        static_assert(sizeof(check_signalled_step_is_a_signal_step<Flow::slug_string, Step>) > 0);
        return std::type_identity<invalid_output>{};
    } else {
        using value = typename detail::flow_step_t<typename Flow::traits, index>::handler_type::value_type;
        if constexpr (!std::is_convertible_v<std::add_lvalue_reference_t<const Given>, value> &&
                      !std::is_void_v<Given>) {
            static_assert(sizeof(check_signal_value_has_the_step_type<Flow::slug_string, Step, value, Given>) > 0);
            return std::type_identity<invalid_output>{};
        } else {
            return std::type_identity<value>{};
        }
    }
}
}  // namespace detail

/// The value type of signal step Step of flow Flow: what client.signal<Step>(flow, ...) takes.
template <class Flow, fixed_string Step, class Given = void>
using signal_value_t =
    typename decltype(detail::signal_value_lookup<std::remove_cvref_t<Flow>, Step, std::remove_cvref_t<Given>>())::type;

/// A flow built by pgflow::flow<...>(...).
template <class T>
concept flow_type = detail::is_flow_definition<std::remove_cvref_t<T>>::value;

/// The output type of step Step of flow Flow (a std::vector for a map step).
template <flow_type Flow, fixed_string Step>
using step_output_t = typename detail::step_output_lookup<std::remove_cvref_t<Flow>, Step>::type;

}  // namespace pgflow
