// pgflow_e2e_limits_worker: the worker of one flow of limits_flows.hpp as its own process, until
// SIGINT or SIGTERM (the flow-control tests run several, as separate hosts would).
//
//   pgflow_e2e_limits_worker --flow e2e_limited --database <name> [--max-concurrent N]
// Exit status: 0 after a graceful stop, 2 for bad arguments, 1 when the worker fails.

#include "limits_flows.hpp"

#include <pgflow/signals.hpp>
#include <pgflow/worker.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace {

int usage(const std::string& why) {
    std::cerr << "pgflow_e2e_limits_worker: " << why
              << "\nusage: pgflow_e2e_limits_worker --flow <slug> --database <name> [--max-concurrent N]\n";
    return 2;
}

template <class Flow>
int run(const pgflow::connection_options& db, const Flow& flow, pgflow::worker_options options) {
    pgflow::stop_on_signals signals;
    pgflow::worker worker{db, flow, std::move(options)};
    worker.run(signals.token());
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string flow, database;
    pgflow::worker_options options;
    if (std::getenv("PGFLOW_E2E_VERBOSE") != nullptr)
        options.log = [](std::string_view line) { std::cerr << line << std::endl; };
    else
        options.log = [](std::string_view) {};
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view arg = argv[i];
        const std::string value = argv[i + 1];
        if (arg == "--flow")
            flow = value;
        else if (arg == "--database")
            database = value;
        else if (arg == "--max-concurrent")
            options.max_concurrent = std::stoi(value);
        else
            return usage("unknown option " + std::string(arg));
    }
    if (flow.empty() || database.empty()) return usage("--flow and --database are required");
    const auto db = pgflow::connection_options::from_environment().with_database(database);
    namespace f = e2e::limits_flows;
    if (flow == "e2e_limited") return run(db, f::limited, options);
    if (flow == "e2e_per_key") return run(db, f::per_key, options);
    if (flow == "e2e_rated") return run(db, f::rated, options);
    if (flow == "e2e_prioritized") return run(db, f::prioritized, options);
    if (flow == "e2e_few_runs") return run(db, f::few_runs, options);
    return usage("no flow named " + flow + " in limits_flows.hpp");
} catch (const std::exception& e) {
    std::cerr << "pgflow_e2e_limits_worker: " << e.what() << std::endl;
    return 1;
}
