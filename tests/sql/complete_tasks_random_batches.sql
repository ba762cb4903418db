-- pgflow.complete_tasks against complete_task one element at a time, over random batches: each
-- iteration starts the same one to three runs twice (two run-id prefixes), claims the same tasks in
-- both (leaving a random few queued), and completes one random batch of their tasks (duplicates,
-- queued tasks and a task that does not exist included, outputs that meet or miss conditions, size
-- maps or violate their type) three rounds in a row: one element at a time in the first prefix, in
-- one complete_tasks call in the second. The rows returned, the state (runs, steps, tasks,
-- messages, slots, run control) and each run's events must be the same after every round. The
-- flows cover every path of complete_tasks: count-downs of maps with and without conditions after
-- them, elements that end or hand on their run (also to a sleep, or with a start delay),
-- conditions that fail a run or skip toward one that does, empty maps, type violations, steps
-- without a handler, run and step limits, subflow child runs. The random choices are
-- seeded, so a failure repeats; its iteration, round and batch are printed.
\ir fixtures/realtime_stand_in.sql
\ir fixtures/batch_equivalence.sql
SELECT plan(4);

\ir fixtures/batch_flows.sql
-- Steps without a handler after a handler step (a sleep, a signal), and a step with a start delay.
SELECT pgflow.create_flow('rb_waits');
SELECT pgflow.add_step('rb_waits', 'a');
SELECT pgflow.add_step('rb_waits', 'nap', ARRAY['a']);
SELECT pgflow_cpp.set_step_kind('rb_waits', 'nap', 'sleep');
SELECT pgflow.add_step('rb_waits', 'approve', ARRAY['a']);
SELECT pgflow_cpp.set_step_kind('rb_waits', 'approve', 'signal');
SELECT pgflow.create_flow('rb_delayed');
SELECT pgflow.add_step('rb_delayed', 'a');
SELECT pgflow.add_step('rb_delayed', 'later', ARRAY['a'], start_delay => 30);
SELECT pgflow.add_step('rb_delayed', 'b', ARRAY['a']);
INSERT INTO pgflow_tests.batch_flows (flow, map_input) VALUES ('rb_waits', false), ('rb_delayed', false);
SELECT pgflow_tests.ensure_worker(f.flow) FROM pgflow_tests.batch_flows AS f;

-- Claims the queued tasks of a prefix's handler steps but those named in keep ('k step index').
CREATE FUNCTION pg_temp.claim_except(prefix text, keep text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE f text;
BEGIN
  FOR f IN SELECT DISTINCT t.flow_slug FROM pgflow.step_tasks AS t WHERE t.run_id::text LIKE prefix || '%' ORDER BY 1 LOOP
    PERFORM pgflow.start_tasks(f, ARRAY(
      SELECT t.message_id FROM pgflow.step_tasks AS t
      WHERE t.flow_slug = f AND t.run_id::text LIKE prefix || '%' AND t.status = 'queued'
        AND format('%s %s %s', pg_temp.label(t.run_id), t.step_slug, t.task_index) <> ALL (keep)
        AND NOT EXISTS (SELECT 1 FROM pgflow_cpp.step_kinds AS k WHERE k.flow_slug = f AND k.step_slug = t.step_slug)
      ORDER BY t.message_id), pgflow_tests.worker_id());
  END LOOP;
END;
$$;
CREATE TABLE pg_temp.elements (ord serial, k int, step_slug text, task_index int, output jsonb);
CREATE TABLE pg_temp.mismatches (iteration int, round int, what text, batch text, one_at_a_time text, batched text);
CREATE TABLE pg_temp.tally (elements bigint DEFAULT 0, complete_task_calls bigint DEFAULT 0, continue_calls bigint DEFAULT 0,
                            batches bigint DEFAULT 0);
INSERT INTO pg_temp.tally DEFAULT VALUES;

CREATE FUNCTION pg_temp.fuzz(iterations int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  pa text;
  pb text;
  runs int;
  flow record;
  input jsonb;
  keep text[];
  candidates text[];
  started text[];
  pick text[];
  n int;
  which int;
  rows_a text[];
  rows_b text[];
  calls_before bigint;
  cont_before bigint;
  batch_text text;
  diverged boolean;
BEGIN
  PERFORM setseed(0.4242);
  PERFORM set_config('track_functions', 'pl', true);
  FOR it IN 1 .. iterations LOOP
    pa := lpad(to_hex(it), 7, '0') || 'a';
    pb := lpad(to_hex(it), 7, '0') || 'b';
    runs := 1 + floor(random() * 4)::int;
    FOR k IN 1 .. runs LOOP
      which := 1 + floor(random() * (SELECT count(*) FROM pgflow_tests.batch_flows))::int;
      SELECT * INTO flow FROM pgflow_tests.batch_flows AS f WHERE f.n = which;
      input := CASE WHEN flow.map_input THEN to_jsonb(ARRAY(SELECT g FROM generate_series(1, 1 + floor(random() * 6)::int) AS g))
                    ELSE '{}'::jsonb END;
      PERFORM pgflow.start_flow(flow.flow, input, pg_temp.run(pa, k));
      PERFORM pgflow.start_flow(flow.flow, input, pg_temp.run(pb, k));
    END LOOP;
    -- Now and then run 2 is run 1's subflow child (a failure of run 1 cancels it).
    IF runs >= 2 AND random() < 0.2 THEN
      INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, parent_run_id)
      SELECT pg_temp.run(p, 2), r.flow_slug, pg_temp.run(p, 1)
      FROM unnest(ARRAY[pa, pb]) AS p JOIN pgflow.runs AS r ON r.run_id = pg_temp.run(p, 2)
      ON CONFLICT (run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id;
    END IF;
    diverged := false;
    FOR round IN 1 .. 3 LOOP
      EXIT WHEN diverged;
      keep := ARRAY(SELECT x.key FROM (SELECT format('%s %s %s', pg_temp.label(t.run_id), t.step_slug, t.task_index) AS key
                                       FROM pgflow.step_tasks AS t
                                       WHERE t.run_id::text LIKE pa || '%' AND t.status = 'queued'
                                       ORDER BY 1 OFFSET 0) AS x
                    WHERE random() < 0.2);
      PERFORM pg_temp.claim_except(pa, keep);
      PERFORM pg_temp.claim_except(pb, keep);
      -- The batch: a random part of the started tasks, sometimes with one of them twice, a task
      -- of any status, a queued one and one that does not exist, in random order.
      started := ARRAY(SELECT x.key FROM (SELECT format('%s %s %s', pg_temp.label(t.run_id), t.step_slug, t.task_index) AS key
                                          FROM pgflow.step_tasks AS t
                                          WHERE t.run_id::text LIKE pa || '%' AND t.status = 'started'
                                          ORDER BY 1 OFFSET 0) AS x
                       WHERE random() < 0.8);
      candidates := ARRAY(SELECT format('%s %s %s', pg_temp.label(t.run_id), t.step_slug, t.task_index)
                          FROM pgflow.step_tasks AS t WHERE t.run_id::text LIKE pa || '%'
                          ORDER BY t.run_id, t.step_slug, t.task_index);
      IF cardinality(started) > 0 AND random() < 0.25 THEN
        started := started || started[1 + floor(random() * cardinality(started))::int];
      END IF;
      IF random() < 0.25 THEN
        started := started || candidates[1 + floor(random() * cardinality(candidates))::int];
      END IF;
      IF cardinality(keep) > 0 AND random() < 0.4 THEN
        started := started || keep[1 + floor(random() * cardinality(keep))::int];
      END IF;
      IF random() < 0.1 THEN
        started := started || '1 only 7'::text;
      END IF;
      TRUNCATE pg_temp.elements;
      FOR pick IN SELECT string_to_array(x.key, ' ')
                  FROM (SELECT key, random() AS r FROM unnest(started) WITH ORDINALITY AS u(key, o) ORDER BY o OFFSET 0) AS x
                  ORDER BY x.r LOOP
        INSERT INTO pg_temp.elements (k, step_slug, task_index, output)
        VALUES (pick[1]::int, pick[2], pick[3]::int, pgflow_tests.random_output(pick[2]));
      END LOOP;
      n := (SELECT count(*) FROM pg_temp.elements);
      CONTINUE WHEN n = 0;
      SELECT string_agg(format('%s %s %s %s', e.k, e.step_slug, e.task_index, e.output), ', ' ORDER BY e.ord)
      INTO batch_text FROM pg_temp.elements AS e;

      rows_a := ARRAY(SELECT c::text FROM pg_temp.complete(pa, false) AS c);
      calls_before := coalesce((SELECT f.calls FROM pg_stat_xact_user_functions AS f WHERE f.funcname = 'complete_task'), 0);
      cont_before := coalesce((SELECT f.calls FROM pg_stat_xact_user_functions AS f WHERE f.funcname = '_continue_runs'), 0);
      rows_b := ARRAY(SELECT c::text FROM pg_temp.complete(pb, true) AS c);
      UPDATE pg_temp.tally
      SET elements = elements + n, batches = batches + 1,
          complete_task_calls = complete_task_calls
            + coalesce((SELECT f.calls FROM pg_stat_xact_user_functions AS f WHERE f.funcname = 'complete_task'), 0) - calls_before,
          continue_calls = continue_calls
            + coalesce((SELECT f.calls FROM pg_stat_xact_user_functions AS f WHERE f.funcname = '_continue_runs'), 0) - cont_before;

      IF rows_a IS DISTINCT FROM rows_b THEN
        INSERT INTO pg_temp.mismatches VALUES (it, round, 'rows', batch_text, rows_a::text, rows_b::text);
        diverged := true;
      END IF;
      IF ARRAY(SELECT s::text FROM pg_temp.state(pa) AS s) IS DISTINCT FROM ARRAY(SELECT s::text FROM pg_temp.state(pb) AS s) THEN
        INSERT INTO pg_temp.mismatches
        VALUES (it, round, 'state', batch_text,
                ARRAY(SELECT s::text FROM pg_temp.state(pa) AS s EXCEPT ALL SELECT s::text FROM pg_temp.state(pb) AS s)::text,
                ARRAY(SELECT s::text FROM pg_temp.state(pb) AS s EXCEPT ALL SELECT s::text FROM pg_temp.state(pa) AS s)::text);
        diverged := true;
      END IF;
      IF pg_temp.events(pa) IS DISTINCT FROM pg_temp.events(pb) THEN
        INSERT INTO pg_temp.mismatches VALUES (it, round, 'events', batch_text, pg_temp.events(pa)::text, pg_temp.events(pb)::text);
        diverged := true;
      END IF;
    END LOOP;
  END LOOP;
END;
$$;

SELECT pg_temp.fuzz(250);

SELECT is((SELECT count(*) FROM pg_temp.mismatches), 0::bigint,
          'every random batch left the same rows, state and events as its elements one at a time');
SELECT diag(format('iteration %s, round %s, %s differ; batch: %s%s  one at a time: %s%s  batched:       %s',
                   m.iteration, m.round, m.what, m.batch, E'\n', m.one_at_a_time, E'\n', m.batched))
FROM (SELECT * FROM pg_temp.mismatches ORDER BY iteration, round LIMIT 3) AS m;

-- The batches reached every way a run can go (in the batched prefixes).
SELECT is((SELECT array_agg(x ORDER BY x) FROM (
             SELECT DISTINCT r.status AS x FROM pgflow.runs AS r WHERE r.run_id::text LIKE '_______b%'
             UNION SELECT DISTINCT 'task ' || t.status FROM pgflow.step_tasks AS t WHERE t.run_id::text LIKE '_______b%'
             UNION SELECT DISTINCT 'step ' || s.status FROM pgflow.step_states AS s WHERE s.run_id::text LIKE '_______b%'
             UNION SELECT 'type violation' FROM pgflow.step_tasks AS t
                   WHERE t.run_id::text LIKE '_______b%' AND t.error_message LIKE '[TYPE_VIOLATION]%'
             UNION SELECT 'child cancelled' FROM pgflow_cpp.run_control AS c JOIN pgflow.runs AS r ON r.run_id = c.run_id
                   WHERE c.run_id::text LIKE '_______b%' AND c.parent_run_id IS NOT NULL AND r.status = 'failed') AS s),
          ARRAY['child cancelled', 'completed', 'failed', 'started', 'step completed', 'step created', 'step failed',
                'step skipped', 'step started', 'task cancelled', 'task completed', 'task failed', 'task queued',
                'task started', 'type violation'],
          'the batches completed, failed (a condition, a type violation, a failed parent) and skipped runs and steps');
-- The batched calls took their set-wise paths: a quarter of the elements or more without a
-- complete_task call (count-downs, elements ending or handing on their run), and runs handed on
-- by _continue_runs.
SELECT ok((SELECT complete_task_calls <= elements * 3 / 4 FROM pg_temp.tally),
          'a quarter of the batches'' elements or more were completed without a complete_task call');
SELECT ok((SELECT continue_calls > 0 FROM pg_temp.tally), 'some batches handed runs on set-wise');
SELECT diag(format('%s batches, %s elements, %s complete_task calls, %s _continue_runs calls',
                   batches, elements, complete_task_calls, continue_calls))
FROM pg_temp.tally;

SELECT * FROM finish();
