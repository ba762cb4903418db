-- Schema pgflow, as pgflow 0.8.1 (its schema files revoke everything from PUBLIC; callers are
-- granted access explicitly).
CREATE SCHEMA IF NOT EXISTS pgflow;
REVOKE ALL ON SCHEMA pgflow FROM PUBLIC;
