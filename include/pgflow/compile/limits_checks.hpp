#pragma once
// The compile-time diagnostics of flow_controls<...> (limits.hpp), in checks.hpp's style: a check is
// instantiated only when it fails, named after the rule, with the flow, step and values it is about.
// The words are limits_shape.hpp's, which a dynamic flow throws.

#include <pgflow/checks.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/limits_shape.hpp>

namespace pgflow::detail {

enum class control_kind { unknown, run_limit, run_key_limit, rate_limit, step_limits };
enum class step_limit_kind { unknown, concurrency, per_key, rate };

template <fixed_string Flow, class Control>
struct check_flow_control_is_known {
    static_assert(failed_type_check<Control>,
                  "flow_controls<...> takes max_concurrent_runs<N>, max_runs_per_key<\"key.path\", N>, "
                  "rate_limit<\"name\", max_starts, per_seconds> and step_limits<\"step\", ...>");
};
template <fixed_string Flow, fixed_string Step, class Limit>
struct check_step_limit_is_known {
    static_assert(failed_type_check<Limit>,
                  "step_limits<\"step\", ...> takes concurrency<N>, concurrency_per_key<\"key.path\", N> and "
                  "rate_limited<\"name\">");
};
/// Step is empty for a flow-level limit; Which names the limit.
template <fixed_string Flow, fixed_string Step, fixed_string Which, int Value>
struct check_limit_is_at_least_one {
    static_assert(failed_check<Flow, Step, Which, Value>, PGFLOW_DETAIL_LIMIT_BELOW_ONE);
};
template <fixed_string Flow, fixed_string Step, fixed_string KeyPath>
struct check_key_path_is_valid {
    static_assert(failed_check<Flow, Step, KeyPath>, PGFLOW_DETAIL_INVALID_KEY_PATH);
};
template <fixed_string Flow, fixed_string Name>
struct check_rate_limit_name_is_valid {
    static_assert(failed_check<Flow, Name>, PGFLOW_DETAIL_INVALID_RATE_LIMIT_NAME);
};
template <fixed_string Flow, fixed_string Name, int MaxStarts, int PerSeconds>
struct check_rate_limit_is_positive {
    static_assert(failed_check<Flow, Name, MaxStarts, PerSeconds>, PGFLOW_DETAIL_RATE_NOT_POSITIVE);
};
template <fixed_string Flow, fixed_string Step>
struct check_limited_step_is_declared {
    static_assert(failed_check<Flow, Step>,
                  "step_limits<...> names a step the flow does not have: check the spelling or add the step");
};
template <fixed_string Flow, fixed_string Step, fixed_string Name>
struct check_rate_limit_is_declared {
    static_assert(failed_check<Flow, Step, Name>,
                  "rate_limited<...> names a rate limit the flow does not declare: add "
                  "rate_limit<\"name\", max_starts, per_seconds> to its flow_controls<...> (a limit shared with "
                  "other flows is declared by each of them)");
};
template <fixed_string Flow, fixed_string Step>
struct check_step_limit_given_once {
    static_assert(failed_check<Flow, Step>,
                  "step_limits<...> takes each kind of limit (concurrency, concurrency_per_key, rate_limited) "
                  "at most once");
};
template <fixed_string Flow, fixed_string Which>
struct check_flow_control_given_once {
    static_assert(failed_check<Flow, Which>, "flow_controls<...> takes this control at most once");
};
template <fixed_string Flow, fixed_string Step>
struct check_step_limits_given_once {
    static_assert(failed_check<Flow, Step>,
                  "flow_controls<...> has two step_limits<...> for this step: give all its limits in one");
};
template <fixed_string Flow, fixed_string Name>
struct check_rate_limit_declared_once {
    static_assert(failed_check<Flow, Name>, "flow_controls<...> declares this rate limit twice: declare it once");
};

}  // namespace pgflow::detail
