#pragma once
// pgflow-cpp's declaration vocabulary: flows, steps, compile-time checks (JSON mappings included)
// and registration SQL. Neither libpq nor Boost.JSON (test unit.dsl_without_libpq checks both):
// headers that only declare flows include this one and stay cheap to compile. Converting JSON
// needs <pgflow/json.hpp>, dispatching tasks <pgflow/dispatch.hpp>, a handler that reads its
// task_context <pgflow/task_context.hpp> (declared here, not defined); programs that run flows
// include <pgflow/pgflow.hpp>.

#include <pgflow/checks.hpp>
#include <pgflow/error.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/limits.hpp>
#include <pgflow/options.hpp>
#include <pgflow/output.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/slug.hpp>
#include <pgflow/step.hpp>
#include <pgflow/task_context_fwd.hpp>
#include <pgflow/wait_steps.hpp>
#include <pgflow/waits.hpp>
