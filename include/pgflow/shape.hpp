#pragma once
// pgflow::flow_shape — a run-time description of a flow definition: what the DSL compiled, what a
// dynamic flow builder holds, or what a database has registered. Used to compare them, and to write
// the registration SQL (compile/registration_text.hpp). Usable in constant expressions.

#include <pgflow/limits_shape.hpp>
#include <pgflow/options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pgflow {

enum class step_type { single, map };

constexpr const char* to_string(step_type t) noexcept { return t == step_type::map ? "map" : "single"; }

/// Who completes a step's tasks: its handler (pgflow 0.8.1's only kind), a signal
/// (pgflow_cpp.signal), the clock (a sleep: a worker computes the deadline, the database wakes it)
/// or a child run of another flow (a subflow). waits.hpp; registered by pgflow_cpp.set_step_kind.
enum class step_kind { handler, signal, sleep, subflow };

/// The text pgflow_cpp.set_step_kind takes ('handler' is never written: it is the default).
constexpr const char* to_string(step_kind k) noexcept {
    switch (k) {
        case step_kind::handler: return "handler";
        case step_kind::signal: return "signal";
        case step_kind::sleep: return "sleep";
        case step_kind::subflow: break;
    }
    return "subflow";
}

/// What happens to a step whose condition is unmet (`when_unmet`) or whose task exhausted its
/// attempts (`when_exhausted`), pgflow 0.14's three modes: fail the run, skip the step (its
/// dependents run without it), or skip it and every step that depends on it, transitively.
enum class condition_mode { fail, skip, skip_cascade };

/// The text pgflow stores in steps.when_unmet / when_exhausted.
constexpr const char* to_string(condition_mode m) noexcept {
    switch (m) {
        case condition_mode::fail: return "fail";
        case condition_mode::skip: return "skip";
        case condition_mode::skip_cascade: break;
    }
    return "skip-cascade";
}

struct step_shape {
    std::string slug{};
    step_type type = step_type::single;
    std::vector<std::string> dependencies;  ///< in declaration order
    std::optional<int> max_attempts;        ///< NULL in pgflow.steps = inherit the flow's value
    std::optional<int> base_delay;
    std::optional<int> timeout;
    std::optional<int> start_delay;
    /// pgflow 0.14's condition (`required_input_pattern` / `forbidden_input_pattern`): compact JSON
    /// object text, empty when not set. The step runs only when its input contains the required
    /// pattern and does not contain the forbidden one (jsonb `@>`).
    std::string required_input_pattern{};
    std::string forbidden_input_pattern{};
    /// As the definition states them; unset means pgflow's defaults (when_unmet skip, when_exhausted
    /// fail) and is left out of the registration SQL.
    std::optional<condition_mode> when_unmet{};
    std::optional<condition_mode> when_exhausted{};
    /// A step without a handler (waits.hpp): its kind, and per kind what pgflow_cpp.set_step_kind
    /// registers. value_shape: compact JSON text of what a signal's value must look like, empty for
    /// any JSON; child_flow: the subflow's flow slug.
    step_kind kind = step_kind::handler;
    std::optional<int> signal_timeout{};
    std::string value_shape{};
    std::string child_flow{};
    std::string input_type;   ///< C++ type name of the handler input, empty when unknown (database)
    std::string output_type;  ///< C++ type name of the step output, empty when unknown

    friend bool operator==(const step_shape&, const step_shape&) = default;
};

struct flow_shape {
    std::string slug{};
    int max_attempts = 3;  ///< effective values, create_flow's defaults when not given
    int base_delay = 5;
    int timeout = 60;
    std::vector<step_shape> steps;  ///< in registration (step_index) order
    std::string input_type;
    /// The flow options as the definition states them (shape_of, dynamic_flow::shape): pgflow's
    /// compileFlow writes a stated option even when it equals the default. The values above count.
    flow_options stated_options{};
    /// Flow control (limits.hpp); registration writes it after the steps, and writes it again when
    /// the flow is registered already (limits may change without a new slug).
    flow_limits_shape limits{};

    friend bool operator==(const flow_shape&, const flow_shape&) = default;
};

}  // namespace pgflow
