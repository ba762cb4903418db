#pragma once
// Every compile-time diagnostic of the DSL as a named check. A failing check is a class template
// instantiated with the offending slugs and types, so the compiler's "in instantiation of" line
// reads like a sentence, e.g.
//   pgflow::detail::check_dependency_declared<fixed_string<17>{"order_processing"},
//                                             fixed_string<7>{"charge"}, fixed_string<8>{"valdate"}>
// followed by a static_assert message saying what is wrong and what to do. Checks are only
// instantiated when they fail, so valid flows pay nothing for them.
//
// Option ranges are values, not types: they are checked while a constexpr flow is constructed, by
// calling a non-constexpr function whose name is the diagnostic (see the end of this file).

#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/options.hpp>
#include <pgflow/slug.hpp>

#include <string>
#include <string_view>

namespace pgflow::detail {

/// What a check-selecting function returns when there is nothing to report. Otherwise it returns
/// std::type_identity<the failing check>, and the caller instantiates that check with
/// `static_assert(sizeof(check) > 0)`: exactly one diagnostic, and no constant evaluation of a
/// function that failed to instantiate (which would add follow-up errors).
struct no_problem {};

template <auto...>
inline constexpr bool failed_check = false;
template <class...>
inline constexpr bool failed_type_check = false;

/// The parameters a handler is called with, as the step provides them (shown in diagnostics).
template <class... Params>
struct expected_parameters {};
/// The parameters the handler declares (shown in diagnostics).
template <class... Params>
struct handler_parameters {};

// --- slugs --------------------------------------------------------------------------------------

// The messages are slug.hpp's: dynamic flows throw the same words.
template <fixed_string Flow>
struct check_flow_slug_is_valid {
    static_assert(failed_check<Flow>, PGFLOW_DETAIL_INVALID_FLOW_SLUG);
};
template <fixed_string Flow>
struct check_flow_slug_is_not_reserved {
    static_assert(failed_check<Flow>, PGFLOW_DETAIL_RESERVED_FLOW_SLUG);
};
template <fixed_string Flow>
struct check_flow_slug_fits_queue_name {
    static_assert(failed_check<Flow>, PGFLOW_DETAIL_FLOW_SLUG_TOO_LONG);
};
template <fixed_string Step>
struct check_step_slug_is_valid {
    static_assert(failed_check<Step>, PGFLOW_DETAIL_INVALID_STEP_SLUG);
};
template <fixed_string Step>
struct check_step_slug_is_not_reserved {
    static_assert(failed_check<Step>, PGFLOW_DETAIL_RESERVED_STEP_SLUG);
};

template <fixed_string Step, class After>
struct check_dependencies_are_listed_with_after {
    static_assert(failed_type_check<After>,
                  "the second template argument of step<...> / map<...> lists the step's dependencies: write "
                  "pgflow::after<\"slug\", ...>");
};

// --- dependencies -------------------------------------------------------------------------------
// Each rule's words (a macro: a static_assert takes only a string literal) are what a dynamic flow
// throws; the compile-time diagnostic may add how to fix it in the DSL (after<...>).

#define PGFLOW_DETAIL_SELF_DEPENDENCY "a step cannot depend on itself"
#define PGFLOW_DETAIL_DEPENDENCY_TWICE "a dependency is listed twice"
#define PGFLOW_DETAIL_MAP_DEPENDENCIES "a map step has at most one dependency, the step whose array output it maps over"
#define PGFLOW_DETAIL_DUPLICATE_STEP "two steps of this flow have the same slug: give every step its own slug"
#define PGFLOW_DETAIL_UNDECLARED_DEPENDENCY "a step depends on a step that is not declared in this flow"
#define PGFLOW_DETAIL_DEPENDENCY_CYCLE                                                                    \
    "the dependencies form a cycle (\"a -> b\" means a depends on b), so none of these steps could ever " \
    "start: remove one of the dependencies on the cycle"

template <fixed_string Step>
struct check_step_does_not_depend_on_itself {
    static_assert(failed_check<Step>, PGFLOW_DETAIL_SELF_DEPENDENCY ": remove its own slug from after<...>");
};
template <fixed_string Step, fixed_string Dependency>
struct check_dependency_listed_once {
    static_assert(failed_check<Step, Dependency>,
                  PGFLOW_DETAIL_DEPENDENCY_TWICE " in after<...>: list each dependency once");
};
template <fixed_string Step, class After>
struct check_map_has_at_most_one_dependency {
    static_assert(failed_type_check<After>, PGFLOW_DETAIL_MAP_DEPENDENCIES
                  ": give the map a single after<\"dependency\">, or none to map "
                  "over the flow input");
};
template <fixed_string Flow, fixed_string Step>
struct check_step_declared_once {
    static_assert(failed_check<Flow, Step>, PGFLOW_DETAIL_DUPLICATE_STEP);
};
template <fixed_string Flow, fixed_string Step, fixed_string Dependency>
struct check_dependency_declared {
    static_assert(failed_check<Flow, Step, Dependency>, PGFLOW_DETAIL_UNDECLARED_DEPENDENCY
                  ": check the spelling in after<...> or add the missing step "
                  "to the flow");
};
/// Cycle reads "a -> b -> a": a depends on b, which depends on a.
template <fixed_string Flow, fixed_string Cycle>
struct check_no_dependency_cycle {
    static_assert(failed_check<Flow, Cycle>, PGFLOW_DETAIL_DEPENDENCY_CYCLE);
};

// --- types --------------------------------------------------------------------------------------

/// Culprit is the innermost type that has no JSON mapping (T itself, a member, an element...).
template <fixed_string Flow, class Input, class Culprit>
struct check_flow_input_is_json_convertible {
    static_assert(failed_type_check<Input, Culprit>,
                  "the flow input type cannot be converted from/to JSON: use numbers, bool, std::string, "
                  "std::optional, sequence or string-keyed map containers, boost::json::value, structs adapted "
                  "with BOOST_HANA_ADAPT_STRUCT / BOOST_HANA_DEFINE_STRUCT, or specialize pgflow::json_codec");
};
template <fixed_string Flow, fixed_string Step, class Output, class Culprit>
struct check_step_output_is_json_convertible {
    static_assert(failed_type_check<Output, Culprit>,
                  "the handler's return type cannot be converted from/to JSON: use numbers, bool, std::string, "
                  "std::optional, sequence or string-keyed map containers, boost::json::value, structs adapted "
                  "with BOOST_HANA_ADAPT_STRUCT / BOOST_HANA_DEFINE_STRUCT, or specialize pgflow::json_codec");
};
template <fixed_string Flow, fixed_string Step, class Input>
struct check_root_map_input_is_array {
    static_assert(failed_type_check<Input>,
                  "a map step without dependencies maps over the flow input, which must then be an array type "
                  "(std::vector, std::array, std::list, std::deque, boost::json::array...): change the flow "
                  "input type or give the map an after<\"dependency\"> whose output is an array");
};
template <fixed_string Flow, fixed_string Step, fixed_string Dependency, class DependencyOutput>
struct check_map_dependency_output_is_array {
    static_assert(failed_type_check<DependencyOutput>,
                  "a map step maps over its dependency's output, which must be an array type (std::vector, "
                  "std::array, std::list, std::deque, boost::json::array...): return an array from the "
                  "dependency's handler, or make this a step<...> that takes the whole value");
};

// --- handlers -----------------------------------------------------------------------------------

template <fixed_string Flow, fixed_string Step, class Expected, class Declared>
struct check_handler_parameter_count {
    static_assert(failed_type_check<Expected, Declared>,
                  "the step's handler takes the wrong number of parameters: a step handler takes the flow "
                  "input, then one parameter per dependency in after<...> order; a map handler takes one "
                  "array element; either may take a trailing const pgflow::task_context&");
};
template <fixed_string Flow, fixed_string Step, class Expected, class Declared>
struct check_handler_parameter_order {
    static_assert(failed_type_check<Expected, Declared>,
                  "the step's handler takes its parameters in the wrong order: the flow input comes first, "
                  "then one parameter per dependency in the order of after<...>");
};
/// Argument is "run" (the flow input), "element" (a map element) or the dependency's slug.
template <fixed_string Flow, fixed_string Step, fixed_string Argument, class Provided, class Parameter>
struct check_handler_parameter_type {
    static_assert(failed_type_check<Provided, Parameter>,
                  "a handler parameter does not accept the value the step provides for it (Provided is the "
                  "flow input type, the dependency's output type or the map element type): change the "
                  "parameter's type, taking it by value or by const reference");
};
template <fixed_string Flow, fixed_string Step, class Expected, class Handler>
struct check_handler_is_callable {
    static_assert(failed_type_check<Expected, Handler>,
                  "the step's handler cannot be called with the parameters the step provides (Expected): a "
                  "step handler takes the flow input, then one parameter per dependency in after<...> order; "
                  "a map handler takes one array element; either may take a trailing const "
                  "pgflow::task_context&; parameters by value or by const reference");
};

// --- JSON ---------------------------------------------------------------------------------------

template <class T, class Culprit>
struct check_json_convertible {
    static_assert(failed_type_check<T, Culprit>,
                  "type cannot be converted from/to JSON (Culprit is the part that has no mapping): use "
                  "numbers, bool, std::string, std::optional, sequence or string-keyed map containers, "
                  "boost::json::value, structs adapted with BOOST_HANA_ADAPT_STRUCT / "
                  "BOOST_HANA_DEFINE_STRUCT, or specialize pgflow::json_codec");
};
template <class T, auto Listed, auto Fields>
struct check_hana_adaptation_lists_every_field {
    static_assert(failed_type_check<T>,
                  "BOOST_HANA_ADAPT_STRUCT lists fewer members than the aggregate has (Listed of Fields): a "
                  "member left out would silently vanish from the JSON; list every member, or specialize "
                  "pgflow::json_codec for the type");
};
template <class T>
struct check_adapted_struct_is_default_constructible {
    static_assert(failed_type_check<T>,
                  "decoding a struct adapted with Boost.Hana first default-constructs it, then assigns its "
                  "members: give the type a default constructor, or specialize pgflow::json_codec");
};

// --- conditions (conditions.hpp) ----------------------------------------------------------------

template <fixed_string Step, class Argument>
struct check_step_condition_is_known {
    static_assert(failed_type_check<Argument>,
                  "the template arguments of step<...> / map<...> after after<...> are the step's conditions: "
                  "pgflow::only_if<\"{...}\">, pgflow::only_if_not<\"{...}\">, pgflow::when_unmet<mode> or "
                  "pgflow::when_exhausted<mode>");
};
/// Condition is "only_if", "only_if_not", "when_unmet" or "when_exhausted".
template <fixed_string Step, fixed_string Condition>
struct check_condition_given_once {
    static_assert(failed_check<Step, Condition>,
                  "a step takes each condition at most once: merge two only_if / only_if_not patterns into "
                  "one object (the step needs all of its members), and state each mode once");
};
/// Where is the pattern up to the point it failed, Problem what was wrong there.
template <fixed_string Step, fixed_string Condition, fixed_string Where, fixed_string Problem>
struct check_condition_pattern_is_json_object {
    static_assert(failed_check<Step, Condition, Where, Problem>,
                  "a condition pattern is a JSON object written as a string literal, e.g. "
                  "pgflow::only_if<R\"({\"validate\": {\"ok\": true}})\">: fix the text at the end of Where");
};
template <fixed_string Step>
struct check_when_unmet_has_a_pattern {
    static_assert(failed_check<Step>,
                  "when_unmet<...> says what happens when the step's condition is not met, but the step has no "
                  "condition: add pgflow::only_if<...> or pgflow::only_if_not<...>, or remove when_unmet");
};
template <fixed_string Step>
struct check_root_map_has_no_pattern {
    static_assert(failed_check<Step>,
                  "a map step without dependencies is matched against the flow input, an array, and a pattern "
                  "is an object, so its condition could never be met (upstream pgflow accepts it and never runs "
                  "the step): put the condition on the steps that depend on the map, or give the map an "
                  "after<\"dependency\">");
};
/// Condition is "only_if" or "only_if_not"; Key is the pattern's top-level key.
template <fixed_string Flow, fixed_string Step, fixed_string Condition, fixed_string Key>
struct check_condition_pattern_keys_are_dependencies {
    static_assert(failed_check<Flow, Step, Condition, Key>,
                  "a dependent step's condition is matched against {\"<dependency>\": <its output>, ...}: every "
                  "top-level key of the pattern must be one of the step's after<...> dependencies");
};
/// Member is the path of the member in the pattern; Type the C++ type it is matched against.
template <fixed_string Flow, fixed_string Step, fixed_string Condition, fixed_string Member, fixed_string Type>
struct check_condition_pattern_member_exists {
    static_assert(failed_check<Flow, Step, Condition, Member, Type>,
                  "a condition pattern names a member that the C++ type it is matched against (Type) does not "
                  "have, so the condition could never be met: check the spelling of the member");
};
/// Member is the path of the value in the pattern ("" for the whole flow input).
template <fixed_string Flow, fixed_string Step, fixed_string Condition, fixed_string Member, fixed_string Type,
          fixed_string Expected, fixed_string Found>
struct check_condition_pattern_value_kind {
    static_assert(failed_check<Flow, Step, Condition, Member, Type, Expected, Found>,
                  "a value in a condition pattern has another JSON kind than the C++ type it is matched against "
                  "(Type, whose JSON is Expected; the pattern has Found), so the condition could never be met");
};
template <fixed_string Flow, fixed_string Step, fixed_string Dependency, class DependencyOutput>
struct check_skippable_dependency_is_optional {
    static_assert(failed_type_check<DependencyOutput>,
                  "the dependency Dependency can be skipped (its condition with when_unmet skip, the default, or "
                  "when_exhausted<pgflow::skip>), and then Step runs without its output: take that parameter as "
                  "std::optional<DependencyOutput>");
};

// --- options ------------------------------------------------------------------------------------
// Option values are not part of a flow's type. A constexpr flow with an option out of range fails
// to compile in a call to one of the (non-constexpr) functions below, whose name says what is
// wrong; the compilers print the flow and step slugs with the enclosing check_*_options call
// (g++ as template arguments of the expression, clang as argument values). The checks are plain
// functions, not templates, so valid flows pay one cheap call per step. At run time they throw
// pgflow::definition_error.

/// `pgflow: flow "<flow>"[, step "<step>"]: <problem>`, what a flow that breaks a rule at run time throws
/// (options of any flow; every rule of a dynamic flow). Slugs are quoted with escapes: a dynamic flow's
/// come from outside.
[[nodiscard]] inline definition_error flow_definition_error(std::string_view flow, std::string_view step,
                                                            std::string_view problem) {
    const std::string step_part = step.empty() ? std::string() : concat({", step ", quoted(step)});
    return definition_error(concat({"pgflow: flow ", quoted(flow), step_part, ": ", problem}));
}

[[noreturn]] inline void throw_option_out_of_range(std::string_view flow, std::string_view step,
                                                   std::string_view option, std::string_view rule, int value) {
    throw flow_definition_error(flow, step, concat({option, " must be ", rule, ", got ", std::to_string(value)}));
}

// Namespaces, not a `__` in one name (reserved in C++): the diagnostic reads
// `flow_option_out_of_range::timeout_must_be_positive(...)`.
namespace flow_option_out_of_range {
[[noreturn]] inline void max_attempts_must_be_nonnegative(std::string_view flow, int value) {
    throw_option_out_of_range(flow, {}, "max_attempts", ">= 0", value);
}
[[noreturn]] inline void base_delay_must_be_nonnegative(std::string_view flow, int value) {
    throw_option_out_of_range(flow, {}, "base_delay", ">= 0", value);
}
[[noreturn]] inline void timeout_must_be_positive(std::string_view flow, int value) {
    throw_option_out_of_range(flow, {}, "timeout", "> 0", value);
}
[[noreturn]] inline void timeout_must_be_at_most_2147483645(std::string_view flow, int value) {
    throw_option_out_of_range(flow, {}, "timeout", "<= 2147483645 (timeout + 2 must fit a PostgreSQL integer)", value);
}
}  // namespace flow_option_out_of_range
namespace step_option_out_of_range {
[[noreturn]] inline void max_attempts_must_be_nonnegative(std::string_view flow, std::string_view step, int value) {
    throw_option_out_of_range(flow, step, "max_attempts", ">= 0", value);
}
[[noreturn]] inline void base_delay_must_be_nonnegative(std::string_view flow, std::string_view step, int value) {
    throw_option_out_of_range(flow, step, "base_delay", ">= 0", value);
}
[[noreturn]] inline void timeout_must_be_positive(std::string_view flow, std::string_view step, int value) {
    throw_option_out_of_range(flow, step, "timeout", "> 0", value);
}
[[noreturn]] inline void timeout_must_be_at_most_2147483645(std::string_view flow, std::string_view step, int value) {
    throw_option_out_of_range(flow, step, "timeout", "<= 2147483645 (timeout + 2 must fit a PostgreSQL integer)",
                              value);
}
[[noreturn]] inline void start_delay_must_be_nonnegative(std::string_view flow, std::string_view step, int value) {
    throw_option_out_of_range(flow, step, "start_delay", ">= 0", value);
}
}  // namespace step_option_out_of_range

constexpr void check_flow_options(std::string_view flow, const flow_options& o) {
    if (o.max_attempts && *o.max_attempts < 0)
        flow_option_out_of_range::max_attempts_must_be_nonnegative(flow, *o.max_attempts);
    if (o.base_delay && *o.base_delay < 0)
        flow_option_out_of_range::base_delay_must_be_nonnegative(flow, *o.base_delay);
    if (o.timeout && *o.timeout <= 0) flow_option_out_of_range::timeout_must_be_positive(flow, *o.timeout);
    if (o.timeout && *o.timeout > max_timeout)
        flow_option_out_of_range::timeout_must_be_at_most_2147483645(flow, *o.timeout);
}

constexpr void check_step_options(std::string_view flow, std::string_view step, const step_options& o) {
    if (o.max_attempts && *o.max_attempts < 0)
        step_option_out_of_range::max_attempts_must_be_nonnegative(flow, step, *o.max_attempts);
    if (o.base_delay && *o.base_delay < 0)
        step_option_out_of_range::base_delay_must_be_nonnegative(flow, step, *o.base_delay);
    if (o.timeout && *o.timeout <= 0) step_option_out_of_range::timeout_must_be_positive(flow, step, *o.timeout);
    if (o.timeout && *o.timeout > max_timeout)
        step_option_out_of_range::timeout_must_be_at_most_2147483645(flow, step, *o.timeout);
    if (o.start_delay && *o.start_delay < 0)
        step_option_out_of_range::start_delay_must_be_nonnegative(flow, step, *o.start_delay);
}

}  // namespace pgflow::detail
