#pragma once
// The worker protocol's vocabulary: every prepared statement the worker and the client send (name
// and SQL text), the notification channels, and the schema capabilities that choose between
// pgflow-cpp's schema and pgflow 0.8.1's own. No libpq here: runtime/protocol.hpp prepares these
// on a connection, runtime/acknowledgements.hpp plans with their names.

#include <string>
#include <string_view>

namespace pgflow::detail {

/// What the schema behind a connection offers beyond pgflow 0.8.1's, probed once per connection.
struct schema_capabilities {
    bool complete_tasks = false;        ///< pgflow.complete_tasks: set-wise batch completion
    bool defer_notifications = false;   ///< pgflow_cpp.publish_deferred_notifications
    bool read_and_start_tasks = false;  ///< pgflow_cpp.read_and_start_tasks: a claim in one statement
    bool fail_task_attempt = false;     ///< pgflow_cpp.fail_task_attempt: a timed-out attempt's failure
    bool run_control = false;           ///< pgflow_cpp.cancel_run and the rest of run control
    bool step_conditions = false;       ///< pgflow 0.14's conditions: pgflow.steps.required_input_pattern
    bool handlerless_steps = false;     ///< signals, sleeps and subflows: pgflow_cpp.wake_due_waits
    /// pgflow_cpp.notify notes the queues a transaction wakes (pgflow_cpp.woken_queues), which the
    /// completion statements answer: a worker can tell its own completions' wake-ups from starts.
    bool woken_queues = false;
};

/// One row of eight booleans, in schema_capabilities' order. woken_queues: the setting is named in
/// pgflow_cpp.notify's body (it is no catalog object of its own).
inline constexpr std::string_view capability_probe_sql =
    "SELECT to_regprocedure('pgflow.complete_tasks(uuid[],text[],integer[],jsonb[])') IS NOT NULL, "
    "to_regprocedure('pgflow_cpp.publish_deferred_notifications(integer)') IS NOT NULL, "
    "to_regprocedure('pgflow_cpp.read_and_start_tasks(text,integer,integer,uuid)') IS NOT NULL, "
    "to_regprocedure('pgflow_cpp.fail_task_attempt(uuid,text,integer,integer,uuid,text)') IS NOT NULL, "
    "to_regprocedure('pgflow_cpp.fail_task_permanently(uuid,text,integer,text)') IS NOT NULL, "
    "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('pgflow.steps') "
    "AND attname = 'required_input_pattern' AND NOT attisdropped), "
    "to_regprocedure('pgflow_cpp.wake_due_waits(integer)') IS NOT NULL, "
    "coalesce((SELECT position('pgflow_cpp.woken_queues' IN p.prosrc) > 0 FROM pg_proc AS p "
    "WHERE p.oid = to_regprocedure('pgflow_cpp.notify(text,text)')), false)";

/// A prepared statement: its name on the connection and its text.
struct prepared_statement {
    std::string_view name;
    std::string_view sql;
};

/// Channel the SQL core NOTIFYs when a flow's queue gets messages.
inline std::string queue_channel(std::string_view flow_slug) { return "pgflow:queue:" + std::string(flow_slug); }
/// Channel of one run's events (run:completed, run:failed, …).
inline std::string run_channel(std::string_view run_id) { return "pgflow:run:" + std::string(run_id); }

namespace statements {

// Acknowledgements. $1 run_id, $2 step_slug, $3 task_index, $4 output or error message.
// A completion statement answers, after its rows, the flows whose queues its transaction woke
// (' <flow> ... ', pgflow_cpp.notify; NULL on pgflow 0.8.1's schema): see queue_fed_by.
// tests/sql/woken_queues.sql prepares complete and complete_batch_function as they are here
// (unit.acknowledgements checks that its copies match).
inline constexpr prepared_statement complete{"pgflow_complete", R"(
SELECT count(*), current_setting('pgflow_cpp.woken_queues', true)
FROM pgflow.complete_task($1::uuid, $2, $3::int, $4::jsonb))"};
inline constexpr prepared_statement fail{"pgflow_fail",
                                         "SELECT count(*) FROM pgflow.fail_task($1::uuid, $2, $3::int, $4)"};

// A handler's permanent_error: no attempt left (needs run_control; pgflow 0.8.1 gets `fail`).
inline constexpr prepared_statement fail_permanently{
    "pgflow_fail_permanently", "SELECT count(*) FROM pgflow_cpp.fail_task_permanently($1::uuid, $2, $3::int, $4)"};

// A timed-out attempt fails only while the task is still this worker's attempt ($5 worker id, $6
// attempt): the row lock re-checks that against a concurrent claim of the reappearing message.
// pgflow-cpp's schema does it in a function the worker role may execute (it has no UPDATE on
// step_tasks there); on pgflow 0.8.1's own schema the worker locks the row.
inline constexpr prepared_statement fail_attempt_function{"pgflow_fail_attempt", R"(
SELECT pgflow_cpp.fail_task_attempt($1::uuid, $2, $3::int, $6::int, $5::uuid, $4))"};
inline constexpr prepared_statement fail_attempt_locking{"pgflow_fail_attempt", R"(
SELECT count(*)
FROM (SELECT 1 FROM pgflow.step_tasks AS t
      WHERE t.run_id = $1::uuid AND t.step_slug = $2 AND t.task_index = $3::int AND t.status = 'started'
        AND t.last_worker_id = $5::uuid AND t.attempts_count = $6::int
      FOR UPDATE) AS mine
CROSS JOIN LATERAL pgflow.fail_task($1::uuid, $2, $3::int, $4) AS f)"};

// Completions finished together are reported in one statement: one commit (WAL flush) instead of
// one per task. pgflow-cpp's schema has pgflow.complete_tasks, which completes map tasks
// set-wise; pgflow 0.8.1's own schema gets one complete_task per element. Arrays of run_id,
// step_slug, task_index, output, sorted by run so that concurrent batches lock runs in one order.
inline constexpr prepared_statement complete_batch_function{"pgflow_complete_batch", R"(
SELECT count(*), current_setting('pgflow_cpp.woken_queues', true)
FROM pgflow.complete_tasks($1::uuid[], $2::text[], $3::int[], $4::jsonb[]))"};
inline constexpr prepared_statement complete_batch_unnest{"pgflow_complete_batch", R"(
SELECT count(*), current_setting('pgflow_cpp.woken_queues', true)
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[]) AS a(run_id, step_slug, task_index, output)
CROSS JOIN LATERAL pgflow.complete_task(a.run_id, a.step_slug, a.task_index, a.output) AS t)"};

// Acknowledgements and starts defer their NOTIFYs and publish them in a second transaction of the
// same round trip: a transaction that NOTIFYs holds PostgreSQL's database-wide NOTIFY lock through
// its WAL flush, which serializes every start and completion of every worker; the publishing
// transaction writes no WAL (sql/pgflow/0065_notifications.sql).
inline constexpr prepared_statement defer_notifications{
    "pgflow_defer_notifications", "SELECT set_config('pgflow_cpp.defer_notifications', 'on', true)"};
inline constexpr prepared_statement publish_notifications{"pgflow_publish_notifications",
                                                          "SELECT pgflow_cpp.publish_deferred_notifications()"};

// Claims commit without waiting for their WAL flush (synchronous_commit off for their transaction
// only): a claim lost in a server crash is a claim never made (the message reappears, the task is
// still queued or times out as if its worker had died), and the acknowledgement that follows is
// synchronous, so it flushes the claim's WAL before it is itself durable. Both claims return the
// claim row layout of runtime/claims.hpp: run_id, step_slug, task_index, input, attempt
// (then, for the one-statement claim, the number of messages read).
//
// pgflow-cpp's schema reads and claims in one statement (one round trip and one transaction less
// per claim): its start_tasks never stamps started_at before a task's queued_at. $1 flow slug,
// $2 visibility timeout, $3 quantity, $4 worker id.
inline constexpr prepared_statement claim{"pgflow_claim", R"(
SELECT c.run_id, c.step_slug, c.task_index, c.input::text, c.attempt, c.messages
FROM set_config('synchronous_commit', 'off', true) AS sc,
     pgflow_cpp.read_and_start_tasks($1, $2::int, $3::int, $4::uuid) AS c)"};
// On pgflow 0.8.1's schema reading and claiming are separate transactions on purpose: its
// start_tasks stamps started_at with now(), the transaction's start, which must not precede the
// queued_at of the messages it claims (constraint started_at_is_after_queued_at). A read inside
// the claiming statement could see messages committed after it began. $1 flow slug, $2 vt, $3 qty.
inline constexpr prepared_statement read{"pgflow_read", R"(
SELECT m.msg_id
FROM set_config('synchronous_commit', 'off', true) AS sc, pgmq.read($1, $2::int, $3::int) AS m)"};
// start_tasks runs inside the statement, whose own snapshot still sees attempts_count from before
// the claim: hence the + 1. $1 flow slug, $2 message ids, $3 worker id.
inline constexpr prepared_statement start_tasks{"pgflow_start_tasks", R"(
SELECT t.run_id, t.step_slug, t.task_index, t.input::text, st.attempts_count + 1
FROM set_config('synchronous_commit', 'off', true) AS sc
CROSS JOIN pgflow.start_tasks($1, $2::bigint[], $3::uuid) AS t
JOIN pgflow.step_tasks AS st
  ON st.run_id = t.run_id AND st.step_slug = t.step_slug AND st.task_index = t.task_index)"};

// A sleep step's deadline function returned `until` ($4, ISO 8601): the task gives back its
// message and waits without a worker until then (pgflow_cpp.sleep_task).
inline constexpr prepared_statement sleep_task{"pgflow_sleep_task",
                                               "SELECT pgflow_cpp.sleep_task($1::uuid, $2, $3::int, $4::timestamptz)"};

// Steps without handlers (signals, sleeps, subflows) progress when some worker, of any flow, calls
// these: the first handles up to $1 due waits (sleeps ending, signal timeouts, delayed subflow
// retries) and answers how many; the second, a statement of its own so that its snapshot sees what
// the first did, answers in how many milliseconds the next wait is due (null: none pending).
inline constexpr prepared_statement wake_due_waits{"pgflow_wake_due_waits",
                                                   "SELECT pgflow_cpp.wake_due_waits($1::int)"};
inline constexpr prepared_statement next_wake{
    "pgflow_next_wake", "SELECT (extract(epoch FROM pgflow_cpp.next_wake_at() - clock_timestamp()) * 1000)::bigint"};

// $1 worker id, $2 queue name, $3 function name; answers whether the worker is deprecated.
inline constexpr prepared_statement heartbeat{"pgflow_heartbeat", R"(
INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES ($1::uuid, $2, $3)
ON CONFLICT (worker_id) DO UPDATE SET last_heartbeat_at = clock_timestamp()
RETURNING deprecated_at IS NOT NULL)"};
/// Milliseconds until the queue's next message becomes visible, if one does within $1 ms (the
/// worker's max_poll: it sleeps no longer anyway); prefix, queue table name, suffix. Only the vt
/// index's entries from a second ago to $1 ms ahead are read: a message visible for longer is
/// one a concurrent claim holds. An unbounded min(vt) walked every index entry a snapshot held
/// open keeps (each message's first vt and its claimed vt stay, dead, until vacuum): 1.4 ms per
/// query within 12 s of a snapshot at 650 runs/s. statement_timestamp(), not clock_timestamp(): only a
/// stable bound is an index condition. ORDER BY … LIMIT 1 lets the plan stop at the window's first
/// index entry; a generic plan made while the window looked empty may instead sort the window's
/// rows, which are few: the question is asked only after a claim that drained the queue.
inline constexpr std::string_view next_visible_name = "pgflow_next_visible";
inline constexpr std::string_view next_visible_sql_prefix = "SELECT (extract(epoch FROM (SELECT q.vt FROM pgmq.";
inline constexpr std::string_view next_visible_sql_suffix =
    " AS q WHERE q.vt > statement_timestamp() - interval '1 second'"
    " AND q.vt <= statement_timestamp() + $1::bigint * interval '1 millisecond' ORDER BY q.vt LIMIT 1)"
    " - clock_timestamp()) * 1000)::bigint";

// The client's start of a run: $1 flow slug, $2 input, $3 run id.
inline constexpr prepared_statement start_flow{"pgflow_client_start",
                                               "SELECT 1 FROM pgflow.start_flow($1, $2::jsonb, $3::uuid)"};

// Runs among those of the running handlers ($1) that ended (cancelled, or failed elsewhere): their
// handlers' stop tokens are requested. Plain SELECT on pgflow.runs, so it works on any schema.
inline constexpr prepared_statement ended_runs{
    "pgflow_ended_runs", "SELECT run_id::text FROM pgflow.runs WHERE run_id = ANY($1::uuid[]) AND status <> 'started'"};

// Plain statements of the worker's set-up and stop.
inline constexpr std::string_view step_timeouts = R"(
SELECT s.step_slug, coalesce(s.opt_timeout, f.opt_timeout)
FROM pgflow.steps AS s JOIN pgflow.flows AS f ON f.flow_slug = s.flow_slug
WHERE s.flow_slug = $1)";
inline constexpr std::string_view queue_table = "SELECT pgmq.format_table_name($1, 'q')";
inline constexpr std::string_view deprecate_worker =
    "UPDATE pgflow.workers SET deprecated_at = now() WHERE worker_id = $1::uuid AND deprecated_at IS NULL";

}  // namespace statements

/// The statements this schema needs, chosen by its capabilities.
inline prepared_statement fail_attempt_statement(const schema_capabilities& c) {
    return c.fail_task_attempt ? statements::fail_attempt_function : statements::fail_attempt_locking;
}
inline prepared_statement complete_batch_statement(const schema_capabilities& c) {
    return c.complete_tasks ? statements::complete_batch_function : statements::complete_batch_unnest;
}

}  // namespace pgflow::detail
