#pragma once
// pgflow::flow_options and pgflow::step_options — the retry and timing options of a flow and of its
// steps (docs/flows.md, Options). Every field is optional: an unset field is left out of the registration SQL,
// so pgflow's defaults apply (flow: 3 attempts, base delay 5 s, timeout 60 s; step: the flow's).
//
//   pgflow::flow_options{.max_attempts = 3, .base_delay = 5, .timeout = 60}
//   pgflow::step_options{.timeout = 30, .start_delay = 10}
//
// Ranges (checked at compile time for constexpr flows, else by pgflow::definition_error):
// max_attempts >= 0, base_delay >= 0, 1 <= timeout <= max_timeout, start_delay >= 0. (The explicit `= std::nullopt`
// keeps g++'s -Wmissing-field-initializers quiet about designated initializers that skip fields.)

#include <optional>

namespace pgflow {

/// Flow-level defaults, `create_flow(flow_slug, max_attempts, base_delay, timeout)`.
struct flow_options {
    std::optional<int> max_attempts = std::nullopt;  ///< total attempts per task, first try included
    std::optional<int> base_delay = std::nullopt;    ///< seconds; retry k waits base_delay * 2^k
    std::optional<int> timeout = std::nullopt;       ///< seconds a task may run before it is retried

    friend constexpr bool operator==(const flow_options&, const flow_options&) = default;
};

/// Per-step overrides, `add_step(..., max_attempts, base_delay, timeout, start_delay)`.
/// An unset field inherits the flow's value (NULL in pgflow.steps).
struct step_options {
    std::optional<int> max_attempts = std::nullopt;
    std::optional<int> base_delay = std::nullopt;
    std::optional<int> timeout = std::nullopt;
    std::optional<int> start_delay =
        std::nullopt;  ///< seconds between the step becoming ready and its tasks being visible

    friend constexpr bool operator==(const step_options&, const step_options&) = default;
};

/// create_flow's defaults, the effective flow options when a field is unset.
inline constexpr int default_max_attempts = 3;
inline constexpr int default_base_delay = 5;
inline constexpr int default_timeout = 60;

/// The largest timeout, in seconds: pgflow's SQL computes a claimed message's visibility as
/// timeout + 2 in a PostgreSQL integer, so anything larger would make every claim of the step
/// fail with "integer out of range". The schema's CHECK constraints use the same bound.
inline constexpr int max_timeout = 2147483645;

}  // namespace pgflow
