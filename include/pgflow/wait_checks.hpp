#pragma once
// The compile-time diagnostics of steps without handlers (wait_steps.hpp), in checks.hpp's style:
// a class template named after the rule, instantiated with the offending slugs and types, whose
// static_assert says what is wrong and what to do.

#include <pgflow/checks.hpp>
#include <pgflow/fixed_string.hpp>

#include <string_view>

namespace pgflow::detail {

template <fixed_string Flow, fixed_string Step, class Value, class Culprit>
struct check_signal_value_is_json_convertible {
    static_assert(failed_type_check<Value, Culprit>,
                  "a signal step's value type cannot be converted from/to JSON (Culprit is the part that has no "
                  "mapping): the signal arrives as JSON; use numbers, bool, std::string, std::optional, "
                  "containers, boost::json::value, structs adapted with BOOST_HANA_ADAPT_STRUCT / "
                  "BOOST_HANA_DEFINE_STRUCT, or specialize pgflow::json_codec");
};

template <fixed_string Step, class After>
struct check_subflow_has_at_most_one_dependency {
    static_assert(failed_type_check<After>,
                  "a subflow step has at most one dependency: its child run's input is the flow input (no "
                  "dependency) or that dependency's output; combine the values in a step first");
};

/// Received is what the step hands the child run: the flow input (a root step), its dependency's
/// output, or one element of the array a subflow_map maps over.
template <fixed_string Flow, fixed_string Step, fixed_string ChildFlow, class Received, class ChildInput>
struct check_subflow_input_matches_child_flow {
    static_assert(failed_type_check<Received, ChildInput>,
                  "a subflow step's child flow must take as input exactly what the step receives (Received: the "
                  "flow input for a root step, its dependency's output, or the element type for subflow_map): "
                  "change the child flow's input type or the dependency");
};

template <class Child>
struct check_subflow_child_is_a_flow {
    static_assert(failed_type_check<Child>,
                  "subflow<...>(child) takes a flow declared with pgflow::flow<...>(...) at namespace scope (the "
                  "step keeps its address)");
};

template <fixed_string Flow, fixed_string Step, class Result>
struct check_sleep_deadline_is_a_time {
    static_assert(failed_type_check<Result>,
                  "a sleep step's function returns when to wake: a std::chrono::system_clock::time_point, or a "
                  "std::chrono::duration meaning that long from now");
};

// --- typed client.signal -----------------------------------------------------------------------

template <fixed_string Flow, fixed_string Step>
struct check_signal_step_exists {
    static_assert(failed_check<Flow, Step>, "client.signal<\"step\">(flow, ...): the flow has no step with this slug");
};
template <fixed_string Flow, fixed_string Step>
struct check_signalled_step_is_a_signal_step {
    static_assert(failed_check<Flow, Step>,
                  "client.signal<\"step\">(flow, ...): this step is not a signal step (declare it with "
                  "pgflow::signal<\"step\", ..., Value>): only a signal step waits for a signal");
};
template <fixed_string Flow, fixed_string Step, class Expected, class Given>
struct check_signal_value_has_the_step_type {
    static_assert(failed_type_check<Expected, Given>,
                  "client.signal<\"step\">(flow, run, value): the value is not of the signal step's value type "
                  "(Expected); pass an Expected");
};

// --- option ranges (values; see the end of checks.hpp) -----------------------------------------

namespace step_option_out_of_range {
[[noreturn]] inline void signal_timeout_must_be_positive(std::string_view flow, std::string_view step, int value) {
    throw_option_out_of_range(flow, step, "signal timeout", "> 0", value);
}
}  // namespace step_option_out_of_range

}  // namespace pgflow::detail
