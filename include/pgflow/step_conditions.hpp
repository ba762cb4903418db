#pragma once
// pgflow::step_conditions — pgflow 0.14's conditions for a step built at run time (dynamic_flow):
// run the step only when its input contains one JSON pattern (`only_if`, pgflow's
// required_input_pattern) and does not contain another (`only_if_not`, forbidden_input_pattern),
// and what to do when the condition is unmet or the step's task exhausts its attempts.
//
//   f.step("charge", {"fraud_check"}, charge,
//          pgflow::step_conditions{.only_if = boost::json::object{{"fraud_check", {{"approved", true}}}}});
//
// The input a pattern is matched against (with jsonb containment, `@>`) is the flow input for a
// root step and `{"<dependency>": <its output>, …}` for a dependent one, with skipped dependencies
// left out. The compiled DSL states the same with pgflow::only_if<…> and friends.

#include <pgflow/checks.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/shape.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow {

struct step_conditions {
    /// The step runs only when its input contains this pattern.
    std::optional<boost::json::object> only_if{};
    /// The step runs only when its input does not contain this pattern (both given: both hold).
    std::optional<boost::json::object> only_if_not{};
    /// What an unmet condition does; pgflow's default is skip. Needs only_if or only_if_not.
    std::optional<condition_mode> when_unmet{};
    /// What a task that used up its attempts does; pgflow's default is fail (the run fails).
    std::optional<condition_mode> when_exhausted{};

    [[nodiscard]] bool empty() const noexcept { return !only_if && !only_if_not && !when_unmet && !when_exhausted; }
};

namespace detail {

/// The first top-level key of `pattern` that is not one of `dependencies`, or nullptr.
inline const boost::json::key_value_pair* key_outside(const boost::json::object& pattern,
                                                      const std::vector<std::string>& dependencies) {
    for (const auto& member : pattern) {
        bool found = false;
        for (const std::string& d : dependencies) found = found || d == member.key();
        if (!found) return &member;
    }
    return nullptr;
}

/// Throws definition_error (naming flow and step) for conditions pgflow would store but that could
/// never work: when_unmet without a pattern, a pattern on a root map step (matched against the
/// array input, it can never hold: decision 9) and a dependent step's pattern over a key that is
/// not one of its dependencies (its input has no other keys).
inline void check_step_conditions(std::string_view flow, std::string_view step, step_type type,
                                  const std::vector<std::string>& dependencies, const pgflow::step_conditions& c) {
    const bool has_pattern = c.only_if || c.only_if_not;
    if (c.when_unmet && !has_pattern)
        throw flow_definition_error(flow, step,
                                    "when_unmet needs a condition: give the step only_if or only_if_not as well");
    if (!has_pattern) return;
    if (type == step_type::map && dependencies.empty())
        throw flow_definition_error(flow, step,
                                    "a root map step cannot have a condition: its input is the flow's array, "
                                    "which a JSON object pattern never matches; put the condition on a step "
                                    "before it");
    if (dependencies.empty()) return;
    for (const auto* pattern : {&c.only_if, &c.only_if_not}) {
        if (!*pattern) continue;
        if (const auto* key = key_outside(**pattern, dependencies)) {
            std::string listed;
            for (const std::string& d : dependencies) listed += concat({listed.empty() ? "" : ", ", quoted(d)});
            constexpr std::string_view why =
                ", which is not a dependency of the step: a dependent step's condition is matched against its "
                "dependencies' outputs, keyed by their slugs (";
            throw flow_definition_error(flow, step,
                                        concat({pattern == &c.only_if ? "only_if" : "only_if_not", " names ",
                                                quoted(key->key()), why, listed, ")"}));
        }
    }
}

/// Writes the conditions into a step's shape: patterns as compact JSON text, modes as stated.
inline void apply_conditions(step_shape& shape, const pgflow::step_conditions& c) {
    if (c.only_if) shape.required_input_pattern = boost::json::serialize(*c.only_if);
    if (c.only_if_not) shape.forbidden_input_pattern = boost::json::serialize(*c.only_if_not);
    shape.when_unmet = c.when_unmet;
    shape.when_exhausted = c.when_exhausted;
}

}  // namespace detail
}  // namespace pgflow
