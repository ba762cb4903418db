#pragma once
// A flow's condition patterns against the types they match (compile/pattern_types.hpp): a root
// step's pattern is matched against the flow input, a dependent step's against
// {"<dependency>": <its output>, ...}. Only steps with a pattern instantiate any of this.

#include <pgflow/checks.hpp>
#include <pgflow/compile/flow_analysis.hpp>
#include <pgflow/compile/pattern_types.hpp>
#include <pgflow/conditions.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pgflow::detail {

/// The members of a dependent step's condition input: its dependencies' outputs.
template <class Traits, std::size_t I>
struct dependency_members {
    using analysis = step_analysis<Traits, I>;
    using dependencies = typename analysis::step::dependencies;

    template <std::size_t... Ks>
    static constexpr bool match(pattern_walk& w, std::string_view key, std::index_sequence<Ks...>) {
        bool found = false;
        bool ok = true;
        const auto try_dependency = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
            if (found || !json_string_equals(key, dependencies::slugs[K])) return;
            found = true;
            ok = match_pattern<typename analysis::template dependency<K>::output_type>(w);
        };
        // A braced list, not a fold: a step may have hundreds of dependencies (compile/type_list.hpp).
        [[maybe_unused]] const int tried[] = {0, (try_dependency(std::integral_constant<std::size_t, Ks>{}), 0)...};
        return found ? ok : w.report(pattern_problem::not_a_dependency, {});
    }
    static constexpr bool match_member(pattern_walk& w, std::string_view key) {
        return match(w, key, std::make_index_sequence<dependencies::size>{});
    }
};

/// Condition is only_if<...> / only_if_not<...>, or void when the step has none.
template <class Traits, std::size_t I, class Condition>
constexpr pattern_check check_step_pattern() {
    if constexpr (std::is_void_v<Condition>) {
        return {};
    } else if constexpr (flow_step_t<Traits, I>::dependencies::size == 0) {
        return check_pattern<typename Traits::input_type>(Condition::pattern.view());
    } else {
        pattern_walk w{json_reader{Condition::pattern.view()}};
        match_members<dependency_members<Traits, I>>(w);
        return w.result;
    }
}

template <class Traits, std::size_t I>
struct condition_analysis {
    using conditions = typename flow_step_t<Traits, I>::conditions;
    static constexpr pattern_check required =
        check_step_pattern<Traits, I, typename conditions::template first<condition_kind::only_if>>();
    static constexpr pattern_check forbidden =
        check_step_pattern<Traits, I, typename conditions::template first<condition_kind::only_if_not>>();
};

template <class Traits, std::size_t I>
constexpr bool pattern_fails() {
    if constexpr (flow_step_t<Traits, I>::conditions::has_pattern) {
        using analysis = condition_analysis<Traits, I>;
        return analysis::required.problem != pattern_problem::none ||
               analysis::forbidden.problem != pattern_problem::none;
    } else {
        return false;
    }
}

/// The first step (declaration order) whose pattern cannot match its input's type; npos if none.
template <class Traits, std::size_t... Is>
constexpr std::size_t first_step_with_pattern_problem(std::index_sequence<Is...>) {
    if constexpr (!Traits::has_patterns) {
        return npos;  // most flows: no need to look at each step
    } else {
        constexpr std::array<bool, sizeof...(Is) + 1> fails{pattern_fails<Traits, Is>()..., false};
        for (std::size_t i = 0; i < sizeof...(Is); ++i)
            if (fails[i]) return i;
        return npos;
    }
}

template <fixed_string Flow, fixed_string Step, fixed_string Condition, const pattern_check& Check>
constexpr auto pattern_diagnostic() {
    if constexpr (Check.problem == pattern_problem::not_a_dependency)
        return std::type_identity<
            check_condition_pattern_keys_are_dependencies<Flow, Step, Condition, pattern_key_text<Check>>>{};
    else if constexpr (Check.problem == pattern_problem::unknown_member)
        return std::type_identity<check_condition_pattern_member_exists<Flow, Step, Condition, pattern_path_text<Check>,
                                                                        pattern_type_text<Check>>>{};
    else
        return std::type_identity<check_condition_pattern_value_kind<
            Flow, Step, Condition, pattern_path_text<Check>, pattern_type_text<Check>, pattern_expected_text<Check>,
            pattern_found_text<Check>>>{};
}

/// The check step I's patterns fail.
template <class Traits, std::size_t I>
constexpr auto condition_pattern_problem() {
    using analysis = condition_analysis<Traits, I>;
    constexpr auto step = flow_step_t<Traits, I>::slug_string;
    if constexpr (analysis::required.problem != pattern_problem::none)
        return pattern_diagnostic<Traits::slug_string, step, "only_if", analysis::required>();
    else
        return pattern_diagnostic<Traits::slug_string, step, "only_if_not", analysis::forbidden>();
}

/// The check the first step with a pattern problem fails, or no_problem.
template <class Traits>
constexpr auto pattern_problem_check() {
    constexpr std::size_t bad = first_step_with_pattern_problem<Traits>(std::make_index_sequence<Traits::step_count>{});
    if constexpr (bad != npos)
        return condition_pattern_problem<Traits, bad>();
    else
        return std::type_identity<no_problem>{};
}

}  // namespace pgflow::detail
