#pragma once
// Steps without handlers (issue 15): a run waits for them without holding a worker.
//
//   pgflow::signal<"approval", pgflow::after<"draft">, Approval>(pgflow::signal_options{.timeout = 3600})
//       waits until client.signal<"approval">(flow, run_id, Approval{...}) (or SQL pgflow_cpp.signal)
//       gives it its value, which is its output. Registered with the value's JSON shape, which
//       pgflow_cpp.signal checks. signal_map<"approvals", pgflow::after<"items">, Approval>() waits
//       for one signal per element (task_index k for element k) and outputs their std::vector.
//   pgflow::sleep<"cool_off", pgflow::after<"ship">>([](const Order&, const Shipped& s) { return s.at + 24h; })
//       a function of the flow input and the dependencies' outputs (like a step handler) returning
//       when to wake: a system_clock time_point, or a duration from now. A worker runs it (the
//       dispatcher throws pgflow::sleep_request, waits.hpp) and the database wakes the step then;
//       its output is the time it was to wake (its deadline), as an ISO-8601 std::string.
//   pgflow::subflow<"charge", pgflow::after<"order">>(charge_flow)
//       starts a run of charge_flow (a flow at namespace scope) with the flow input (no dependency)
//       or its single dependency's output, and completes with that run's output
//       (Child::output_type); subflow_map<"charges", pgflow::after<"orders">>(charge_flow) starts
//       one child run per element and outputs a std::vector of their outputs, in element order.
// Conditions (conditions.hpp) may follow after<...> as for any step. The child flows register
// before their parent (registration_shapes, registration.hpp).

#include <pgflow/compile/type_list.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/step.hpp>
#include <pgflow/wait_checks.hpp>
#include <pgflow/waits.hpp>

#include <boost/json/fwd.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace pgflow {

namespace detail {

/// What a signal step holds: its value type and how long it waits.
template <class Value>
struct signal_description {
    using value_type = Value;
    std::optional<int> timeout;
};

/// What a subflow step holds: the child flow (at namespace scope; the step keeps its address).
template <class Child>
struct subflow_description {
    using child_type = Child;
    const Child* child;
};

template <class T>
concept declared_flow = requires {
    T::slug_string;
    typename T::input_type;
    typename T::output_type;
    typename T::traits;
};

/// step<"s", only_if<...>> may leave after<> out; so may the wait steps.
template <class After>
using after_or_root = std::conditional_t<is_condition<After>, pgflow::after<>, After>;

template <step_kind Kind, fixed_string Slug, step_type Type, class After, class... Conditions, class Handler>
constexpr auto make_wait_step(step_options options, Handler handler) {
    if constexpr (is_condition<After>)
        return make_step_of_kind<Kind, Slug, pgflow::after<>, Type, After, Conditions...>(options, std::move(handler));
    else
        return make_step_of_kind<Kind, Slug, After, Type, Conditions...>(options, std::move(handler));
}

template <fixed_string Slug, step_type Type, class After, class... Conditions, class Child>
constexpr auto make_subflow(step_options options, const Child& child) {
    if constexpr (!declared_flow<Child>) {
        static_assert(sizeof(check_subflow_child_is_a_flow<Child>) > 0);
        return invalid_step{};
    } else if constexpr (Type == step_type::single && is_after<after_or_root<After>>::value &&
                         after_or_root<After>::size > 1) {
        static_assert(sizeof(check_subflow_has_at_most_one_dependency<Slug, After>) > 0);
        return invalid_step{};
    } else {
        return make_wait_step<step_kind::subflow, Slug, Type, After, Conditions...>(options,
                                                                                    subflow_description<Child>{&child});
    }
}

}  // namespace detail

/// A step completed by a signal carrying a Value (its output). signal_options: its timeout, retries.
template <fixed_string Slug, class After = after<>, class Value = boost::json::value, class... Conditions>
[[nodiscard]] constexpr auto signal(signal_options options = {}) {
    return detail::make_wait_step<step_kind::signal, Slug, step_type::single, After, Conditions...>(
        step_options{options.max_attempts, options.base_delay, std::nullopt, std::nullopt},
        detail::signal_description<Value>{options.timeout});
}

/// One signal per element of the array it maps over (as map<...>): task k waits for the signal
/// with task_index k; the step's output is the std::vector of the values, in element order.
template <fixed_string Slug, class After = after<>, class Value = boost::json::value, class... Conditions>
[[nodiscard]] constexpr auto signal_map(signal_options options = {}) {
    return detail::make_wait_step<step_kind::signal, Slug, step_type::map, After, Conditions...>(
        step_options{options.max_attempts, options.base_delay, std::nullopt, std::nullopt},
        detail::signal_description<Value>{options.timeout});
}

/// A step that completes at the time `deadline(flow_input, dependency_outputs...)` returns.
template <fixed_string Slug, class After = after<>, class... Conditions, class Deadline>
[[nodiscard]] constexpr auto sleep(step_options options, Deadline deadline) {
    return detail::make_wait_step<step_kind::sleep, Slug, step_type::single, After, Conditions...>(options,
                                                                                                   std::move(deadline));
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Deadline>
[[nodiscard]] constexpr auto sleep(Deadline deadline) {
    return sleep<Slug, After, Conditions...>(step_options{}, std::move(deadline));
}

/// A step that runs `child` (a flow at namespace scope) as a child run; max_attempts/base_delay
/// retry a failed child with a new run.
template <fixed_string Slug, class After = after<>, class... Conditions, class Child>
[[nodiscard]] constexpr auto subflow(step_options options, const Child& child) {
    return detail::make_subflow<Slug, step_type::single, After, Conditions...>(options, child);
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Child>
[[nodiscard]] constexpr auto subflow(const Child& child) {
    return detail::make_subflow<Slug, step_type::single, After, Conditions...>(step_options{}, child);
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Child>
void subflow(const Child&&) = delete;  // a temporary flow would dangle

/// One child run of `child` per element of the array it maps over (as map<...>).
template <fixed_string Slug, class After = after<>, class... Conditions, class Child>
[[nodiscard]] constexpr auto subflow_map(step_options options, const Child& child) {
    return detail::make_subflow<Slug, step_type::map, After, Conditions...>(options, child);
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Child>
[[nodiscard]] constexpr auto subflow_map(const Child& child) {
    return detail::make_subflow<Slug, step_type::map, After, Conditions...>(step_options{}, child);
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Child>
void subflow_map(const Child&&) = delete;  // a temporary flow would dangle

}  // namespace pgflow
