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

-- Like schema pgflow, usable only by the roles granted USAGE (README, "Least-privilege roles");
-- earlier installs granted it to PUBLIC. The version record is no secret: any role granted USAGE
-- on the schema may read it.
REVOKE ALL ON SCHEMA pgflow_cpp FROM PUBLIC;
GRANT SELECT ON pgflow_cpp.schema_versions TO PUBLIC;
