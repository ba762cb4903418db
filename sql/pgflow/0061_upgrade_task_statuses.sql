-- Upgrade step: step_tasks.valid_status admits pgflow 0.15.1's task statuses `skipped` and
-- `cancelled` (same constraint name, upstream's list and order). A database installed before
-- has the 0.8.1 list; the constraint is replaced only then. The install is one transaction, so
-- step_tasks stays locked (ACCESS EXCLUSIVE) until it commits: the validation scans a table that
-- running flows wait for; the old rows all satisfy the wider check.
DO $upgrade$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                 WHERE c.conrelid = 'pgflow.step_tasks'::regclass AND c.conname = 'valid_status'
                   AND pg_get_constraintdef(c.oid) LIKE '%''cancelled''%') THEN
    ALTER TABLE pgflow.step_tasks DROP CONSTRAINT IF EXISTS valid_status;
    ALTER TABLE pgflow.step_tasks ADD CONSTRAINT valid_status CHECK (status = ANY (ARRAY['queued'::text,
      'started'::text, 'completed'::text, 'failed'::text, 'skipped'::text, 'cancelled'::text])) NOT VALID;
    ALTER TABLE pgflow.step_tasks VALIDATE CONSTRAINT valid_status;
  END IF;
END
$upgrade$;

-- pgflow 0.15.1's repair of older data: tasks still queued or started on a failed run become
-- 'cancelled' and their messages are archived, as pgflow_cpp.cancel_active_tasks (0410, not yet
-- defined here) does for runs that fail from now on. A fresh install has no rows to repair.
DO $repair$
DECLARE
  f record;
BEGIN
  FOR f IN
    WITH cancelled AS (
      UPDATE pgflow.step_tasks AS t SET status = 'cancelled'
      FROM pgflow.runs AS r
      WHERE r.run_id = t.run_id AND r.status = 'failed' AND t.status IN ('queued', 'started')
      RETURNING t.flow_slug, t.message_id)
    SELECT c.flow_slug, array_agg(c.message_id) AS messages
    FROM cancelled AS c WHERE c.message_id IS NOT NULL GROUP BY c.flow_slug
  LOOP
    PERFORM pgmq.archive(f.flow_slug, f.messages);
  END LOOP;
END
$repair$;
