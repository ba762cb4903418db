#pragma once
// Compile-time analysis of a flow: its graph (compile/graph.hpp), then per step, in topological
// order, what its handler is called with, what it returns and whether that is valid, and the
// flow's output type. Which check to report is compile/flow_checks.hpp's.

#include <pgflow/checks.hpp>
#include <pgflow/compile/callable.hpp>
#include <pgflow/compile/graph.hpp>
#include <pgflow/compile/registration_text.hpp>
#include <pgflow/compile/value_shape.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/json_traits.hpp>
#include <pgflow/output.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/slug.hpp>
#include <pgflow/step.hpp>
#include <pgflow/task_context_fwd.hpp>
#include <pgflow/wait_steps.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pgflow::detail {

// --- arrays a map step can map over -------------------------------------------------------------

template <class T>
struct array_element {
    static constexpr bool is_array = false;
    using type = void;
};
template <class T>
    requires sequence_shaped<T> || is_std_array<T>::value
struct array_element<T> {
    static constexpr bool is_array = true;
    using type = typename T::value_type;
};
template <>
struct array_element<boost::json::array> {
    static constexpr bool is_array = true;
    using type = boost::json::value;
};
/// Untyped JSON may hold an array; the database checks it when the run starts.
template <>
struct array_element<boost::json::value> {
    static constexpr bool is_array = true;
    using type = boost::json::value;
};

// --- steps without handlers ----------------------------------------------------------------------

/// What set_step_kind registers for a step, as far as its type says (a signal's timeout is a
/// value: the flow fills it in).
template <class Step>
constexpr step_wait_text wait_text_of() {
    if constexpr (is(Step::kind, step_kind::signal))
        return {step_kind::signal, std::nullopt, value_shape_text<typename Step::handler_type::value_type>::view, {}};
    else if constexpr (is(Step::kind, step_kind::subflow))
        return {step_kind::subflow, std::nullopt, {}, Step::handler_type::child_type::slug};
    else
        return {Step::kind, std::nullopt, {}, {}};
}

// --- the flow's graph -----------------------------------------------------------------------------

/// A flow's leaf steps, and which steps a run may complete without (skipped themselves, or by an
/// ancestor's skip-cascade).
template <std::size_t N>
struct leaf_facts {
    std::size_t count = 0;
    std::array<std::size_t, N> indices{};  ///< the first `count` are the leaves, in declaration order
    std::array<bool, N> may_be_absent{};
};

/// What a flow's declaration says about its steps, as one value (flow_traits::facts).
template <std::size_t N, std::size_t E>
struct flow_facts {
    flow_graph<N, E> graph;
    std::array<step_type, N> types;
    std::array<step_condition_text, N> conditions;
    std::array<bool, N> may_be_skipped;
    std::array<bool, N> skips_dependents;
    std::array<step_wait_text, N> waits;  ///< signal timeouts are values: the flow fills them in
    leaf_facts<N> leaves{};               ///< for the flow's output type (leaf_steps); empty for an invalid graph
};

/// The leaves of a flow whose facts are otherwise complete.
template <std::size_t N, std::size_t E>
constexpr leaf_facts<N> find_leaves(const flow_facts<N, E>& f) {
    leaf_facts<N> out;
    std::array<bool, N> cascaded{};
    for (const std::size_t i : f.graph.order) {
        for (std::size_t k = 0; k < f.graph.dependency_count(i); ++k) {
            const std::size_t d = f.graph.dependency(i, k);
            cascaded[i] = cascaded[i] || f.skips_dependents[d] || cascaded[d];
        }
        out.may_be_absent[i] = f.may_be_skipped[i] || cascaded[i];
    }
    for (std::size_t i = 0; i < N; ++i)
        if (f.graph.is_leaf(i)) out.indices[out.count++] = i;
    return out;
}

// Classes named after a whole flow keep their constants in as few static data members as they can
// (one value, or enumerators): each static data member is a symbol whose name spells out the flow,
// and g++ at -O0 emits every one a translation unit instantiates, read by constant expressions only
// or not (it keeps unreferenced variables at -O0: -fno-toplevel-reorder). Mangling those names took
// 0.6 s of a 500-step declaration with g++ 12 (22 members of 64 kB names). Functions called at run
// time (accessors, the dispatcher's call) live in bases named by counts alone for the same reason
// (flow_values in flow.hpp, dispatch_table in dispatch.hpp): a 500-step chain's translation unit
// emitted nine 64 kB names, now two (shape_of and this facts member), 9 % fewer instructions in g++.

/// A flow's slug and step count, in a class named by them alone (see above): flow_traits' and
/// flow_definition's base.
template <fixed_string Slug, std::size_t StepCount>
struct flow_identity {
    static constexpr auto slug_string = Slug;
    static constexpr std::string_view slug = Slug.view();
    static constexpr std::size_t step_count = StepCount;
};

template <fixed_string Slug, class Input, class... Steps>
struct flow_traits : flow_identity<Slug, sizeof...(Steps)> {
    using input_type = Input;
    using flow_identity<Slug, sizeof...(Steps)>::step_count;
    // No fold expressions over the steps (compile/type_list.hpp).
    enum : std::size_t { edge_count = sum_of_pack<Steps::dependencies::size...>() };
    enum : bool {
        has_patterns = any_of_pack<Steps::conditions::has_pattern...>,
        has_waits = any_of_pack<!is(Steps::kind, step_kind::handler)...>,
    };
    /// The steps indexed once; read with flow_step_t<Traits, I>.
#if defined(__clang__)
    // clang's builtin picks the step without an overload resolution over all of them (0.2 s less
    // for a 500-step chain).
    template <std::size_t I>
    using step_at = __type_pack_element<I, Steps...>;
#else
    using step_index = type_indexer<std::index_sequence_for<Steps...>, Steps...>;
#endif

    static constexpr flow_facts<step_count, edge_count> build_facts() {
        std::array<std::string_view, step_count> slugs{Steps::slug...};
        std::array<std::size_t, step_count + 1> begin{};
        std::array<std::string_view, edge_count> deps{};
        std::size_t step = 0;
        std::size_t edge = 0;
        const auto add = [&](const auto& dependency_slugs) {
            begin[step++] = edge;
            for (const std::string_view d : dependency_slugs) deps[edge++] = d;
        };
        [[maybe_unused]] const int added[] = {0, (add(Steps::dependencies::slugs), 0)...};
        static_cast<void>(add);  // a flow may have no steps
        begin[step_count] = edge;
        flow_facts<step_count, edge_count> facts{
            analyze_graph(slugs, begin, deps),        {Steps::type...},
            {Steps::conditions::text()...},           {Steps::conditions::may_be_skipped...},
            {Steps::conditions::skips_dependents...}, {wait_text_of<Steps>()...}};
        // Leaves are for a valid graph only (the flow's output type); an invalid one stops at its check.
        if (facts.graph.valid()) facts.leaves = find_leaves(facts);
        return facts;
    }
    static constexpr flow_facts<step_count, edge_count> facts = build_facts();

    /// A closure type of this class's own (see keyed_traits); not a static data member's (see above).
    using key = decltype([] { return std::type_identity<flow_traits>{}; });
};

/// A flow's traits under a name that does not spell out its steps: what the per-step templates
/// (step_analysis<Traits, I>, the checks, the dispatcher) are instantiated with. g++ walks the
/// template arguments of every class named in an expression it instantiates, and with
/// flow_traits<Slug, Input, Steps...> each of those walks visited every step: quadratic in the
/// steps (a quarter of a 1,000-step declaration's time with g++ 12). A closure type has no
/// template arguments, so the walk stops at Key.
template <class Key>
struct keyed_traits : decltype(std::declval<const Key&>()())::type {};
template <fixed_string Slug, class Input, class... Steps>
using flow_traits_t = keyed_traits<typename flow_traits<Slug, Input, Steps...>::key>;

/// Step I (declaration order) of a flow's traits. With g++, read from the index the traits built once:
/// not a member template of flow_traits, whose every use names the traits' class from its whole pack
/// of steps again (a 1,000-step declaration took 1 s longer with g++ 12). A class, not an alias, so
/// that each lookup is done once (alias templates are not cached).
template <class Traits, std::size_t I>
struct flow_step {
#if defined(__clang__)
    using type = typename Traits::template step_at<I>;
#else
    using type = typename decltype(select_indexed<I>(std::declval<typename Traits::step_index>()))::type;
#endif
};
template <class Traits, std::size_t I>
using flow_step_t = typename flow_step<Traits, I>::type;

// --- per step -------------------------------------------------------------------------------------

enum class step_problem {
    none,
    blocked,  ///< a dependency has a problem; reported there
    root_map_input_not_array,
    map_dependency_not_array,
    handler_not_callable,
    output_not_json,
    signal_value_not_json,
    subflow_input_mismatch,
    deadline_not_a_time,
};

/// Stand-in output of a step with a problem; never used, it keeps the analysis of dependents quiet.
struct invalid_output {};

template <step_problem Problem, class Arguments = type_list<>, bool UsesContext = false, class Result = invalid_output>
struct step_verdict {
    static constexpr step_problem problem = Problem;
    using arguments = Arguments;
    static constexpr bool uses_context = UsesContext;
    using result = Result;
};

/// What a handler's result is stored as: void is JSON null; C strings and string views (handy to
/// return, unsafe to keep) are copied into a std::string.
template <class R>
struct handler_output {
    using type = std::remove_cvref_t<R>;
};
template <>
struct handler_output<void> {
    using type = std::nullptr_t;
};
template <class R>
    requires std::is_same_v<std::decay_t<R>, const char*> || std::is_same_v<std::decay_t<R>, char*> ||
             std::is_same_v<std::remove_cvref_t<R>, std::string_view>
struct handler_output<R> {
    using type = std::string;
};
template <class R>
using handler_output_t = typename handler_output<R>::type;

/// Handler h can be called as h(args...) on a const h with rvalue arguments, as the dispatcher
/// calls it. (A requires-expression is much cheaper to compile than std::is_invocable.)
template <class Handler, class... A>
concept callable_with = requires(const Handler& h, A&&... a) { h(static_cast<A&&>(a)...); };

template <class Handler, class... A>
using call_result_t = decltype(std::declval<const Handler&>()(std::declval<A>()...));

/// Deadline: the handler is a sleep step's function, which returns a time, not JSON; the step's
/// output is then the ISO time it woke (a std::string).
template <class Handler, class Arguments, bool Deadline = false>
struct call_analysis;
template <class Handler, class... A, bool Deadline>
struct call_analysis<Handler, type_list<A...>, Deadline> {
    // The task_context is passed only to handlers that cannot be called without it, so a
    // variadic generic handler is not handed one it did not ask for.
    static constexpr auto verdict() {
        if constexpr (callable_with<Handler, A...>)
            return with_result<false, call_result_t<Handler, A...>>();
        else if constexpr (callable_with<Handler, A..., const task_context&>)
            return with_result<true, call_result_t<Handler, A..., const task_context&>>();
        else
            return step_verdict<step_problem::handler_not_callable, type_list<A...>>{};
    }
    template <bool UsesContext, class R>
    static constexpr auto with_result() {
        using output = handler_output_t<R>;
        if constexpr (Deadline && sleep_deadline<R>)
            return step_verdict<step_problem::none, type_list<A...>, UsesContext, std::string>{};
        else if constexpr (Deadline)
            return step_verdict<step_problem::deadline_not_a_time, type_list<A...>, UsesContext, output>{};
        else if constexpr (json_convertible<output>)
            return step_verdict<step_problem::none, type_list<A...>, UsesContext, output>{};
        else
            return step_verdict<step_problem::output_not_json, type_list<A...>, UsesContext, output>{};
    }
};

/// T, or std::optional<T> (T itself when already one) when the value may be missing.
template <bool MayBeMissing, class T>
struct optional_if {
    using type = T;
};
template <class T>
struct optional_if<true, T> {
    using type = std::optional<T>;
};
template <class T>
struct optional_if<true, std::optional<T>> {
    using type = std::optional<T>;
};

/// What the analysis of a step needs from one of its dependencies: its output, and whether that
/// step can be skipped alone (then the handler takes a std::optional) or has a problem.
template <class Output, bool SkippedAlone, bool HasProblem>
struct dependency_facts {
    using output_type = Output;
    using argument = typename optional_if<SkippedAlone, Output>::type;
    static constexpr bool has_problem = HasProblem;
};

/// What a step without dependencies or with one receives (`whole`): the flow input, or that
/// dependency's output. received_t: for a map step one element of it (void when it is not an
/// array), else all of it; a subflow step hands it to its child run.
template <class Step, class Input, class... Dependencies>
struct received_value {
    using whole = Input;
};
template <class Step, class Input, class Dependency>
struct received_value<Step, Input, Dependency> {
    using whole = typename Dependency::output_type;
};
template <class Step, class Input, class... Dependencies>
using received_t =
    std::conditional_t<is(Step::type, step_type::map),
                       typename array_element<typename received_value<Step, Input, Dependencies...>::whole>::type,
                       typename received_value<Step, Input, Dependencies...>::whole>;

/// What a map step reports when what it maps is not an array: the run input, or its dependency's output.
template <class Step>
inline constexpr step_problem not_an_array_problem =
    Step::dependencies::size == 0 ? step_problem::root_map_input_not_array : step_problem::map_dependency_not_array;

/// A signal step's verdict: its value is its task's output (a signal_map waits once per element).
template <class Step, class Arguments>
constexpr auto signal_verdict() {
    using value = typename Step::handler_type::value_type;
    if constexpr (!json_convertible<value>)
        return step_verdict<step_problem::signal_value_not_json, Arguments, false, value>{};
    else
        return step_verdict<step_problem::none, Arguments, false, value>{};
}
/// A subflow step's verdict: what it receives must be its child flow's input.
template <class Step, class Received, class Arguments>
constexpr auto subflow_verdict() {
    using child = typename Step::handler_type::child_type;
    if constexpr (!std::is_same_v<Received, typename child::input_type>)
        return step_verdict<step_problem::subflow_input_mismatch, Arguments, false, Received>{};  // for the check
    else
        return step_verdict<step_problem::none, Arguments, false, typename child::output_type>{};
}

/// A step's verdict (step_verdict<problem, arguments, uses_context, result>) from its declaration,
/// the flow input and its dependencies' facts.
template <class Step, class Input, class... Dependencies>
constexpr auto analyze_step(type_list<Dependencies...>) {
    using handler = typename Step::handler_type;
    if constexpr (any_of_pack<Dependencies::has_problem...>) {
        return step_verdict<step_problem::blocked>{};
    } else if constexpr (is(Step::kind, step_kind::signal) || is(Step::kind, step_kind::subflow)) {
        using received = received_t<Step, Input, Dependencies...>;
        using arguments = std::conditional_t<is(Step::type, step_type::map), type_list<received>,
                                             type_list<Input, typename Dependencies::argument...>>;
        if constexpr (is(Step::type, step_type::map) && std::is_void_v<received>)
            return step_verdict<not_an_array_problem<Step>>{};
        else if constexpr (is(Step::kind, step_kind::signal))
            return signal_verdict<Step, arguments>();
        else
            return subflow_verdict<Step, received, arguments>();
    } else if constexpr (is(Step::type, step_type::single)) {
        return call_analysis<handler, type_list<Input, typename Dependencies::argument...>,
                             is(Step::kind, step_kind::sleep)>::verdict();
    } else {
        using mapped = typename received_value<Step, Input, Dependencies...>::whole;
        if constexpr (array_element<mapped>::is_array)
            return call_analysis<handler, type_list<typename array_element<mapped>::type>>::verdict();
        else
            return step_verdict<not_an_array_problem<Step>>{};
    }
}

// Everything step_analysis knows lives in types, and the function that analyzes a step
// (analyze_step) is named after the step and its dependencies' facts, not the flow. Names built
// from the whole flow type (static data members, member functions of step_analysis) run to tens of
// kB for a flow of hundreds of steps, and clang mangles the name of every function it instantiates,
// used or not: for a 500-step chain that was 0.8 s of clang's 5.7 s for the declaration.
template <class Traits, std::size_t I>
struct step_analysis {
    using step = flow_step_t<Traits, I>;
    using handler = typename step::handler_type;
    using input = typename Traits::input_type;
    template <std::size_t K>
    using dependency = step_analysis<Traits, Traits::facts.graph.dependency(I, K)>;
    /// What the analysis needs from dependency K.
    template <std::size_t K>
    using facts_of_dependency =
        dependency_facts<typename dependency<K>::output_type, dependency<K>::step::conditions::skipped_alone,
                         !is(dependency<K>::verdict::problem, step_problem::none)>;
    /// What the handler takes for dependency K: std::optional when that step can be skipped alone.
    template <std::size_t K>
    using dependency_argument = typename facts_of_dependency<K>::argument;

    template <class Sequence>
    struct facts_of;
    template <std::size_t... Ks>
    struct facts_of<std::index_sequence<Ks...>> {
        using type = type_list<facts_of_dependency<Ks>...>;
    };

    /// step_verdict<problem, arguments, uses_context, result>
    using verdict = decltype(analyze_step<step, input>(
        typename facts_of<std::make_index_sequence<step::dependencies::size>>::type{}));
    /// Parameter types the handler is called with (rvalues), without the task_context.
    using arguments = typename verdict::arguments;
    /// What one call of the handler produces (void becomes std::nullptr_t, i.e. JSON null).
    using task_output_type = typename verdict::result;
    /// What the step produces: a map step's output is the array of its tasks' outputs.
    using output_type =
        std::conditional_t<is(step::type, step_type::map), std::vector<task_output_type>, task_output_type>;
};

// --- the flow's output type -------------------------------------------------------------------

/// The flow's output type: one member per leaf step (flow_facts::leaves, kept in the flow's facts
/// rather than a static data member here, whose name g++ would spell out with every step).
template <class Traits>
struct leaf_steps {
    template <std::size_t I>
    using leaf_output = typename optional_if<Traits::facts.leaves.may_be_absent[I],
                                             typename step_analysis<Traits, I>::output_type>::type;
    template <std::size_t... Ks>
    static auto output(std::index_sequence<Ks...>)
        -> flow_output<output_field<flow_step_t<Traits, Traits::facts.leaves.indices[Ks]>::slug_string,
                                    leaf_output<Traits::facts.leaves.indices[Ks]>>...>;
    using output_type = decltype(output(std::make_index_sequence<Traits::facts.leaves.count>{}));
};

}  // namespace pgflow::detail
