-- Proposal 0004 (speed): send the queue wake-up only when workers may be idle.
--
-- PostgreSQL (15, and up to 17) serializes the commits of all transactions that issued NOTIFY on one
-- database-wide lock, held from PreCommit_Notify to the end of commit, WAL flush included. With
-- every start_flow and every completion notifying, single-step runs at 4 workers spend 68-77 % of
-- their active backends' samples waiting on that lock ("Lock:object") and reach 145-165 tasks/s
-- where pgflow 0.8.1's SQL, which does not notify, reaches 370-390 (same machine, same run).
-- The wake-up on pgflow:queue:<flow> only matters to a worker that found the queue empty and is
-- sleeping. If messages were already waiting to be read before this call enqueued its own,
-- every worker is busy or about to claim again, and the NOTIFY wakes nobody who needs it.
-- This version notifies only when no other message of the flow was visible.
-- (The run events of pgflow_cpp.broadcast take the same lock; see README.md in this folder.)
DO $proposal$
DECLARE
  def text := pg_get_functiondef('pgflow.start_ready_steps(uuid)'::regprocedure);
  fixed text;
BEGIN
  fixed := replace(replace(def,
    $old$  wake boolean := false;$old$,
    $new$  wake boolean := false;
  others_waiting boolean;$new$),
    $old$  IF wake THEN
    PERFORM pg_notify('pgflow:queue:' || run_flow, '');$old$,
    $new$  IF wake THEN
    -- Only idle workers need the wake-up: none is idle while other runs' messages are waiting.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM pgmq.%I AS q WHERE q.vt <= clock_timestamp() '
                   'AND q.message->>''run_id'' <> $1)', pgmq.format_table_name(run_flow, 'q'))
      INTO others_waiting USING start_ready_steps.run_id::text;
    IF NOT others_waiting THEN
      PERFORM pg_notify('pgflow:queue:' || run_flow, '');
    END IF;$new$);
  IF fixed = def THEN
    RAISE WARNING 'proposal 0004 does not apply: start_ready_steps no longer ends with the queue NOTIFY';
    RETURN;
  END IF;
  EXECUTE fixed;
END
$proposal$;
