-- pgflow_cpp.broadcast(payload, event, run_id) -> void
-- Publishes one run event. When realtime.send(jsonb, text, text, boolean) exists (Supabase, or a
-- stand-in) the event goes through it exactly as pgflow 0.8.1 sends it (topic pgflow:run:<run_id>,
-- private false). It is always also NOTIFY'd (pgflow_cpp.notify: at once, or deferred when the
-- transaction asks for it) on channel pgflow:run:<run_id> with the payload plus "event"; a
-- payload too large for NOTIFY (limit 8000 bytes) drops input, output and error_message and says
-- "trimmed": true, leaving what a listener needs to re-read the row.
-- Cheap on purpose (it runs for every event): the notification is the payload's text with "event"
-- put in front, not a second jsonb value.
-- pgflow_cpp._realtime_send_exists() -> boolean
-- Whether realtime.send(jsonb, text, text, boolean) exists, i.e. events also go to Supabase's
-- realtime. The schema lookup first spares parsing the signature where there is no schema realtime.
CREATE OR REPLACE FUNCTION pgflow_cpp._realtime_send_exists()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
  SELECT to_regnamespace('realtime') IS NOT NULL
         AND to_regprocedure('realtime.send(jsonb,text,text,boolean)') IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.broadcast(payload jsonb, event text, run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  topic text := 'pgflow:run:' || run_id::text;
  notification text;
BEGIN
  IF pgflow_cpp._realtime_send_exists() THEN
    PERFORM realtime.send(payload, event, topic, false);
  END IF;

  -- A payload stored in over 256 kB cannot fit in a notification however it compresses: it is
  -- trimmed without writing it out as text first (for a run's output of 180 MB that text took
  -- seconds of the completing transaction).
  IF pg_column_size(payload) <= 262144 THEN
    notification := CASE WHEN payload = '{}' THEN jsonb_build_object('event', event)::text
                         ELSE '{"event": ' || to_json(event)::text || ', ' || substr(payload::text, 2) END;
  END IF;
  IF notification IS NULL OR octet_length(notification) > 7900 THEN
    notification := (payload - ARRAY['input', 'output', 'error_message']
                     || jsonb_build_object('event', event, 'trimmed', true))::text;
  END IF;
  PERFORM pgflow_cpp.notify(topic, notification);
END;
$$;

-- pgflow_cpp._step_started_event(run_id, step_slug, started_at, remaining_tasks, remaining_deps) -> jsonb
-- pgflow_cpp._step_completed_event(run_id, step_slug, completed_at, output, output_trimmed) -> jsonb
-- pgflow_cpp._run_completed_event(run_id, flow_slug, output, completed_at) -> jsonb
-- The payloads of step:started, step:completed and run:completed as pgflow 0.8.1 sends them, built
-- in one place for the functions that start and complete steps and runs one at a time
-- (start_flow, start_ready_steps, complete_task, maybe_complete_run) and set-wise (complete_tasks). output_trimmed: a map's output left out
-- ("trimmed": true) because no event could carry it. PL/pgSQL, whose expression is planned once
-- per session (a LANGUAGE sql function that pins search_path is planned on every call).
CREATE OR REPLACE FUNCTION pgflow_cpp._step_started_event(run_id uuid, step_slug text, started_at timestamptz,
                                                          remaining_tasks integer, remaining_deps integer)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  RETURN jsonb_build_object(
           'event_type', 'step:started',
           'run_id', _step_started_event.run_id,
           'step_slug', _step_started_event.step_slug,
           'status', 'started',
           'started_at', _step_started_event.started_at,
           'remaining_tasks', _step_started_event.remaining_tasks,
           'remaining_deps', _step_started_event.remaining_deps
         );
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp._step_completed_event(run_id uuid, step_slug text, completed_at timestamptz,
                                                            output jsonb, output_trimmed boolean)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  RETURN jsonb_build_object(
           'event_type', 'step:completed',
           'run_id', _step_completed_event.run_id,
           'step_slug', _step_completed_event.step_slug,
           'status', 'completed',
           'completed_at', _step_completed_event.completed_at
         ) || CASE WHEN _step_completed_event.output_trimmed THEN '{"trimmed": true}'::jsonb
                   ELSE jsonb_build_object('output', _step_completed_event.output) END;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp._run_completed_event(run_id uuid, flow_slug text, output jsonb,
                                                           completed_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  RETURN jsonb_build_object(
           'event_type', 'run:completed',
           'run_id', _run_completed_event.run_id,
           'flow_slug', _run_completed_event.flow_slug,
           'status', 'completed',
           'output', _run_completed_event.output,
           'completed_at', _run_completed_event.completed_at
         );
END;
$$;
