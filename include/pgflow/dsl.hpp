#pragma once
// pgflow-cpp: durable DAG workflows on PostgreSQL, compatible with pgflow 0.8.1.
// The umbrella header: every public header, nothing else.

#include <pgflow/checks.hpp>
#include <pgflow/dispatch.hpp>
#include <pgflow/error.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/options.hpp>
#include <pgflow/output.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/slug.hpp>
#include <pgflow/step.hpp>
#include <pgflow/task_context.hpp>
