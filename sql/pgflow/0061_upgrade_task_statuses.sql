-- Upgrade step: step_tasks.valid_status admits pgflow 0.15.1's task statuses `skipped` and
-- `cancelled` (same constraint name, upstream's list and order). A database installed before
-- has the 0.8.1 list; the constraint is replaced only then (NOT VALID + VALIDATE: the old rows
-- all satisfy the wider check, and the validation takes no lock that blocks running flows).
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
