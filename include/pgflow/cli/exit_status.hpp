#pragma once
// The `pgflow` command line's exit statuses (<pgflow/cli.hpp>).

namespace pgflow::cli {

/// What pgflow::cli::main returns.
enum exit_status : int {
    success = 0,
    failure = 1,      ///< the command could not be carried out (server unreachable, unknown run, …)
    usage_error = 2,  ///< bad arguments: unknown command or flow, invalid JSON or run id, …
    run_failed = 3,   ///< `watch` / `start --wait`: the run ended in status 'failed'
};

}  // namespace pgflow::cli
