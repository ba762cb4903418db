// pgflow_e2e_worker: runs the worker of one flow of flows.hpp as its own process, until SIGINT or
// SIGTERM, so that the end-to-end tests can kill it, stop it, restart its server or run several.
//
//   pgflow_e2e_worker --flow e2e_slow --database <name> [--max-concurrent N] [--batch-size N]
//                     [--grace-ms N]
// The server comes from PGFLOW_DATABASE_URL or the PG* environment; --database picks the database.
// Exit status: 0 after a graceful stop, 2 for bad arguments, 1 when the worker fails.

#include "flows.hpp"
#include "wait_flows.hpp"

#include <pgflow/signals.hpp>
#include <pgflow/worker.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stop_token>
#include <string>
#include <string_view>

namespace {

int usage(const std::string& why) {
    std::cerr << "pgflow_e2e_worker: " << why
              << "\nusage: pgflow_e2e_worker --flow <slug> --database <name> [--max-concurrent N] "
                 "[--batch-size N] [--grace-ms N]\n";
    return 2;
}

template <class Flow>
int run(const pgflow::connection_options& db, const Flow& flow, pgflow::worker_options options) {
    pgflow::stop_on_signals signals;
    pgflow::worker worker{db, flow, std::move(options)};
    std::cout << "worker " << worker.id() << " running " << worker.flow_slug() << std::endl;
    // When run() returned after the stop request: what the stop tests' timings are made of.
    std::atomic<std::chrono::steady_clock::time_point> requested{};
    std::stop_callback note_request{signals.token(), [&] { requested = std::chrono::steady_clock::now(); }};
    worker.run(signals.token());
    const auto after =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - requested.load())
            .count();
    std::cout << "worker " << worker.id() << " stopped; run() returned " << after << " ms after the stop request"
              << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string flow, database;
    pgflow::worker_options options;
    options.log = [](std::string_view line) { std::cerr << line << std::endl; };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return usage("missing value after " + std::string(arg));
        const std::string value = argv[++i];
        try {
            if (arg == "--flow")
                flow = value;
            else if (arg == "--database")
                database = value;
            else if (arg == "--max-concurrent")
                options.max_concurrent = std::stoi(value);
            else if (arg == "--batch-size")
                options.batch_size = std::stoi(value);
            else if (arg == "--grace-ms")
                options.shutdown_grace = std::chrono::milliseconds{std::stoi(value)};
            else
                return usage("unknown option " + std::string(arg));
        } catch (const std::logic_error&) {
            return usage("option " + std::string(arg) + " needs a number, not \"" + value + "\"");
        }
    }
    if (flow.empty() || database.empty()) return usage("--flow and --database are required");
    const auto db = pgflow::connection_options::from_environment().with_database(database);
    namespace f = e2e::flows;
    if (flow == "e2e_slow") return run(db, f::slow, options);
    if (flow == "e2e_slow_patient") return run(db, f::slow_patient, options);
    if (flow == "e2e_fanout") return run(db, f::fanout, options);
    if (flow == "e2e_steady") return run(db, f::steady, options);
    if (flow == "e2e_chain") return run(db, f::chain, options);
    if (flow == "e2e_echo") return run(db, f::echo, options);
    if (flow == "e2e_big") return run(db, f::big, options);
    if (flow == "e2e_crash") return run(db, f::crash, options);
    if (flow == "e2e_approval") return run(db, e2e::wait_flows::approval, options);
    return usage("no flow named " + flow + " in flows.hpp");
} catch (const std::exception& e) {
    std::cerr << "pgflow_e2e_worker: " << e.what() << std::endl;
    return 1;
}
