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
-- PL/pgSQL: a LANGUAGE sql function that pins search_path is planned on every call, and this one
-- runs for every event.
CREATE OR REPLACE FUNCTION pgflow_cpp._realtime_send_exists()
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  RETURN to_regnamespace('realtime') IS NOT NULL
         AND to_regprocedure('realtime.send(jsonb,text,text,boolean)') IS NOT NULL;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.broadcast(payload jsonb, event text, run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  topic text := 'pgflow:run:' || run_id::text;
BEGIN
  IF pgflow_cpp._realtime_send_exists() THEN
    PERFORM realtime.send(payload, event, topic, false);
  END IF;
  PERFORM pgflow_cpp.notify(topic, pgflow_cpp._notification_text(payload, event));
END;
$$;

-- pgflow_cpp._notification_text(payload, event) -> text
-- (Internal.) The NOTIFY payload of a run event: the payload's text with "event" put in front, or,
-- when that is over 7900 bytes, the payload without input, output and error_message, with
-- "trimmed": true.
CREATE OR REPLACE FUNCTION pgflow_cpp._notification_text(payload jsonb, event text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
  notification text;
BEGIN
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
  RETURN notification;
END;
$$;

-- pgflow_cpp._broadcast_many(run_ids, events, payloads) -> void
-- (Internal.) pgflow_cpp.broadcast(payloads[i], events[i], run_ids[i]) for i = 1..n in that order,
-- set-wise: the realtime.send calls in order, then the notifications, deferred in one INSERT
-- (ids in element order) or NOTIFY'd in order; the same rows and notifications as n broadcasts
-- (only the order between realtime.messages and the notifications differs, which no reader
-- sees: they are different channels). Its callers run as the schema owner (complete_tasks,
-- start_flow): the deferred rows are the owner's. A run topic always passes notify's checks (47
-- bytes) and a notification text is at most 7900 bytes, or trimmed.
CREATE OR REPLACE FUNCTION pgflow_cpp._broadcast_many(run_ids uuid[], events text[], payloads jsonb[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  first_recorded bigint;
  sent bigint;
BEGIN
  IF pgflow_cpp._realtime_send_exists() THEN
    SELECT count(*) INTO sent
    FROM (SELECT realtime.send(e.payload, e.event, 'pgflow:run:' || e.run_id::text, false)
          FROM unnest(_broadcast_many.run_ids, _broadcast_many.events, _broadcast_many.payloads)
                 WITH ORDINALITY AS e(run_id, event, payload, ord)
          ORDER BY e.ord) AS s;
  END IF;
  IF current_setting('pgflow_cpp.defer_notifications', true) = 'on' THEN
    WITH recorded AS (
      INSERT INTO pgflow_cpp.deferred_notifications (channel, payload)
      SELECT 'pgflow:run:' || e.run_id::text, pgflow_cpp._notification_text(e.payload, e.event)
      FROM unnest(_broadcast_many.run_ids, _broadcast_many.events, _broadcast_many.payloads)
             WITH ORDINALITY AS e(run_id, event, payload, ord)
      ORDER BY e.ord
      RETURNING id)
    SELECT min(r.id) INTO first_recorded FROM recorded AS r;
    -- Where this session's next publication starts (as in pgflow_cpp.notify).
    IF first_recorded IS NOT NULL AND coalesce(current_setting('pgflow_cpp.deferred_from', true), '') = '' THEN
      PERFORM set_config('pgflow_cpp.deferred_from', first_recorded::text, false);
    END IF;
  ELSE
    SELECT count(*) INTO sent
    FROM (SELECT pg_notify('pgflow:run:' || e.run_id::text, pgflow_cpp._notification_text(e.payload, e.event))
          FROM unnest(_broadcast_many.run_ids, _broadcast_many.events, _broadcast_many.payloads)
                 WITH ORDINALITY AS e(run_id, event, payload, ord)
          ORDER BY e.ord) AS s;
  END IF;
END;
$$;

-- pgflow_cpp._step_started_event(run_id, step_slug, started_at, remaining_tasks, remaining_deps) -> jsonb
-- pgflow_cpp._step_completed_event(run_id, step_slug, completed_at, output, output_trimmed) -> jsonb
-- pgflow_cpp._run_completed_event(run_id, flow_slug, output, completed_at) -> jsonb
-- pgflow_cpp._run_started_event(run) -> jsonb
-- The payloads of step:started, step:completed, run:completed and run:started as pgflow 0.8.1
-- sends them, built in one place for the functions that start and complete steps and runs one at
-- a time (start_flow, resume_run, start_ready_steps, complete_task, maybe_complete_run) and
-- set-wise (complete_tasks). output_trimmed: a map's output left out
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

CREATE OR REPLACE FUNCTION pgflow_cpp._run_started_event(run pgflow.runs)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  RETURN jsonb_build_object(
           'event_type', 'run:started',
           'run_id', run.run_id,
           'flow_slug', run.flow_slug,
           'input', run.input,
           'status', 'started',
           'remaining_steps', run.remaining_steps,
           'started_at', run.started_at
         );
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
