#pragma once
// The step vocabulary: after<...>, step<Slug, after<...>, conditions...>(options?, handler) and
// map<Slug, after<Dep>, conditions...>(options?, handler). Conditions: conditions.hpp.
//
//   pgflow::step<"validate">([](const Order& o) { return Validated{o.amount > 0}; })
//   pgflow::step<"charge", pgflow::after<"validate">>(pgflow::step_options{.timeout = 30},
//       [](const Order& o, const Validated& v) { return Charge{...}; })
//   pgflow::map<"ship_items", pgflow::after<"charge">>([](const Item& item) { return ...; })
//
// A step handler takes the flow input, then one parameter per dependency in after<...> order; a map
// handler takes one element of the array it maps over (the flow input for a map without
// dependencies, else its dependency's output). Either may take a trailing
// `const pgflow::task_context&`, which is passed when the handler cannot be called without it.
// Checks that need only the step itself (slug rules, self-dependency, a dependency listed twice, a
// map with two dependencies, a condition's own rules) fire here; the rest when the flow is built.

#include <pgflow/checks.hpp>
#include <pgflow/compile/slug_index.hpp>
#include <pgflow/compile/step_rules.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/conditions.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/slug.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pgflow {

/// The steps a step depends on, in the order its handler takes their outputs.
template <fixed_string... Dependencies>
struct after {
    static constexpr std::size_t size = sizeof...(Dependencies);
    static constexpr std::array<std::string_view, size> slugs{Dependencies.view()...};
    /// The K-th dependency's slug as a template argument.
    template <std::size_t K>
    static constexpr auto slug = detail::slug_at<K, Dependencies...>;
};

/// A declared step: what step<...>(...) and map<...>(...) return; also signal<...>, sleep<...> and
/// subflow<...> (wait_steps.hpp), whose Kind says who completes them and whose Handler is then
/// what the kind needs (a sleep's deadline function, a signal's or subflow's description).
template <fixed_string Slug, class After, step_type Type, class Handler, class Conditions = detail::step_conditions<>,
          step_kind Kind = step_kind::handler>
struct step_definition {
    static constexpr auto slug_string = Slug;
    static constexpr std::string_view slug = Slug.view();
    static constexpr step_type type = Type;
    static constexpr step_kind kind = Kind;
    using dependencies = After;
    using handler_type = Handler;
    using conditions = Conditions;

    step_options options;
    Handler handler;
};

namespace detail {

template <class T>
struct is_after : std::false_type {};
template <fixed_string... Ds>
struct is_after<after<Ds...>> : std::true_type {};

template <class T>
struct is_step_definition : std::false_type {};
template <fixed_string S, class A, step_type T, class H, class C, step_kind K>
struct is_step_definition<step_definition<S, A, T, H, C, K>> : std::true_type {};

/// What step<...>(...) returns when one of its checks failed (the check already reported it);
/// the flow then stays silent instead of piling up follow-up errors.
struct invalid_step {};

template <class T>
concept step_argument = is_step_definition<T>::value || std::is_same_v<T, invalid_step>;
/// Every one of Ts is a step (one concept over the pack: a constrained pack is a fold, see
/// compile/type_list.hpp).
template <class... Ts>
concept step_arguments = all_of_pack<step_argument<Ts>...>;

/// The check a step declaration fails first, or no_problem.
template <fixed_string Slug, class After, step_type Type>
constexpr auto step_declaration_problem() {
    if constexpr (!is_after<After>::value) {
        return std::type_identity<check_dependencies_are_listed_with_after<Slug, After>>{};
    } else if constexpr (check_slug(Slug.view(), false) == slug_verdict::reserved) {
        return std::type_identity<check_step_slug_is_not_reserved<Slug>>{};
    } else if constexpr (check_slug(Slug.view(), false) != slug_verdict::valid) {
        return std::type_identity<check_step_slug_is_valid<Slug>>{};
    } else if constexpr (constexpr declaration_check check = check_step_declaration(Slug.view(), Type, After::slugs);
                         check.verdict == declaration_verdict::map_with_dependencies) {
        return std::type_identity<check_map_has_at_most_one_dependency<Slug, After>>{};
    } else if constexpr (check.verdict == declaration_verdict::self_dependency) {
        return std::type_identity<check_step_does_not_depend_on_itself<Slug>>{};
    } else if constexpr (check.verdict == declaration_verdict::dependency_twice) {
        return std::type_identity<check_dependency_listed_once<Slug, After::template slug<check.position>>>{};
    } else {
        return std::type_identity<no_problem>{};
    }
}

template <class Condition>
constexpr bool pattern_is_invalid() {
    if constexpr (std::is_void_v<Condition>)
        return false;
    else
        return read_pattern(Condition::pattern.view()).failed();
}

/// The check a step's conditions fail first, or no_problem.
template <fixed_string Slug, class After, step_type Type, class... Cs>
constexpr auto conditions_problem() {
    using conditions = step_conditions<Cs...>;
    constexpr std::size_t unknown = index_of_first<!is_condition<Cs>...>();
    constexpr std::size_t twice = index_of_first<(conditions::template count<condition_traits<Cs>::kind> > 1)...>();
    using required = typename conditions::template first<condition_kind::only_if>;
    using forbidden = typename conditions::template first<condition_kind::only_if_not>;
    if constexpr (unknown < sizeof...(Cs)) {
        return std::type_identity<check_step_condition_is_known<Slug, type_at<unknown, Cs...>>>{};
    } else if constexpr (twice < sizeof...(Cs)) {
        constexpr condition_kind kind = condition_traits<type_at<twice, Cs...>>::kind;
        return std::type_identity<
            check_condition_given_once<Slug, fixed_string<condition_name(kind).size() + 1>(condition_name(kind))>>{};
    } else if constexpr (conditions::when_unmet && !conditions::has_pattern) {
        return std::type_identity<check_when_unmet_has_a_pattern<Slug>>{};
    } else if constexpr (Type == step_type::map && After::size == 0 && conditions::has_pattern) {
        return std::type_identity<check_root_map_has_no_pattern<Slug>>{};
    } else if constexpr (pattern_is_invalid<required>()) {
        return std::type_identity<
            check_condition_pattern_is_json_object<Slug, "only_if", pattern_error_text<required::pattern>::where,
                                                   pattern_error_text<required::pattern>::problem>>{};
    } else if constexpr (pattern_is_invalid<forbidden>()) {
        return std::type_identity<
            check_condition_pattern_is_json_object<Slug, "only_if_not", pattern_error_text<forbidden::pattern>::where,
                                                   pattern_error_text<forbidden::pattern>::problem>>{};
    } else {
        return std::type_identity<no_problem>{};
    }
}

/// Whether a step's slug and dependencies keep all of its own rules: one constant evaluation for a
/// valid step (step_declaration_problem then says which rule a failing one breaks).
template <class Dependencies>
constexpr bool step_declaration_is_valid(std::string_view slug, step_type type, const Dependencies& deps) {
    return check_slug(slug, false) == slug_verdict::valid &&
           check_step_declaration(slug, type, deps).verdict == declaration_verdict::valid;
}

template <fixed_string Slug, class After, step_type Type>
constexpr auto invalid_declaration() {
    using problem = typename decltype(step_declaration_problem<Slug, After, Type>())::type;
    static_assert(sizeof(problem) > 0);  // shows the check's diagnostic
    return invalid_step{};
}

// What step<...>(...), map<...>(...) and the steps without handlers (wait_steps.hpp) call: a valid
// step's declaration instantiates this function and step_definition only (a 500-step flow's steps
// took 0.25 s longer with clang 16 through two more functions and three constant evaluations each).
template <step_kind Kind, fixed_string Slug, class After, step_type Type, class... Cs, class Handler>
constexpr auto make_step_of_kind(step_options options, Handler handler) {
    // Two branches with one body: After::slugs exists only once After is an after<...>.
    if constexpr (!is_after<After>::value) {  // NOLINT(bugprone-branch-clone)
        return invalid_declaration<Slug, After, Type>();
    } else if constexpr (!step_declaration_is_valid(Slug.view(), Type, After::slugs)) {
        return invalid_declaration<Slug, After, Type>();
    } else if constexpr (sizeof...(Cs) == 0) {  // most steps: nothing of conditions_problem instantiated
        return step_definition<Slug, After, Type, Handler, step_conditions<>, Kind>{options, std::move(handler)};
    } else {
        using condition_problem = typename decltype(conditions_problem<Slug, After, Type, Cs...>())::type;
        if constexpr (!std::is_same_v<condition_problem, no_problem>) {
            static_assert(sizeof(condition_problem) > 0);
            return invalid_step{};
        } else {
            return step_definition<Slug, After, Type, Handler, step_conditions<Cs...>, Kind>{options,
                                                                                             std::move(handler)};
        }
    }
}

}  // namespace detail

/// A step that runs once per run: `handler(flow_input, dependency_outputs..., [task_context])`.
/// Conditions (conditions.hpp) follow after<...>; a root step may give them without it.
template <fixed_string Slug, class After = after<>, class... Conditions, class Handler>
[[nodiscard]] constexpr auto step(step_options options, Handler handler) {
    if constexpr (detail::is_condition<After>)  // step<"s", only_if<...>>: no after<> needed
        return detail::make_step_of_kind<step_kind::handler, Slug, after<>, step_type::single, After, Conditions...>(
            options, std::move(handler));
    else
        return detail::make_step_of_kind<step_kind::handler, Slug, After, step_type::single, Conditions...>(
            options, std::move(handler));
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Handler>
[[nodiscard]] constexpr auto step(Handler handler) {
    if constexpr (detail::is_condition<After>)  // step<"s", only_if<...>>: no after<> needed
        return detail::make_step_of_kind<step_kind::handler, Slug, after<>, step_type::single, After, Conditions...>(
            step_options{}, std::move(handler));
    else
        return detail::make_step_of_kind<step_kind::handler, Slug, After, step_type::single, Conditions...>(
            step_options{}, std::move(handler));
}

/// A step that runs once per array element: `handler(element, [task_context])`; its output is the
/// array of the results, in element order. Without dependencies it maps over the flow input.
template <fixed_string Slug, class After = after<>, class... Conditions, class Handler>
[[nodiscard]] constexpr auto map(step_options options, Handler handler) {
    if constexpr (detail::is_condition<After>)  // map<"s", only_if<...>>: no after<> needed
        return detail::make_step_of_kind<step_kind::handler, Slug, after<>, step_type::map, After, Conditions...>(
            options, std::move(handler));
    else
        return detail::make_step_of_kind<step_kind::handler, Slug, After, step_type::map, Conditions...>(
            options, std::move(handler));
}
template <fixed_string Slug, class After = after<>, class... Conditions, class Handler>
[[nodiscard]] constexpr auto map(Handler handler) {
    if constexpr (detail::is_condition<After>)  // map<"s", only_if<...>>: no after<> needed
        return detail::make_step_of_kind<step_kind::handler, Slug, after<>, step_type::map, After, Conditions...>(
            step_options{}, std::move(handler));
    else
        return detail::make_step_of_kind<step_kind::handler, Slug, After, step_type::map, Conditions...>(
            step_options{}, std::move(handler));
}

}  // namespace pgflow
