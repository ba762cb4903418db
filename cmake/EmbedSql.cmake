# Placeholder until sql/install.sql exists: generates an empty embedded-SQL header.
set(PGFLOW_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
include(GNUInstallDirs)
