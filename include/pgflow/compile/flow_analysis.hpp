#pragma once
// Compile-time analysis of a flow: its graph (compile/graph.hpp), then per step, in topological
// order, what its handler is called with, what it returns and whether that is valid. The checks
// run in stages and stop at the first failure, whose named check (checks.hpp) is the only error
// the user sees: no cascade of follow-up errors.

#include <pgflow/checks.hpp>
#include <pgflow/compile/callable.hpp>
#include <pgflow/compile/graph.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/json.hpp>
#include <pgflow/output.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/slug.hpp>
#include <pgflow/step.hpp>
#include <pgflow/task_context.hpp>

#include <array>
#include <cstddef>
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

// --- the flow's graph -----------------------------------------------------------------------------

template <fixed_string Slug, class Input, class... Steps>
struct flow_traits {
    static constexpr auto slug_string = Slug;
    using input_type = Input;
    static constexpr std::size_t step_count = sizeof...(Steps);
    static constexpr std::size_t edge_count = (std::size_t{0} + ... + Steps::dependencies::size);
    template <std::size_t I>
    using step_at = type_at<I, Steps...>;

    static constexpr std::array<step_type, step_count> types{Steps::type...};

    static constexpr flow_graph<step_count, edge_count> build_graph() {
        std::array<std::string_view, step_count> slugs{Steps::slug...};
        std::array<std::size_t, step_count + 1> begin{};
        std::array<std::string_view, edge_count> deps{};
        std::size_t step = 0;
        std::size_t edge = 0;
        const auto add = [&](const auto& dependency_slugs) {
            begin[step++] = edge;
            for (const std::string_view d : dependency_slugs) deps[edge++] = d;
        };
        (add(Steps::dependencies::slugs), ...);
        static_cast<void>(add);  // a flow may have no steps
        begin[step_count] = edge;
        return analyze_graph(slugs, begin, deps);
    }
    static constexpr flow_graph<step_count, edge_count> graph = build_graph();
};

// --- per step -------------------------------------------------------------------------------------

enum class step_problem {
    none,
    blocked,  ///< a dependency has a problem; reported there
    root_map_input_not_array,
    map_dependency_not_array,
    handler_not_callable,
    output_not_json,
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

template <class Handler, class Arguments>
struct call_analysis;
template <class Handler, class... A>
struct call_analysis<Handler, type_list<A...>> {
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
        if constexpr (json_convertible<output>)
            return step_verdict<step_problem::none, type_list<A...>, UsesContext, output>{};
        else
            return step_verdict<step_problem::output_not_json, type_list<A...>, UsesContext, output>{};
    }
};

// Everything step_analysis knows lives in types (the verdict's members have short names). Its own
// static data members would be named after the whole flow type, one very long symbol per step,
// which compilers (g++ especially) are slow to mangle and emit.
template <class Traits, std::size_t I>
struct step_analysis {
    using step = typename Traits::template step_at<I>;
    using handler = typename step::handler_type;
    using input = typename Traits::input_type;
    template <std::size_t K>
    using dependency = step_analysis<Traits, Traits::graph.dependency(I, K)>;

    template <std::size_t... Ks>
    static constexpr auto analyze(std::index_sequence<Ks...>) {
        if constexpr (((dependency<Ks>::verdict::problem != step_problem::none) || ... || false)) {
            return step_verdict<step_problem::blocked>{};
        } else if constexpr (step::type == step_type::single) {
            return call_analysis<handler, type_list<input, typename dependency<Ks>::output_type...>>::verdict();
        } else if constexpr (sizeof...(Ks) == 0) {
            if constexpr (array_element<input>::is_array)
                return call_analysis<handler, type_list<typename array_element<input>::type>>::verdict();
            else
                return step_verdict<step_problem::root_map_input_not_array>{};
        } else {
            using mapped = typename dependency<0>::output_type;
            if constexpr (array_element<mapped>::is_array)
                return call_analysis<handler, type_list<typename array_element<mapped>::type>>::verdict();
            else
                return step_verdict<step_problem::map_dependency_not_array>{};
        }
    }
    /// step_verdict<problem, arguments, uses_context, result>
    using verdict = decltype(analyze(std::make_index_sequence<step::dependencies::size>{}));
    /// Parameter types the handler is called with (rvalues), without the task_context.
    using arguments = typename verdict::arguments;
    /// What one call of the handler produces (void becomes std::nullptr_t, i.e. JSON null).
    using task_output_type = typename verdict::result;
    /// What the step produces: a map step's output is the array of its tasks' outputs.
    using output_type =
        std::conditional_t<step::type == step_type::map, std::vector<task_output_type>, task_output_type>;
};

// --- diagnostics ----------------------------------------------------------------------------------

/// Name of the K-th argument of a step's handler in diagnostics: "run", a dependency slug, "element".
template <class Step, std::size_t K>
constexpr auto argument_name() {
    if constexpr (Step::type == step_type::map)
        return fixed_string("element");
    else if constexpr (K == 0)
        return fixed_string("run");
    else
        return Step::dependencies::template slug<K - 1>;
}

template <class Parameter, class Provided>
inline constexpr bool accepts = std::is_convertible_v<Provided&&, Parameter>;

template <fixed_string Flow, class Step, class Expected, class Declared>
struct handler_diagnosis;
template <fixed_string Flow, class Step, class... E, class... P>
struct handler_diagnosis<Flow, Step, type_list<E...>, type_list<P...>> {
    static constexpr std::size_t n = sizeof...(E);
    static constexpr std::array<bool, n> positional{accepts<P, E>...};

    template <std::size_t... Cells>
    static constexpr std::array<bool, n * n> matrix(std::index_sequence<Cells...>) {
        return {accepts<type_at<Cells / n, P...>, type_at<Cells % n, E...>>...};
    }
    /// Every parameter accepts some argument and every argument fits some parameter.
    static constexpr bool some_order_fits() {
        constexpr auto m = matrix(std::make_index_sequence<n * n>{});
        for (std::size_t p = 0; p < n; ++p) {
            bool row = false;
            bool column = false;
            for (std::size_t e = 0; e < n; ++e) {
                row = row || m[p * n + e];
                column = column || m[e * n + p];
            }
            if (!row || !column) return false;
        }
        return true;
    }
    static constexpr std::size_t first_mismatch() {
        for (std::size_t k = 0; k < n; ++k)
            if (!positional[k]) return k;
        return npos;
    }

    /// The check to report (see no_problem in checks.hpp).
    static constexpr auto problem() {
        constexpr std::size_t k = first_mismatch();
        if constexpr (k == npos)
            return std::type_identity<check_handler_is_callable<Flow, Step::slug_string, expected_parameters<E...>,
                                                                typename Step::handler_type>>{};
        else if constexpr (n > 1 && some_order_fits())
            return std::type_identity<check_handler_parameter_order<Flow, Step::slug_string, expected_parameters<E...>,
                                                                    handler_parameters<P...>>>{};
        else
            return std::type_identity<check_handler_parameter_type<Flow, Step::slug_string, argument_name<Step, k>(),
                                                                   type_at<k, E...>, type_at<k, P...>>>{};
    }
};

template <fixed_string Flow, class Step, class Arguments, class Declared>
struct parameter_count_problem;
template <fixed_string Flow, class Step, class... E, class... P>
struct parameter_count_problem<Flow, Step, type_list<E...>, type_list<P...>> {
    using type =
        check_handler_parameter_count<Flow, Step::slug_string, expected_parameters<E...>, handler_parameters<P...>>;
};
template <fixed_string Flow, class Step, class Arguments>
struct callable_problem;
template <fixed_string Flow, class Step, class... E>
struct callable_problem<Flow, Step, type_list<E...>> {
    using type =
        check_handler_is_callable<Flow, Step::slug_string, expected_parameters<E...>, typename Step::handler_type>;
};

template <fixed_string Flow, class Step, class Arguments>
constexpr auto handler_problem() {
    using signature = callable_signature<typename Step::handler_type>;
    if constexpr (!signature::known) {
        return std::type_identity<typename callable_problem<Flow, Step, Arguments>::type>{};
    } else {
        using declared = typename without_trailing_context<typename signature::parameters>::type;
        if constexpr (declared::size != Arguments::size)
            return std::type_identity<typename parameter_count_problem<Flow, Step, Arguments, declared>::type>{};
        else
            return handler_diagnosis<Flow, Step, Arguments, declared>::problem();
    }
}

template <class Traits, std::size_t I>
constexpr auto step_problem_check() {
    using analysis = step_analysis<Traits, I>;
    using step = typename analysis::step;
    constexpr auto flow_slug = Traits::slug_string;
    constexpr step_problem problem = analysis::verdict::problem;
    if constexpr (problem == step_problem::root_map_input_not_array) {
        return std::type_identity<
            check_root_map_input_is_array<flow_slug, step::slug_string, typename Traits::input_type>>{};
    } else if constexpr (problem == step_problem::map_dependency_not_array) {
        return std::type_identity<
            check_map_dependency_output_is_array<flow_slug, step::slug_string, step::dependencies::template slug<0>,
                                                 typename analysis::template dependency<0>::output_type>>{};
    } else if constexpr (problem == step_problem::output_not_json) {
        using output = typename analysis::task_output_type;
        return std::type_identity<
            check_step_output_is_json_convertible<flow_slug, step::slug_string, output, json_culprit_t<output>>>{};
    } else {
        return handler_problem<flow_slug, step, typename analysis::arguments>();
    }
}

/// "a -> b -> a" for the graph's cycle, as a template argument.
template <class Traits>
struct cycle_text {
    static constexpr auto& g = Traits::graph;
    static constexpr std::size_t length = [] {
        std::size_t n = g.slugs[g.cycle[0]].size();
        for (std::size_t k = 0; k < g.cycle_length; ++k) n += g.slugs[g.cycle[k]].size() + 4;
        return n;
    }();
    static constexpr auto value = [] {
        std::array<char, length> text{};
        std::size_t n = 0;
        const auto put = [&](std::string_view s) {
            for (const char c : s) text[n++] = c;
        };
        for (std::size_t k = 0; k < g.cycle_length; ++k) {
            put(g.slugs[g.cycle[k]]);
            put(" -> ");
        }
        put(g.slugs[g.cycle[0]]);
        return fixed_string<length + 1>(std::string_view(text.data(), length));
    }();
};

template <class Traits>
struct flow_checks {
    static constexpr auto& g = Traits::graph;
    static constexpr auto flow_slug = Traits::slug_string;
    template <std::size_t I>
    using step_at = typename Traits::template step_at<I>;

    /// The first step, in topological order, with a problem of its own; npos if none.
    template <std::size_t... Ks>
    static constexpr std::size_t first_step_with_problem(std::index_sequence<Ks...>) {
        // Analyses are instantiated in topological order, so each finds its dependencies' done.
        constexpr std::array<step_problem, sizeof...(Ks)> problems{
            step_analysis<Traits, g.order[Ks]>::verdict::problem...};
        for (std::size_t k = 0; k < sizeof...(Ks); ++k)
            if (problems[k] != step_problem::none && problems[k] != step_problem::blocked) return g.order[k];
        return npos;
    }

    /// The first failing check, in the order the header of flow.hpp lists them, or no_problem.
    static constexpr auto problem() {
        if constexpr (g.duplicate != npos) {
            return std::type_identity<check_step_declared_once<flow_slug, step_at<g.duplicate>::slug_string>>{};
        } else if constexpr (g.undeclared_step != npos) {
            using step = step_at<g.undeclared_step>;
            return std::type_identity<check_dependency_declared<
                flow_slug, step::slug_string, step::dependencies::template slug<g.undeclared_position>>>{};
        } else if constexpr (g.cycle_length != 0) {
            return std::type_identity<check_no_dependency_cycle<flow_slug, cycle_text<Traits>::value>>{};
        } else if constexpr (!json_convertible<typename Traits::input_type>) {
            using input = typename Traits::input_type;
            return std::type_identity<check_flow_input_is_json_convertible<flow_slug, input, json_culprit_t<input>>>{};
        } else if constexpr (constexpr std::size_t bad =
                                 first_step_with_problem(std::make_index_sequence<Traits::step_count>{});
                             bad != npos) {
            return step_problem_check<Traits, bad>();
        } else {
            return std::type_identity<no_problem>{};
        }
    }
};

template <fixed_string Slug>
constexpr auto flow_slug_problem() {
    constexpr slug_verdict verdict = check_slug(Slug.view(), true);
    if constexpr (verdict == slug_verdict::reserved)
        return std::type_identity<check_flow_slug_is_not_reserved<Slug>>{};
    else if constexpr (verdict == slug_verdict::invalid)
        return std::type_identity<check_flow_slug_is_valid<Slug>>{};
    else if constexpr (verdict == slug_verdict::too_long_for_a_queue)
        return std::type_identity<check_flow_slug_fits_queue_name<Slug>>{};
    else
        return std::type_identity<no_problem>{};
}

/// The first check the flow fails, or no_problem. A step whose own check failed (invalid_step)
/// has reported it already: the flow then reports nothing more.
template <fixed_string Slug, class Input, class... Steps>
constexpr auto flow_problem() {
    using slug_problem = typename decltype(flow_slug_problem<Slug>())::type;
    if constexpr (!std::is_same_v<slug_problem, no_problem>)
        return std::type_identity<slug_problem>{};
    else if constexpr ((std::is_same_v<Steps, invalid_step> || ... || false))
        return std::type_identity<invalid_step>{};
    else
        return flow_checks<flow_traits<Slug, Input, Steps...>>::problem();
}

// --- the flow's output type -------------------------------------------------------------------

template <class Traits>
struct leaf_steps {
    static constexpr auto& g = Traits::graph;
    static constexpr std::size_t count = [] {
        std::size_t n = 0;
        for (std::size_t i = 0; i < Traits::step_count; ++i) n += g.is_leaf(i) ? 1 : 0;
        return n;
    }();
    static constexpr std::array<std::size_t, count> indices = [] {
        std::array<std::size_t, count> out{};
        std::size_t n = 0;
        for (std::size_t i = 0; i < Traits::step_count; ++i)
            if (g.is_leaf(i)) out[n++] = i;
        return out;
    }();
    template <std::size_t... Ks>
    static auto output(std::index_sequence<Ks...>)
        -> flow_output<output_field<Traits::template step_at<indices[Ks]>::slug_string,
                                    typename step_analysis<Traits, indices[Ks]>::output_type>...>;
    using output_type = decltype(output(std::make_index_sequence<count>{}));
};

}  // namespace pgflow::detail
