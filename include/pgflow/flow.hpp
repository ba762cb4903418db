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

/// A flow's values (options, every step's options and waits, registration text) and their
/// accessors, in a class named by the step count and the text's capacity alone: a member function of
/// flow_definition is named after every step (some 64 kB for 500 steps), and g++ spends about
/// 40 ms at -O0 on each such name it emits (shape_of and a worker's registration call these).
template <std::size_t N, std::size_t SqlCapacity>
class flow_values {
public:
    [[nodiscard]] constexpr const flow_options& options() const noexcept { return options_; }

    /// pgflow 0.8.1's compileFlow text for this flow, statements joined by '\n' (docs/registration.md).
    [[nodiscard]] constexpr std::string_view registration_sql() const noexcept { return {sql_.data(), sql_size_}; }

    /// Every step's options, in declaration order.
    [[nodiscard]] constexpr const std::array<step_options, N>& declared_step_options() const noexcept {
        return step_options_;
    }

    /// What pgflow_cpp.set_step_kind registers per step (kind handler for handler steps), in
    /// declaration order.
    [[nodiscard]] constexpr const std::array<step_wait_text, N>& step_waits() const noexcept { return step_waits_; }

protected:
    enum : std::size_t { sql_capacity = SqlCapacity };

    constexpr flow_values(flow_options options, const std::array<step_options, N>& step_options,
                          const std::array<step_wait_text, N>& step_waits)
        : options_(options), step_options_(step_options), step_waits_(step_waits) {}

    flow_options options_;
    // Kept, not rebuilt on demand: shape_of() reads them at run time, and rebuilding them there made
    // every worker compile a function of one base-class cast per step.
    std::array<step_options, N> step_options_;
    std::array<step_wait_text, N> step_waits_;
    std::array<char, SqlCapacity> sql_{};  ///< written by flow_definition's constructor
    std::size_t sql_size_ = 0;
};

/// The capacity a flow's registration text needs (an enumerator: see flow_traits).
template <class Traits>
struct registration_capacity_of {
    enum : std::size_t {
        value = registration_capacity(Traits::slug, Traits::facts.graph, Traits::facts.types, Traits::facts.conditions,
                                      Traits::facts.waits)
    };
};
template <fixed_string Slug, class Input, class... Steps>
using flow_values_of =
    flow_values<sizeof...(Steps), registration_capacity_of<flow_traits_t<Slug, Input, Steps...>>::value>;

}  // namespace detail

/// A flow: its steps (with their handlers), options and registration SQL. Built by flow<...>(...).
/// Its static members slug_string (a fixed_string), slug (a std::string_view) and step_count come from
/// detail::flow_identity (in a base named by them alone, see flow_traits in compile/flow_analysis.hpp);
/// options(), registration_sql(), declared_step_options() and step_waits() from detail::flow_values.
template <fixed_string Slug, class Input, class... Steps>
class flow_definition : public detail::flow_identity<Slug, sizeof...(Steps)>,
                        public detail::flow_values_of<Slug, Input, Steps...> {
    using values = detail::flow_values_of<Slug, Input, Steps...>;

public:
    /// Compile-time facts about the flow (graph, per-step analysis); machinery, not API.
    using traits = detail::flow_traits_t<Slug, Input, Steps...>;

    using detail::flow_identity<Slug, sizeof...(Steps)>::slug;
    using detail::flow_identity<Slug, sizeof...(Steps)>::step_count;
    using input_type = Input;
    /// One member per leaf step, read with pgflow::get<"slug">(out) (output.hpp).
    using output_type = typename detail::leaf_steps<traits>::output_type;

    constexpr flow_definition(detail::checked_flow, flow_options options, Steps... steps)
        : values(options, {steps.options...}, step_waits_of(steps...)), steps_{{std::move(steps)}...} {
        check_options(std::index_sequence_for<Steps...>{});
        detail::text_buffer<values::sql_capacity> sql{this->sql_};
        detail::write_registration(sql, detail::graph_source<step_count, traits::edge_count>{
                                            slug, traits::facts.graph, traits::facts.types, traits::facts.conditions,
                                            this->options_, this->step_options_, this->step_waits_});
        this->sql_size_ = sql.size;
    }

    /// The steps' storage (machinery for the dispatcher, not API).
    [[nodiscard]] constexpr const auto& storage() const noexcept { return steps_; }

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
        detail::check_flow_options(slug, this->options_);
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
    static constexpr std::array<detail::step_wait_text, step_count> step_waits_of(const Steps&... steps) noexcept {
        std::array<detail::step_wait_text, step_count> out = traits::facts.waits;
        if constexpr (traits::has_waits) {
            std::size_t i = 0;
            const auto timeout = [&](const auto& step) {
                if constexpr (detail::is(std::remove_cvref_t<decltype(step)>::kind, step_kind::signal))
                    out[i].signal_timeout = step.handler.timeout;
                ++i;
            };
            [[maybe_unused]] const int filled[] = {0, (timeout(steps), 0)...};
        }
        return out;
    }

    detail::indexed_values<std::index_sequence_for<Steps...>, Steps...> steps_;
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
