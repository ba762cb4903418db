#pragma once
// pgflow::dashboard — a web dashboard of a pgflow database in your own program: flows and their
// graphs, runs (live), workers, queues, throughput, and /metrics for Prometheus. Read-only unless
// options::allow_actions. Needs Boost.Beast (header-only, part of Boost). docs/dashboard.md.
//
//   #include <pgflow/dashboard.hpp>
//   pgflow::dashboard::options o;                   // http://127.0.0.1:8080/
//   o.database = pgflow::connection_options{"postgresql://localhost/app"};
//   pgflow::dashboard::serve(o, stop_token);        // blocks until stop is requested

#include <pgflow/dashboard/options.hpp>
#include <pgflow/dashboard/server.hpp>
