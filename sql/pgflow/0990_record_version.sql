-- Records this version of sql/: the project's VERSION, written here by cmake/EmbedSql.cmake.
-- Installing the same version again leaves the existing row alone.
INSERT INTO pgflow_cpp.schema_versions (version, queue)
VALUES ('0.1.0', pgflow_cpp.installed_queue())
ON CONFLICT (version) DO NOTHING;
