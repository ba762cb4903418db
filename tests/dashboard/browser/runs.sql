-- Runs in every state the schema has, recorded in browser_test.runs for the test to look up.
-- Each wave of work is a statement of its own (its own transaction, so its own now()), with a
-- pause between, so that steps take a little time as they would with a worker.
CREATE TABLE browser_test.runs (kind text PRIMARY KEY, run_id uuid NOT NULL);

-- completed, with an input over the server's 8 KiB limit (shown truncated, loaded on demand)
INSERT INTO browser_test.runs
SELECT 'completed', run_id FROM pgflow.start_flow('browser_demo',
  jsonb_build_object('url', 'https://example.com/article', 'notes', repeat('lorem ipsum ', 1000)));
SELECT browser_test.work('browser_demo'), pg_sleep(0.2);
SELECT browser_test.work('browser_demo'), pg_sleep(0.3);
SELECT browser_test.drain('browser_demo');

-- failed: summarize fails on its only attempt
INSERT INTO browser_test.runs
SELECT 'failed', run_id FROM pgflow.start_flow('browser_demo', '{"url": "https://example.com/broken"}');
SELECT browser_test.work('browser_demo', 'summarize'), pg_sleep(0.2);
SELECT browser_test.drain('browser_demo', 'summarize');

-- cancelled while its first step's task is queued
INSERT INTO browser_test.runs
SELECT 'cancelled', run_id FROM pgflow.start_flow('browser_demo', '{"url": "https://example.com/cancel-me"}');
SELECT pgflow_cpp.cancel_run((SELECT run_id FROM browser_test.runs WHERE kind = 'cancelled'));

-- started: a run of browser_slow, whose queue nobody works
INSERT INTO browser_test.runs
SELECT 'started', run_id FROM pgflow.start_flow('browser_slow',
  '{"ticket": 42, "note": "<img src=x onerror=window.__xss=1> must show as text"}');

SELECT kind, run_id FROM browser_test.runs ORDER BY kind;
