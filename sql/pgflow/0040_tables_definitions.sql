-- Flow definitions: flows, steps, deps. Columns in the order of a database migrated to pgflow
-- 0.8.1 (opt_start_delay last of 0.8.1's columns in steps), then pgflow 0.14's condition columns
-- (appended, as 0062_upgrade_step_conditions.sql adds them to older installs); constraint and
-- index names as pgflow's, because callers see them in error messages.
CREATE TABLE IF NOT EXISTS pgflow.flows (
  flow_slug text NOT NULL,
  opt_max_attempts integer NOT NULL DEFAULT 3,
  opt_base_delay integer NOT NULL DEFAULT 1,
  opt_timeout integer NOT NULL DEFAULT 60,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT flows_pkey PRIMARY KEY (flow_slug),
  CONSTRAINT opt_base_delay_is_nonnegative CHECK (opt_base_delay >= 0),
  CONSTRAINT opt_max_attempts_is_nonnegative CHECK (opt_max_attempts >= 0),
  CONSTRAINT opt_timeout_is_positive CHECK (opt_timeout > 0),
  CONSTRAINT slug_is_valid CHECK (pgflow.is_valid_slug(flow_slug))
);

CREATE TABLE IF NOT EXISTS pgflow.steps (
  flow_slug text NOT NULL,
  step_slug text NOT NULL,
  step_type text NOT NULL DEFAULT 'single',
  step_index integer NOT NULL DEFAULT 0,
  deps_count integer NOT NULL DEFAULT 0,
  opt_max_attempts integer NULL,
  opt_base_delay integer NULL,
  opt_timeout integer NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  opt_start_delay integer NULL,
  required_input_pattern jsonb NULL,
  forbidden_input_pattern jsonb NULL,
  when_unmet text NOT NULL DEFAULT 'skip',
  when_exhausted text NOT NULL DEFAULT 'fail',
  CONSTRAINT steps_pkey PRIMARY KEY (flow_slug, step_slug),
  CONSTRAINT steps_flow_slug_step_index_key UNIQUE (flow_slug, step_index),
  CONSTRAINT steps_flow_slug_fkey FOREIGN KEY (flow_slug) REFERENCES pgflow.flows (flow_slug),
  CONSTRAINT opt_base_delay_is_nonnegative CHECK (opt_base_delay IS NULL OR opt_base_delay >= 0),
  CONSTRAINT opt_max_attempts_is_nonnegative CHECK (opt_max_attempts IS NULL OR opt_max_attempts >= 0),
  CONSTRAINT opt_timeout_is_positive CHECK (opt_timeout IS NULL OR opt_timeout > 0),
  CONSTRAINT opt_start_delay_is_nonnegative CHECK (opt_start_delay IS NULL OR opt_start_delay >= 0),
  CONSTRAINT steps_deps_count_check CHECK (deps_count >= 0),
  CONSTRAINT steps_step_slug_check CHECK (pgflow.is_valid_slug(step_slug)),
  CONSTRAINT steps_step_type_check CHECK (step_type = ANY (ARRAY['single'::text, 'map'::text])),
  CONSTRAINT required_input_pattern_is_object CHECK (required_input_pattern IS NULL OR jsonb_typeof(required_input_pattern) = 'object'),
  CONSTRAINT forbidden_input_pattern_is_object CHECK (forbidden_input_pattern IS NULL OR jsonb_typeof(forbidden_input_pattern) = 'object'),
  CONSTRAINT when_unmet_is_valid CHECK (when_unmet = ANY (ARRAY['fail'::text, 'skip'::text, 'skip-cascade'::text])),
  CONSTRAINT when_exhausted_is_valid CHECK (when_exhausted = ANY (ARRAY['fail'::text, 'skip'::text, 'skip-cascade'::text]))
);

CREATE TABLE IF NOT EXISTS pgflow.deps (
  flow_slug text NOT NULL,
  dep_slug text NOT NULL,
  step_slug text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT deps_pkey PRIMARY KEY (flow_slug, dep_slug, step_slug),
  CONSTRAINT deps_flow_slug_dep_slug_fkey FOREIGN KEY (flow_slug, dep_slug) REFERENCES pgflow.steps (flow_slug, step_slug),
  CONSTRAINT deps_flow_slug_fkey FOREIGN KEY (flow_slug) REFERENCES pgflow.flows (flow_slug),
  CONSTRAINT deps_flow_slug_step_slug_fkey FOREIGN KEY (flow_slug, step_slug) REFERENCES pgflow.steps (flow_slug, step_slug),
  CONSTRAINT deps_check CHECK (dep_slug <> step_slug)
);
-- Each index only when missing: CREATE INDEX IF NOT EXISTS would take a SHARE lock on the
-- table even when the index exists, and hold it to the end of the install's transaction, where
-- it deadlocks with running flows (a re-install while workers run).
DO $indexes$
BEGIN
  IF to_regclass('pgflow.idx_deps_by_flow_dep') IS NULL THEN
    CREATE INDEX idx_deps_by_flow_dep ON pgflow.deps (flow_slug, dep_slug);
  END IF;
  IF to_regclass('pgflow.idx_deps_by_flow_step') IS NULL THEN
    CREATE INDEX idx_deps_by_flow_step ON pgflow.deps (flow_slug, step_slug);
  END IF;
END
$indexes$;

-- (Addition.) A timeout must leave room for the 2 s start_tasks adds to it (timeout + 2 is a
-- message's visibility in seconds, an integer): pgflow 0.8.1 accepts up to 2147483647, after which
-- every claim fails with "integer out of range". Added to earlier installs, whose out-of-range
-- timeouts (never able to run a task) are lowered to the bound first.
DO $timeout_bound$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'pgflow.flows'::regclass AND conname = 'opt_timeout_fits_vt') THEN
    UPDATE pgflow.flows SET opt_timeout = 2147483645 WHERE opt_timeout > 2147483645;
    ALTER TABLE pgflow.flows ADD CONSTRAINT opt_timeout_fits_vt CHECK (opt_timeout <= 2147483645);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'pgflow.steps'::regclass AND conname = 'opt_timeout_fits_vt') THEN
    UPDATE pgflow.steps SET opt_timeout = 2147483645 WHERE opt_timeout > 2147483645;
    ALTER TABLE pgflow.steps ADD CONSTRAINT opt_timeout_fits_vt
      CHECK (opt_timeout IS NULL OR opt_timeout <= 2147483645);
  END IF;
END
$timeout_bound$;
