#pragma once
// pgflow::task_context — what a handler may learn about the task it is running.

#include <stop_token>
#include <string_view>

namespace pgflow {

/// Passed (by const reference) as an optional trailing handler parameter.
/// The views stay valid for the duration of the handler call only.
struct task_context {
    std::string_view flow_slug{};
    std::string_view run_id{};  ///< canonical UUID text
    std::string_view step_slug{};
    int task_index = 0;  ///< 0 for single steps, the element index for map steps
    int attempt = 1;     ///< 1 for the first attempt (pgflow.step_tasks.attempts_count)
    /// Requested when the task's timeout has passed or the worker's shutdown grace is over.
    std::stop_token stop_token{};
};

}  // namespace pgflow
