#pragma once
// pgflow-cpp: durable DAG workflows on PostgreSQL, compatible with pgflow 0.8.1.
// The umbrella header: every public header, nothing else. Translation units that only declare
// flows can include <pgflow/dsl.hpp> instead (no libpq, no Boost.JSON: under a second), and
// <pgflow/dispatch.hpp> where they dispatch tasks or <pgflow/json.hpp> where they convert JSON.
// <pgflow/cli.hpp> (pgflow::cli::main, needs CLI11) is not included: it is for a program's main().

#include <pgflow/dsl.hpp>

#include <pgflow/client.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/dispatch.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/install.hpp>
#include <pgflow/json.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/schedules.hpp>
#include <pgflow/signals.hpp>
#include <pgflow/worker.hpp>
