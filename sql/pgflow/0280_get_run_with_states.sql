-- pgflow.get_run_with_states(run_id) -> jsonb
-- {"run": <run row>, "steps": [<step_state rows>]} ("steps" is [] when there are none); NULL for
-- an unknown run. SECURITY DEFINER: browser clients call it through PostgREST.
CREATE OR REPLACE FUNCTION pgflow.get_run_with_states(run_id uuid)
RETURNS jsonb
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT jsonb_build_object(
           'run', to_jsonb(r),
           'steps', coalesce(to_jsonb(array_agg(to_jsonb(s)) FILTER (WHERE s.run_id IS NOT NULL)), '[]'::jsonb))
  FROM pgflow.runs AS r
  LEFT JOIN pgflow.step_states AS s ON s.run_id = r.run_id
  WHERE r.run_id = get_run_with_states.run_id
  GROUP BY r.run_id;
$$;
