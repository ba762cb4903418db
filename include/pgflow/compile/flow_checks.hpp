#pragma once
// Which check a flow fails first (checks.hpp), from compile/flow_analysis.hpp's facts. The checks
// run in stages and stop at the first failure, whose named check is the only error the user sees:
// no cascade of follow-up errors.

#include <pgflow/checks.hpp>
#include <pgflow/compile/callable.hpp>
#include <pgflow/compile/condition_checks.hpp>
#include <pgflow/compile/flow_analysis.hpp>
#include <pgflow/compile/type_list.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pgflow::detail {

// --- diagnostics ----------------------------------------------------------------------------------

/// Name of the K-th argument of a step's handler in diagnostics: "run", a dependency slug, "element".
template <class Step, std::size_t K>
constexpr auto argument_name() {
    if constexpr (is(Step::type, step_type::map))
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

/// The first dependency that can be skipped alone (so it is provided as std::optional) whose
/// parameter takes a plain value; npos if none. Only asked when the handler cannot be called.
template <class Analysis, std::size_t... Ks>
constexpr std::size_t plain_skippable_dependency(std::index_sequence<Ks...>) {
    using signature = callable_signature<typename Analysis::handler>;
    constexpr std::array<bool, sizeof...(Ks) + 1> skippable{
        Analysis::template dependency<Ks>::step::conditions::skipped_alone..., false};
    std::array<bool, sizeof...(Ks) + 1> refuses{};
    if constexpr (signature::known) {
        using declared = typename without_trailing_context<typename signature::parameters>::type;
        if constexpr (declared::size == sizeof...(Ks) + 1)
            refuses = {!accepts<list_at<Ks + 1, declared>, typename Analysis::template dependency_argument<Ks>>...,
                       false};
    } else if constexpr (callable_with<typename Analysis::handler, typename Analysis::input,
                                       typename Analysis::template dependency<Ks>::output_type...>) {
        refuses = skippable;  // callable with plain values only
    }
    for (std::size_t k = 0; k < sizeof...(Ks); ++k)
        if (skippable[k] && refuses[k]) return k;
    return npos;
}

template <class Analysis>
constexpr std::size_t plain_skippable_dependency() {
    using step = typename Analysis::step;
    if constexpr (is(step::type, step_type::single) &&
                  is(Analysis::verdict::problem, step_problem::handler_not_callable))
        return plain_skippable_dependency<Analysis>(std::make_index_sequence<step::dependencies::size>{});
    else
        return npos;
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
    } else if constexpr (problem == step_problem::signal_value_not_json) {
        using value = typename analysis::task_output_type;
        return std::type_identity<
            check_signal_value_is_json_convertible<flow_slug, step::slug_string, value, json_culprit_t<value>>>{};
    } else if constexpr (problem == step_problem::subflow_input_mismatch) {
        using child = typename analysis::handler::child_type;
        return std::type_identity<
            check_subflow_input_matches_child_flow<flow_slug, step::slug_string, child::slug_string,
                                                   typename analysis::task_output_type, typename child::input_type>>{};
    } else if constexpr (problem == step_problem::deadline_not_a_time) {
        return std::type_identity<
            check_sleep_deadline_is_a_time<flow_slug, step::slug_string, typename analysis::task_output_type>>{};
    } else if constexpr (problem == step_problem::output_not_json) {
        using output = typename analysis::task_output_type;
        return std::type_identity<
            check_step_output_is_json_convertible<flow_slug, step::slug_string, output, json_culprit_t<output>>>{};
    } else if constexpr (constexpr std::size_t k = plain_skippable_dependency<analysis>(); k != npos) {
        return std::type_identity<
            check_skippable_dependency_is_optional<flow_slug, step::slug_string, step::dependencies::template slug<k>,
                                                   typename analysis::template dependency<k>::output_type>>{};
    } else {
        return handler_problem<flow_slug, step, typename analysis::arguments>();
    }
}

/// "a -> b -> a" for the graph's cycle, as a template argument.
template <class Traits>
struct cycle_text {
    static constexpr std::size_t length = [] {
        const auto& g = Traits::facts.graph;
        std::size_t n = g.slugs[g.cycle[0]].size();
        for (std::size_t k = 0; k < g.cycle_length; ++k) n += g.slugs[g.cycle[k]].size() + 4;
        return n;
    }();
    static constexpr auto value = [] {
        const auto& g = Traits::facts.graph;
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
    template <std::size_t I>
    using step_at = flow_step_t<Traits, I>;

    /// The first step, in topological order, with a problem of its own; npos if none.
    template <std::size_t... Ks>
    static constexpr std::size_t first_step_with_problem(std::index_sequence<Ks...>) {
        constexpr const auto& g = Traits::facts.graph;
        // Analyses are instantiated in topological order, so each finds its dependencies' done.
        constexpr std::array<step_problem, sizeof...(Ks)> problems{
            step_analysis<Traits, g.order[Ks]>::verdict::problem...};
        for (std::size_t k = 0; k < sizeof...(Ks); ++k)
            if (problems[k] != step_problem::none && problems[k] != step_problem::blocked) return g.order[k];
        return npos;
    }

    /// The first failing check, in the order the header of flow.hpp lists them, or no_problem.
    static constexpr auto problem() {
        // Local constants, not static data members: see flow_traits.
        constexpr const auto& g = Traits::facts.graph;
        constexpr auto flow_slug = Traits::slug_string;
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
        } else if constexpr (constexpr std::size_t bad = first_step_with_pattern_problem<Traits>(
                                 std::make_index_sequence<Traits::step_count>{});
                             bad != npos) {
            return condition_pattern_problem<Traits, bad>();
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
    else if constexpr (any_of_pack<std::is_same<Steps, invalid_step>::value...>)  // not is_same_v: see flow_traits
        return std::type_identity<invalid_step>{};
    else
        return flow_checks<flow_traits_t<Slug, Input, Steps...>>::problem();
}

}  // namespace pgflow::detail
