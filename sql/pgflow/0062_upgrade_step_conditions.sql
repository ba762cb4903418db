-- Upgrade step: pgflow 0.14's conditional steps and graceful failure (spec after-0.8.1 §1.1) for a
-- database installed before them. A fresh install already has all of it from 0040/0060; here
-- every change is guarded, so the file does nothing there.
-- steps: required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted (appended,
-- in upstream's order) and their CHECKs. step_states: skip_reason, skipped_at, status `skipped`,
-- and the constraints that now account for a skipped step.
-- Guarded by a catalog lookup, not ADD COLUMN IF NOT EXISTS alone: ALTER TABLE takes its ACCESS
-- EXCLUSIVE lock even when there is nothing to add, and a re-install while workers run would then
-- queue behind (and in front of) every running flow until the install's transaction ends.
DO $columns$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'pgflow.steps'::regclass AND attname = 'when_exhausted' AND NOT attisdropped) THEN
    ALTER TABLE pgflow.steps
      ADD COLUMN IF NOT EXISTS required_input_pattern jsonb NULL,
      ADD COLUMN IF NOT EXISTS forbidden_input_pattern jsonb NULL,
      ADD COLUMN IF NOT EXISTS when_unmet text NOT NULL DEFAULT 'skip',
      ADD COLUMN IF NOT EXISTS when_exhausted text NOT NULL DEFAULT 'fail';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'pgflow.step_states'::regclass AND attname = 'skipped_at' AND NOT attisdropped) THEN
    ALTER TABLE pgflow.step_states
      ADD COLUMN IF NOT EXISTS skip_reason text NULL,
      ADD COLUMN IF NOT EXISTS skipped_at timestamptz NULL;
  END IF;
END
$columns$;

DO $upgrade$
DECLARE
  c record;
BEGIN
  -- Added when missing; replaced when they still have 0.8.1's definition.
  FOR c IN
    SELECT * FROM (VALUES
      ('pgflow.steps', 'required_input_pattern_is_object', NULL,
       'CHECK (required_input_pattern IS NULL OR jsonb_typeof(required_input_pattern) = ''object'')'),
      ('pgflow.steps', 'forbidden_input_pattern_is_object', NULL,
       'CHECK (forbidden_input_pattern IS NULL OR jsonb_typeof(forbidden_input_pattern) = ''object'')'),
      ('pgflow.steps', 'when_unmet_is_valid', NULL,
       'CHECK (when_unmet = ANY (ARRAY[''fail''::text, ''skip''::text, ''skip-cascade''::text]))'),
      ('pgflow.steps', 'when_exhausted_is_valid', NULL,
       'CHECK (when_exhausted = ANY (ARRAY[''fail''::text, ''skip''::text, ''skip-cascade''::text]))'),
      ('pgflow.step_states', 'status_is_valid', '%''skipped''%',
       'CHECK (status = ANY (ARRAY[''created''::text, ''started''::text, ''completed''::text, ''failed''::text, ''skipped''::text]))'),
      ('pgflow.step_states', 'remaining_tasks_state_consistency', '%''skipped''%',
       'CHECK (remaining_tasks IS NULL OR status <> ALL (ARRAY[''created''::text, ''skipped''::text]))'),
      ('pgflow.step_states', 'completed_at_or_failed_at_or_skipped_at', NULL,
       'CHECK ((CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END'
       ' + CASE WHEN skipped_at IS NOT NULL THEN 1 ELSE 0 END) <= 1)'),
      ('pgflow.step_states', 'skip_reason_matches_status', NULL,
       'CHECK ((status = ''skipped''::text) = (skip_reason IS NOT NULL))'),
      ('pgflow.step_states', 'skipped_at_is_after_created_at', NULL,
       'CHECK (skipped_at IS NULL OR skipped_at >= created_at)')
    ) AS v(tbl, name, current_like, definition)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_constraint AS k
                   WHERE k.conrelid = c.tbl::regclass AND k.conname = c.name
                     AND (c.current_like IS NULL OR pg_get_constraintdef(k.oid) LIKE c.current_like)) THEN
      IF EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = c.tbl::regclass AND k.conname = c.name) THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.name);
      END IF;
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.tbl, c.name, c.definition);
    END IF;
  END LOOP;
  -- 0.8.1's two-way rule is subsumed by the three-way one (upstream drops it too).
  IF EXISTS (SELECT 1 FROM pg_constraint
             WHERE conrelid = 'pgflow.step_states'::regclass AND conname = 'completed_at_or_failed_at') THEN
    ALTER TABLE pgflow.step_states DROP CONSTRAINT completed_at_or_failed_at;
  END IF;
END
$upgrade$;

-- add_step gained four parameters: the 0.8.1 signature is dropped (0120 creates the new one, whose
-- defaults keep every 0.8.1 call, positional or named, working). Only on an older install, where
-- the old one exists; privileges are granted again by 0950.
DO $add_step$
BEGIN
  IF to_regprocedure('pgflow.add_step(text,text,text[],integer,integer,integer,integer,text)') IS NOT NULL THEN
    DROP FUNCTION pgflow.add_step(text, text, text[], integer, integer, integer, integer, text);
  END IF;
END
$add_step$;
