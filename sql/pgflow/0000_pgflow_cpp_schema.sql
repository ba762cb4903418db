-- Schema pgflow_cpp: this project's own bookkeeping and internal helpers, kept out of schema
-- pgflow so that pgflow holds exactly pgflow 0.8.1's seven tables.
CREATE SCHEMA IF NOT EXISTS pgflow_cpp;

-- One row per version of sql/ ever installed into this database (an install of the same version
-- again adds nothing). queue says which queue implementation that install found or created.
CREATE TABLE IF NOT EXISTS pgflow_cpp.schema_versions (
  version text PRIMARY KEY,
  installed_at timestamptz NOT NULL DEFAULT now(),
  queue text NOT NULL CHECK (queue IN ('builtin', 'extension'))
);

-- Any role that may call pgflow's functions needs the helpers; none of them is sensitive.
GRANT USAGE ON SCHEMA pgflow_cpp TO PUBLIC;
GRANT SELECT ON pgflow_cpp.schema_versions TO PUBLIC;
