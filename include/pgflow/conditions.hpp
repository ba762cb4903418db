#pragma once
// Conditions on a step (pgflow 0.14), template arguments after after<...>:
//
//   pgflow::step<"charge", pgflow::after<"fraud_check">,
//                pgflow::only_if<R"({"fraud_check": {"approved": true}})">,
//                pgflow::when_exhausted<pgflow::skip>>(handler)
//
// only_if<pattern> runs the step only when its input contains the pattern (jsonb @>), only_if_not
// only when it does not (both: AND). The input is the flow input for a root step and
// {"<dependency>": output, ...} for a dependent one. when_unmet<mode> says what an unmet condition
// does (default skip), when_exhausted<mode> what a task out of attempts does (default fail):
// pgflow::fail the run, pgflow::skip the step (dependents run without its output, which they take
// as std::optional), or pgflow::skip_cascade it and everything that depends on it. docs/flows.md.

#include <pgflow/compile/json_literal.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/shape.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>

namespace pgflow {

inline constexpr condition_mode fail = condition_mode::fail;
inline constexpr condition_mode skip = condition_mode::skip;
inline constexpr condition_mode skip_cascade = condition_mode::skip_cascade;

/// Run the step only when its input contains Pattern, a JSON object (required_input_pattern).
template <fixed_string Pattern>
struct only_if {
    static constexpr auto pattern = Pattern;
};
/// Run the step only when its input does not contain Pattern (forbidden_input_pattern).
template <fixed_string Pattern>
struct only_if_not {
    static constexpr auto pattern = Pattern;
};
/// What an unmet condition does to the step (default pgflow::skip); needs only_if or only_if_not.
template <condition_mode Mode>
struct when_unmet {
    static constexpr condition_mode mode = Mode;
};
/// What a task that used up its attempts does to the step (default pgflow::fail).
template <condition_mode Mode>
struct when_exhausted {
    static constexpr condition_mode mode = Mode;
};

namespace detail {

enum class condition_kind { not_a_condition, only_if, only_if_not, when_unmet, when_exhausted };

/// Spelling of a condition in diagnostics.
[[nodiscard]] constexpr std::string_view condition_name(condition_kind k) noexcept {
    switch (k) {
        case condition_kind::only_if: return "only_if";
        case condition_kind::only_if_not: return "only_if_not";
        case condition_kind::when_unmet: return "when_unmet";
        case condition_kind::when_exhausted: return "when_exhausted";
        case condition_kind::not_a_condition: break;
    }
    return "";
}

template <class T>
struct condition_traits {
    static constexpr condition_kind kind = condition_kind::not_a_condition;
};
template <fixed_string P>
struct condition_traits<only_if<P>> {
    static constexpr condition_kind kind = condition_kind::only_if;
};
template <fixed_string P>
struct condition_traits<only_if_not<P>> {
    static constexpr condition_kind kind = condition_kind::only_if_not;
};
template <condition_mode M>
struct condition_traits<when_unmet<M>> {
    static constexpr condition_kind kind = condition_kind::when_unmet;
};
template <condition_mode M>
struct condition_traits<when_exhausted<M>> {
    static constexpr condition_kind kind = condition_kind::when_exhausted;
};

template <class T>
inline constexpr bool is_condition = !is(condition_traits<T>::kind, condition_kind::not_a_condition);

/// The first of Cs that is a condition of kind K (void if none).
template <condition_kind K, class... Cs>
struct first_condition {
    using type = void;
};
template <condition_kind K, class C, class... Cs>
struct first_condition<K, C, Cs...> {
    using type = std::conditional_t<condition_traits<C>::kind == K, C, typename first_condition<K, Cs...>::type>;
};

/// A pattern's compact text (compile/json_literal.hpp); instantiated only for a valid pattern.
template <fixed_string Pattern>
inline constexpr auto compact_pattern = [] {
    compact_json_text<Pattern.size()> out;
    write_compact_json(out, Pattern.view());
    return out;
}();

/// A step's conditions as registration writes them (compact patterns, empty when absent; modes as
/// stated).
struct step_condition_text {
    std::string_view required{};
    std::string_view forbidden{};
    std::optional<condition_mode> when_unmet{};
    std::optional<condition_mode> when_exhausted{};
};

/// What the conditions given to a step (the template arguments after after<...>) amount to.
template <class... Cs>
struct step_conditions {
    template <condition_kind K>
    static constexpr std::size_t count = (std::size_t{0} + ... + (condition_traits<Cs>::kind == K ? 1 : 0));
    template <condition_kind K>
    using first = typename first_condition<K, Cs...>::type;

    static constexpr bool has_pattern = count<condition_kind::only_if> + count<condition_kind::only_if_not> > 0;
    static constexpr std::optional<condition_mode> when_unmet = [] {
        if constexpr (count<condition_kind::when_unmet> > 0)
            return std::optional(first<condition_kind::when_unmet>::mode);
        else
            return std::optional<condition_mode>();
    }();
    static constexpr std::optional<condition_mode> when_exhausted = [] {
        if constexpr (count<condition_kind::when_exhausted> > 0)
            return std::optional(first<condition_kind::when_exhausted>::mode);
        else
            return std::optional<condition_mode>();
    }();
    static constexpr condition_mode unmet_mode = when_unmet.value_or(condition_mode::skip);
    static constexpr condition_mode exhausted_mode = when_exhausted.value_or(condition_mode::fail);

    /// Dependents may run without this step's output: it can be skipped without its dependents.
    static constexpr bool skipped_alone =
        (has_pattern && unmet_mode == condition_mode::skip) || exhausted_mode == condition_mode::skip;
    /// Its skip-cascade skips every step that depends on it.
    static constexpr bool skips_dependents =
        (has_pattern && unmet_mode == condition_mode::skip_cascade) || exhausted_mode == condition_mode::skip_cascade;
    /// The run may complete without this step's output.
    static constexpr bool may_be_skipped = skipped_alone || skips_dependents;

    template <condition_kind K>
    static constexpr std::string_view compact() noexcept {
        if constexpr (std::is_void_v<first<K>>)
            return {};
        else
            return compact_pattern<first<K>::pattern>.view();
    }
    static constexpr step_condition_text text() noexcept {
        return {compact<condition_kind::only_if>(), compact<condition_kind::only_if_not>(), when_unmet, when_exhausted};
    }
};

template <class T>
struct is_step_conditions : std::false_type {};
template <class... Cs>
struct is_step_conditions<step_conditions<Cs...>> : std::true_type {};

/// Where an invalid pattern failed, for its diagnostic: the (last 24 characters of the) pattern up
/// to the error, and what was expected there.
template <fixed_string Pattern>
struct pattern_error_text {
    static constexpr json_reader reader = read_pattern(Pattern.view());
    static constexpr std::string_view before = [] {
        std::string_view text = Pattern.view().substr(0, reader.problem_at);
        while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t'))
            text.remove_suffix(1);
        return text.size() > 24 ? text.substr(text.size() - 24) : text;
    }();
    static constexpr bool cut = before.size() < reader.problem_at && before.size() == 24;
    static constexpr auto where = [] {
        std::array<char, before.size() + 3> text{'.', '.', '.'};
        for (std::size_t k = 0; k < before.size(); ++k) text[3 + k] = before[k];
        const std::string_view all(text.data(), text.size());
        return fixed_string<before.size() + (cut ? 3 : 0) + 1>(cut ? all : all.substr(3));
    }();
    static constexpr auto problem = fixed_string<reader.problem.size() + 1>(reader.problem);
};

}  // namespace detail

}  // namespace pgflow
