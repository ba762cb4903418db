// bench_e2e — one end-to-end measurement: W workers of one engine against one database, one flow
// shape, one window; prints a TSV row (see measurement::tsv_header) or idle-latency figures.
//
//   bench_e2e --db "dbname=ours"   --engine worker --label ours   --shape single --workers 4
//   bench_e2e --db "dbname=pgflow" --engine edge   --label pgflow --shape map100 --workers 4
//   bench_e2e --db "dbname=limit"  --engine limit  --workers 4 --batch-insert 1000
//   bench_e2e --db ... --engine edge --idle 50         (start_flow → handler entry, p50/p99)
// When the engine fails, the row carries the error's first line in its last column (its figures
// are zeros, not measurements) and the exit status is 1, or 0 with --keep-going (scripts/bench:
// one engine's error must not end a series of rows).

#include "engines.hpp"
#include "harness.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    using namespace pgflow_bench;
    CLI::App app{"pgflow-cpp end-to-end benchmark: one engine, one shape, one worker count"};
    std::string db, engine = "edge", label, shape_name = "single";
    int workers = 1, idle = 0, batch_insert = 1000;
    window_options w;
    engine_options eo;
    bool header = false, header_only = false, keep_going = false;
    std::string error_row;
    app.add_option("--db", db, "libpq connection string of the database to drive");
    app.add_option("--engine", engine, "edge (pgflow 0.8.1's edge-worker protocol), worker (pgflow::worker) or limit")
        ->check(CLI::IsMember({"edge", "worker", "limit"}));
    app.add_option("--label", label, "engine name printed in the result row (default: the engine)");
    app.add_option("--shape", shape_name, "single, chain5, diamond, map100, map1000 or an extra row's (shapes.hpp)");
    app.add_option("--workers", workers, "number of workers")->check(CLI::Range(1, 64));
    app.add_option("--warmup", w.warmup_s, "seconds run before the measured window");
    app.add_option("--seconds", w.measure_s, "length of the measured window in seconds");
    app.add_option("--idle", idle, "measure idle start→handler latency over this many runs instead");
    app.add_option("--batch-insert", batch_insert, "limit engine: jobs inserted per producer statement");
    app.add_option("--poll-interval-ms", eo.poll_interval_ms, "edge engine: pollIntervalMs of read_with_poll");
    app.add_option("--batch", eo.batch,
                   "tasks per claim of every engine, and pgflow::worker's handler threads (default: each "
                   "engine's default, 10)")
        ->check(CLI::Range(1, 999));
    app.add_option("--claim-linger-ms", eo.claim_linger_ms,
                   "worker engine: pgflow::worker's claim_linger (default: the shape's, the worker's 25 ms but 0 "
                   "for single_eager)")
        ->check(CLI::Range(0, 2000));
    app.add_flag("--header", header, "print the TSV header line first");
    app.add_flag("--print-header", header_only, "print the TSV header line and exit");
    app.add_flag("--keep-going", keep_going, "when the engine fails, print its row with the error and exit 0");
    app.add_option("--error-row", error_row,
                   "print the row of --label/--shape/--workers with this error and exit, measuring nothing "
                   "(for a caller whose bench_e2e died)");
    CLI11_PARSE(app, argc, argv);
    if (header_only) {
        std::cout << measurement::tsv_header() << '\n';
        return 0;
    }
    if (db.empty()) {
        std::cerr << "bench_e2e: --db is required (a libpq connection string, e.g. \"dbname=bench\")\n";
        return 2;
    }
    if (label.empty()) label = engine;
    // A measurement row, or its error row.
    const std::string row_shape = engine == "limit" ? "queue" : shape_name;
    auto fail = [&](const std::string& what) {
        std::cerr << "bench_e2e: " << what << '\n';
        if (idle > 0)
            std::printf("%s\tidle\terror=%s\n", label.c_str(),
                        measurement::failed(label, row_shape, workers, what).error.c_str());
        else
            std::cout << measurement::failed(label, row_shape, workers, what).tsv() << std::endl;
        return keep_going ? 0 : 1;
    };
    if (!error_row.empty()) {
        std::cout << measurement::failed(label, row_shape, workers, error_row).tsv() << std::endl;
        return 0;
    }

    try {
        if (header) std::cout << measurement::tsv_header() << '\n';
        if (engine == "limit") {
            auto m = measure_limit(db, workers, batch_insert, w, eo.batch);
            m.label = label;
            std::cout << m.tsv() << std::endl;
            return 0;
        }
        const shape s = shape_named(shape_name);
        {
            connection setup(db);
            ensure_flow(setup, s);
            reset_runs(setup, s);
        }
        counters c;
        auto group = make_group(engine, db, s, idle > 0 ? 1 : workers, c, eo);
        if (idle > 0) {
            auto ms = measure_idle(db, s, c, *group, idle);
            std::printf("%s\tidle\tsamples=%zu\tp50_ms=%.2f\tp99_ms=%.2f\tmax_ms=%.2f\n", label.c_str(), ms.size(),
                        percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0));
            return 0;
        }
        auto m = measure_flow(db, s, workers, c, *group, w);
        m.label = label;
        if (m.failed_runs > 0) return fail(std::to_string(m.failed_runs) + " runs failed during the measurement");
        std::cout << m.tsv() << std::endl;
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return 0;
}
