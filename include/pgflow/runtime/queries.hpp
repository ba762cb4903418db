#pragma once
// The read queries: how pgflow::client and the `pgflow` command line read runs, steps, tasks,
// flows and workers. Each statement is written here once; README.md's monitoring queries are the
// short forms of the overview ones below. Every run-scoped query takes the run id as $1::uuid.

#include <pgflow/pq/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace pgflow::detail::queries {

// --- runs -----------------------------------------------------------------------------------------

/// The run as pgflow.get_run_with_states reports it, and its step slugs in step_index order (the
/// function's own order is not that one).
inline constexpr std::string_view run_with_states = R"(
SELECT pgflow.get_run_with_states($1::uuid),
       (SELECT json_agg(s.step_slug ORDER BY s.step_index)
          FROM pgflow.steps s JOIN pgflow.runs r ON r.flow_slug = s.flow_slug WHERE r.run_id = $1::uuid))";

/// Where a run stands: its flow, status and output, and the first step that failed with its error.
inline constexpr std::string_view run_outcome = R"(
SELECT r.flow_slug, r.status, r.output, s.step_slug, s.error_message
  FROM pgflow.runs r
  LEFT JOIN LATERAL (SELECT step_slug, error_message FROM pgflow.step_states
                      WHERE run_id = r.run_id AND status = 'failed' ORDER BY failed_at LIMIT 1) s ON true
 WHERE r.run_id = $1::uuid)";

/// A row of run_outcome.
struct run_outcome_row {
    std::string flow_slug;
    std::string status;                        ///< started, completed or failed
    std::optional<std::string> output;         ///< the output's JSON text; unset until completed
    std::optional<std::string> failed_step;    ///< the first step that failed, if any
    std::optional<std::string> error_message;  ///< that step's error
};

/// run_outcome's row, or nullopt when there is no such run.
inline std::optional<run_outcome_row> read_run_outcome(const pq::result& r) {
    if (r.empty()) return std::nullopt;
    auto text = [&r](int col) {
        return r.is_null(0, col) ? std::nullopt : std::optional<std::string>(std::string(r.text(0, col)));
    };
    return run_outcome_row{std::string(r.text(0, 0)), std::string(r.text(0, 1)), text(2), text(3), text(4)};
}

/// One run for `pgflow status <run_id>`: flow, status, input, output, steps to go, start, end, seconds.
inline constexpr std::string_view run_summary = R"(
SELECT flow_slug, status, input::text, output::text, remaining_steps,
       date_trunc('milliseconds', started_at)::text,
       date_trunc('milliseconds', coalesce(completed_at, failed_at))::text,
       round(extract(epoch FROM coalesce(completed_at, failed_at, now()) - started_at)::numeric, 3)::text
  FROM pgflow.runs WHERE run_id = $1::uuid)";

// --- steps and tasks ------------------------------------------------------------------------------

// pgflow 0.14's step_states.skip_reason and skipped_at are read through to_jsonb(row): the same
// query works on pgflow 0.8.1's own schema, which has neither (they read as null there).

/// A run's steps in step_index order: slug, type, status, "tasks done/initial tasks", most
/// attempts, start, end (completed, failed or skipped), error, skip reason.
inline constexpr std::string_view run_steps = R"(
SELECT ss.step_slug, s.step_type, ss.status,
       (SELECT count(*) FILTER (WHERE t.status = 'completed') FROM pgflow.step_tasks t
         WHERE t.run_id = ss.run_id AND t.step_slug = ss.step_slug)::text
         || '/' || coalesce(ss.initial_tasks::text, '?'),
       (SELECT max(t.attempts_count) FROM pgflow.step_tasks t
         WHERE t.run_id = ss.run_id AND t.step_slug = ss.step_slug),
       date_trunc('milliseconds', ss.started_at)::text,
       date_trunc('milliseconds',
                  coalesce(ss.completed_at, ss.failed_at, (to_jsonb(ss) ->> 'skipped_at')::timestamptz))::text,
       ss.error_message, to_jsonb(ss) ->> 'skip_reason'
  FROM pgflow.step_states ss
  JOIN pgflow.steps s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
 WHERE ss.run_id = $1::uuid
 ORDER BY s.step_index)";

/// A run's step slugs, statuses and skip reasons in step_index order.
inline constexpr std::string_view step_statuses = R"(
SELECT ss.step_slug, ss.status, to_jsonb(ss) ->> 'skip_reason' FROM pgflow.step_states ss
  JOIN pgflow.steps s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
 WHERE ss.run_id = $1::uuid ORDER BY s.step_index)";

/// A run's tasks whose last attempt failed and that were (or are to be) tried again: step, task
/// index, the failed attempt's number, its error, the task's status. A task keeps its last
/// error_message while it is queued again, started again or completed. A task `skipped` (pgflow
/// 0.15.1: its step was skipped while it waited or ran) is left out: it was not retried.
inline constexpr std::string_view retried_tasks = R"(
SELECT step_slug, task_index,
       CASE WHEN status = 'queued' THEN attempts_count ELSE attempts_count - 1 END, error_message, status
  FROM pgflow.step_tasks
 WHERE run_id = $1::uuid AND error_message IS NOT NULL AND status NOT IN ('failed', 'skipped')
 ORDER BY step_slug, task_index)";

// --- the overview (`pgflow status`) ---------------------------------------------------------------

/// Per flow: runs started and not ended, and the oldest start.
inline constexpr std::string_view active_runs_per_flow = R"(
SELECT flow_slug, count(*), date_trunc('second', min(started_at))::text
  FROM pgflow.runs WHERE status = 'started' GROUP BY flow_slug ORDER BY flow_slug)";

/// The newest failed tasks (at most $1): failed at, flow, step, task, attempts, run, error, and
/// the number of failed tasks in all.
inline constexpr std::string_view failed_tasks = R"(
SELECT date_trunc('second', st.failed_at)::text, r.flow_slug, ss.step_slug, st.task_index, st.attempts_count,
       st.run_id::text, st.error_message, count(*) OVER ()
  FROM pgflow.step_tasks st
  JOIN pgflow.runs r ON st.run_id = r.run_id
  JOIN pgflow.step_states ss ON st.run_id = ss.run_id AND st.step_slug = ss.step_slug
 WHERE st.status = 'failed'
 ORDER BY st.failed_at DESC, st.run_id, st.step_slug, st.task_index
 LIMIT $1)";

/// Per flow: completed runs, and their average and longest duration in seconds.
inline constexpr std::string_view completion_times = R"(
SELECT flow_slug, count(*),
       round(avg(extract(epoch FROM completed_at - started_at))::numeric, 3)::text,
       round(max(extract(epoch FROM completed_at - started_at))::numeric, 3)::text
  FROM pgflow.runs WHERE status = 'completed' GROUP BY flow_slug ORDER BY flow_slug)";

// --- flows, workers, the schema -------------------------------------------------------------------

/// One row when the flow $1 is registered.
inline constexpr std::string_view flow_registered = "SELECT 1 FROM pgflow.flows WHERE flow_slug = $1";

/// Workers (all when $1, else those not stopped): id, queue, function, start, time since the last
/// heartbeat, state, tasks running. A worker heartbeats every 5 s (pgflow's edge worker and
/// pgflow::worker alike); three missed beats make it "silent": crashed, or cut off from the database.
inline constexpr std::string_view workers = R"(
SELECT w.worker_id::text, w.queue_name, w.function_name,
       date_trunc('second', w.started_at)::text,
       round(extract(epoch FROM clock_timestamp() - w.last_heartbeat_at)::numeric, 1)::text || ' s ago',
       CASE WHEN w.deprecated_at IS NOT NULL THEN 'stopped'
            WHEN w.last_heartbeat_at < clock_timestamp() - interval '15 seconds' THEN 'silent'
            ELSE 'running' END,
       (SELECT count(*) FROM pgflow.step_tasks t WHERE t.last_worker_id = w.worker_id AND t.status = 'started')
  FROM pgflow.workers w
 WHERE $1 OR w.deprecated_at IS NULL
 ORDER BY w.queue_name, w.started_at, w.worker_id)";

/// The installed schema version, its queue implementation and the database's name.
inline constexpr std::string_view installation =
    "SELECT pgflow_cpp.installed_version(), pgflow_cpp.installed_queue(), current_database()";

}  // namespace pgflow::detail::queries
