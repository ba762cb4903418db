#pragma once
// The dashboard's SQL, written once: each statement builds its JSON answer in PostgreSQL
// (timestamps as PostgreSQL prints them, JSON values as they are stored) and takes every value as
// a parameter. Each is backed by an index (sql/pgflow/0066_dashboard_indexes.sql for the run
// lists and the throughput; primary keys for the rest). docs/dashboard.md lists the routes.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow::dashboard::detail::sql {

/// Values larger than this (serialized) are replaced by a stub pointing at the value route.
inline constexpr int truncate_bytes = 8 * 1024;
/// A map step's task list shows at most this many tasks (with tasks_total).
inline constexpr int max_tasks_listed = 200;

/// `value` (a jsonb expression), or the stub `{"$truncated": true, "bytes": n, "href": …}` when it
/// is larger than truncate_bytes; `of` is an SQL text expression naming the value for the route.
inline std::string truncated(std::string_view value, std::string_view of) {
    const std::string v(value), size = "octet_length((" + std::string(value) + ")::text)";
    return "CASE WHEN " + size + " > " + std::to_string(truncate_bytes) +
           " THEN jsonb_build_object('$truncated', true, 'bytes', " + size +
           ", 'href', '/api/runs/' || r.run_id || '/value?of=' || " + std::string(of) + ") ELSE " + v + " END";
}

/// Run counts stop at this many: counting is linear in the rows counted, and a million runs would
/// take a second on a busy server. A count equal to it means "at least"; the answers say so with
/// "capped_at". Every count reads an index only (idx_runs_status, the flow index).
inline constexpr int count_cap = 10000;

/// Runs of status `status` meeting `condition` (SQL over `r`), counted up to count_cap.
inline std::string capped_count(std::string_view status, std::string_view condition) {
    return "(SELECT count(*) FROM (SELECT 1 FROM pgflow.runs AS r WHERE r.status = '" + std::string(status) + "'" +
           std::string(condition) + " LIMIT " + std::to_string(count_cap) + ") AS c)";
}

/// The `runs` object of a flow or of the overview: capped counts by status.
inline std::string run_counts(std::string_view condition) {
    return "json_build_object('started', " + capped_count("started", condition) + ", 'completed', " +
           capped_count("completed", condition) + ", 'failed', " + capped_count("failed", condition) +
           ", 'capped_at', " + std::to_string(count_cap) + ")";
}

inline std::string overview() {
    return "SELECT json_build_object('flows', (SELECT count(*) FROM pgflow.flows), 'runs', " + run_counts("") +
           ", 'workers_alive', (SELECT count(*) FROM pgflow.workers WHERE deprecated_at IS NULL "
           "AND last_heartbeat_at > clock_timestamp() - interval '15 seconds'), 'actions_allowed', $1::boolean)::text";
}

// One flow `f` as JSON: options, steps (dependencies, options, condition when the schema has
// pgflow 0.14's condition columns) and run counts by status.
inline constexpr std::string_view flow_object_start = R"(json_build_object(
  'flow_slug', f.flow_slug,
  'options', json_build_object('max_attempts', f.opt_max_attempts, 'base_delay', f.opt_base_delay,
                               'timeout', f.opt_timeout),
  'steps', coalesce((
    SELECT json_agg(json_build_object(
      'step_slug', s.step_slug, 'step_type', s.step_type, 'step_index', s.step_index,
      'dependencies', coalesce((SELECT json_agg(d.dep_slug ORDER BY d.dep_slug) FROM pgflow.deps AS d
                                WHERE d.flow_slug = s.flow_slug AND d.step_slug = s.step_slug), '[]'),
      'options', json_build_object('max_attempts', s.opt_max_attempts, 'base_delay', s.opt_base_delay,
                                   'timeout', s.opt_timeout, 'start_delay', s.opt_start_delay),
      'condition', CASE WHEN to_jsonb(s) ? 'required_input_pattern' THEN jsonb_build_object(
        'required_input_pattern', to_jsonb(s) -> 'required_input_pattern',
        'forbidden_input_pattern', to_jsonb(s) -> 'forbidden_input_pattern',
        'when_unmet', to_jsonb(s) -> 'when_unmet', 'when_exhausted', to_jsonb(s) -> 'when_exhausted') END)
      ORDER BY s.step_index)
    FROM pgflow.steps AS s WHERE s.flow_slug = f.flow_slug), '[]'),
  'runs', )";

inline std::string flow_object() {
    return std::string(flow_object_start) + run_counts(" AND r.flow_slug = f.flow_slug") + ")";
}

inline std::string flows() {
    return "SELECT json_build_object('flows', coalesce(json_agg(" + flow_object() +
           " ORDER BY f.flow_slug), '[]'))::text FROM pgflow.flows AS f";
}

/// $1 flow slug; no row for an unknown flow.
inline std::string flow() { return "SELECT " + flow_object() + "::text FROM pgflow.flows AS f WHERE f.flow_slug = $1"; }

/// The run list's select list: one JSON object per run, its keyset cursor (started_at in
/// microseconds since the epoch, and the run id), and the sort key. The caller appends WHERE,
/// ORDER BY and LIMIT.
inline constexpr std::string_view runs_select = R"(
SELECT json_build_object('run_id', r.run_id, 'flow_slug', r.flow_slug, 'status', r.status,
                         'started_at', r.started_at, 'completed_at', r.completed_at, 'failed_at', r.failed_at,
                         'remaining_steps', r.remaining_steps)::text AS run,
       (extract(epoch FROM r.started_at) * 1000000)::bigint::text || '_' || r.run_id::text AS cursor,
       r.started_at, r.run_id
FROM pgflow.runs AS r)";

/// A page of the run list: the runs meeting `conditions` (SQL over `r`, values as parameters),
/// newest first, at most `limit` (a parameter) of them. One flow's runs of any status are read
/// status by status from idx_runs_flow_slug_status_started_at, each newest first, and merged:
/// PostgreSQL 15 cannot skip over the index's status column itself.
inline std::string runs_page(const std::vector<std::string>& conditions, bool flow_of_any_status,
                             const std::string& limit) {
    auto page = [&](std::string_view status) {
        std::string statement(runs_select);
        std::vector<std::string> all = conditions;
        if (!status.empty()) all.push_back("r.status = '" + std::string(status) + "'");
        for (std::size_t i = 0; i < all.size(); ++i) statement += (i == 0 ? " WHERE " : " AND ") + all[i];
        return statement + " ORDER BY r.started_at DESC, r.run_id DESC LIMIT " + limit + "::int";
    };
    if (!flow_of_any_status) return page({});
    return "SELECT * FROM ((" + page("started") + ") UNION ALL (" + page("completed") + ") UNION ALL (" +
           page("failed") + ")) AS p ORDER BY p.started_at DESC, p.run_id DESC LIMIT " + limit + "::int";
}

/// Keyset condition on the cursor: $a microseconds since the epoch, $b run id.
inline std::string before_cursor(int micros_parameter, int run_parameter) {
    return "(r.started_at, r.run_id) < (timestamptz 'epoch' + $" + std::to_string(micros_parameter) +
           "::bigint * interval '1 microsecond', $" + std::to_string(run_parameter) + "::uuid)";
}

/// $1 run id. One row: the run object; `cancelled` adds pgflow-cpp's cancelled_at (run control).
inline std::string run(bool cancelled) {
    return "SELECT (jsonb_build_object('run_id', r.run_id, 'flow_slug', r.flow_slug, 'status', r.status, "
           "'started_at', r.started_at, 'completed_at', r.completed_at, 'failed_at', r.failed_at, "
           "'remaining_steps', r.remaining_steps, 'input', " +
           truncated("r.input", "'input'") + ", 'output', " + truncated("r.output", "'output'") + ")" +
           (cancelled ? " || jsonb_build_object('cancelled_at', rc.cancelled_at)" : "") +
           ")::text FROM pgflow.runs AS r" +
           (cancelled ? " LEFT JOIN pgflow_cpp.run_control AS rc ON rc.run_id = r.run_id" : "") +
           " WHERE r.run_id = $1::uuid";
}

/// $1 run id. One row: the JSON array of the run's steps in step order, each with its state
/// (skipped_at / skip_reason when the schema has them) and its first max_tasks_listed tasks.
inline std::string run_steps() {
    const std::string task_output = truncated("t.output", "'task:' || t.step_slug || ':' || t.task_index");
    return R"(
SELECT coalesce(json_agg(jsonb_build_object(
  'step_slug', s.step_slug, 'step_type', s.step_type, 'step_index', s.step_index,
  'dependencies', coalesce((SELECT jsonb_agg(d.dep_slug ORDER BY d.dep_slug) FROM pgflow.deps AS d
                            WHERE d.flow_slug = s.flow_slug AND d.step_slug = s.step_slug), '[]'),
  'status', coalesce(ss.status, 'created'), 'started_at', ss.started_at, 'completed_at', ss.completed_at,
  'failed_at', ss.failed_at, 'skipped_at', to_jsonb(ss) -> 'skipped_at', 'skip_reason', to_jsonb(ss) -> 'skip_reason',
  'error_message', ss.error_message, 'remaining_tasks', ss.remaining_tasks, 'initial_tasks', ss.initial_tasks,
  'tasks', coalesce((
    SELECT jsonb_agg(jsonb_build_object(
      'task_index', t.task_index, 'status', t.status, 'attempts_count', t.attempts_count,
      'error_message', t.error_message, 'queued_at', t.queued_at, 'started_at', t.started_at,
      'completed_at', t.completed_at, 'failed_at', t.failed_at, 'output', )" +
           task_output + R"() ORDER BY t.task_index)
    FROM (SELECT * FROM pgflow.step_tasks AS t0
          WHERE t0.run_id = r.run_id AND t0.step_slug = s.step_slug
          ORDER BY t0.task_index LIMIT )" +
           std::to_string(max_tasks_listed) + R"() AS t), '[]'))
  || CASE WHEN s.step_type = 'map' THEN jsonb_build_object('tasks_total',
       (SELECT count(*) FROM pgflow.step_tasks AS t1 WHERE t1.run_id = r.run_id AND t1.step_slug = s.step_slug))
     ELSE '{}' END
  ORDER BY s.step_index), '[]')::text
FROM pgflow.runs AS r
JOIN pgflow.steps AS s ON s.flow_slug = r.flow_slug
LEFT JOIN pgflow.step_states AS ss ON ss.run_id = r.run_id AND ss.step_slug = s.step_slug
WHERE r.run_id = $1::uuid)";
}

/// $1 run id: the run's input / output as text (no row: unknown run).
inline constexpr std::string_view run_input = "SELECT input::text FROM pgflow.runs WHERE run_id = $1::uuid";
inline constexpr std::string_view run_output = "SELECT output::text FROM pgflow.runs WHERE run_id = $1::uuid";
/// $1 run id, $2 step slug, $3 task index: the task's output (no row: unknown task).
inline constexpr std::string_view task_output = R"(
SELECT output::text FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = $2 AND task_index = $3::int)";

/// The most recently heard-from workers (alive: not stopped and a heartbeat in the last 15 s,
/// three missed 5 s beats, as `pgflow workers` says) with the tasks each is running.
inline constexpr std::string_view workers = R"(
SELECT json_build_object('workers', coalesce(json_agg(json_build_object(
  'worker_id', w.worker_id, 'queue_name', w.queue_name, 'function_name', w.function_name,
  'started_at', w.started_at, 'last_heartbeat_at', w.last_heartbeat_at, 'stopped_at', w.deprecated_at,
  'alive', w.deprecated_at IS NULL AND w.last_heartbeat_at > clock_timestamp() - interval '15 seconds',
  'tasks_running', (SELECT count(*) FROM pgflow.step_tasks AS t
                    WHERE t.last_worker_id = w.worker_id AND t.status = 'started'))
  ORDER BY w.last_heartbeat_at DESC), '[]'))::text
FROM (SELECT * FROM pgflow.workers ORDER BY last_heartbeat_at DESC LIMIT 200) AS w)";

inline constexpr std::string_view queues = R"(
SELECT json_build_object('queues', coalesce(json_agg(json_build_object(
  'queue_name', m.queue_name, 'depth', m.queue_length, 'oldest_message_age_seconds', m.oldest_msg_age_sec)
  ORDER BY m.queue_name), '[]'))::text
FROM pgmq.metrics_all() AS m)";

/// $1 minutes: tasks completed and failed per minute, oldest first, the current minute last.
inline constexpr std::string_view throughput = R"(
WITH span AS (SELECT date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute' AS first_minute),
done AS (
  SELECT date_trunc('minute', coalesce(t.completed_at, t.failed_at)) AS minute,
         count(*) FILTER (WHERE t.status = 'completed') AS completed,
         count(*) FILTER (WHERE t.status = 'failed') AS failed
  FROM pgflow.step_tasks AS t, span
  WHERE t.status IN ('completed', 'failed') AND coalesce(t.completed_at, t.failed_at) >= span.first_minute
  GROUP BY 1)
SELECT json_build_object('minutes', json_agg(json_build_object(
  'minute', m.minute, 'completed', coalesce(done.completed, 0), 'failed', coalesce(done.failed, 0))
  ORDER BY m.minute))::text
FROM span, generate_series(span.first_minute, date_trunc('minute', now()), interval '1 minute') AS m(minute)
LEFT JOIN done ON done.minute = m.minute)";

/// Whether the schema has pgflow-cpp's run control (cancel, retry, resume, run_control).
inline constexpr std::string_view has_run_control = "SELECT to_regprocedure('pgflow_cpp.cancel_run(uuid)') IS NOT NULL";

/// $1 timestamp text: checks that it reads as a timestamptz (a data exception otherwise).
inline constexpr std::string_view check_timestamp = "SELECT $1::timestamptz";

}  // namespace pgflow::dashboard::detail::sql
