-- Supabase's realtime.send for a plain PostgreSQL database holding pgflow 0.8.1's own migrations
-- (as tests/sql/fixtures/realtime_stand_in.sql does for the tests): pgflow calls realtime.send for
-- every event, and on Supabase that inserts one row into realtime.messages, catching errors as
-- warnings. This stand-in does the same work, so the baseline pays what it pays in production.
-- Timestamps use clock_timestamp(), so that events of one transaction keep their order.
CREATE SCHEMA IF NOT EXISTS realtime;

CREATE TABLE IF NOT EXISTS realtime.messages (
  topic text NOT NULL,
  extension text NOT NULL,
  payload jsonb,
  event text,
  private boolean DEFAULT false,
  updated_at timestamp without time zone NOT NULL DEFAULT clock_timestamp(),
  inserted_at timestamp without time zone NOT NULL DEFAULT clock_timestamp(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  PRIMARY KEY (id, inserted_at)
);

CREATE OR REPLACE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO realtime.messages (payload, event, topic, private, extension)
  VALUES (payload, event, topic, private, 'broadcast');
EXCEPTION WHEN OTHERS THEN
  RAISE WARNING 'ErrorSendingBroadcastMessage: %', SQLERRM;
END;
$$;
