#pragma once
// pgflow::cli::main — the `pgflow` command line, for your own flows:
//
//   #include <pgflow/cli.hpp>
//   #include "my_flows.hpp"
//
//   int main(int argc, char** argv) { return pgflow::cli::main(argc, argv, orders, reports); }
//
// Commands: install, compile <flow>, start <flow> <json>, status [run_id], workers, watch <run_id>,
// schedule add|prune|list|enable|disable|remove, scheduler (`pgflow --help` describes them). The flows given to main — compiled flows (pgflow::flow<…>) and
// pgflow::dynamic_flow objects — are the ones `compile` knows and whose input `start` checks.
// The database comes from --database-url, else PGFLOW_DATABASE_URL, else the PG* variables as psql
// reads them. The commands live in <pgflow/cli/…>; their queries in <pgflow/runtime/queries.hpp>.
//
// Needs CLI11 (header-only: Debian's libcli11-dev, or find_package(CLI11)).

#include <pgflow/cli/command_line.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/cli/flows.hpp>

#include <exception>
#include <iostream>
#include <utility>
#include <vector>

namespace pgflow::cli {

/// Runs the `pgflow` command line with `flows` (compiled flows, which must outlive the call, and
/// dynamic flows) as the flows it knows. Returns the process exit status (exit_status).
template <class... Flows>
int main(int argc, const char* const* argv, const Flows&... flows) {
    try {
        std::vector<detail::cli::known_flow> known;
        (known.push_back(detail::cli::describe_flow(flows)), ...);
        detail::cli::command_line command_line{std::move(known), std::cout, std::cerr};
        return command_line.run(argc, argv);
    } catch (const std::exception& e) {  // run() reports pgflow's errors; this is what is left (bad_alloc)
        std::cerr << "pgflow: " << e.what() << '\n';
        return failure;
    }
}

}  // namespace pgflow::cli
