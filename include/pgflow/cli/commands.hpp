#pragma once
// The command line's one-shot commands: install, compile, start, status, cancel, retry, resume,
// workers (`watch` is in
// <pgflow/cli/watch.hpp>). Each prints to the context's streams and returns an exit status.

#include <pgflow/cli/context.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/cli/format.hpp>
#include <pgflow/cli/waits.hpp>
#include <pgflow/client.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/install.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/runtime/queries.hpp>
#include <pgflow/runtime/registration.hpp>
#include <pgflow/runtime/run_control.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace pgflow::detail::cli {

inline int install_schema(const context& ctx, const std::string& queue) {
    auto conn = ctx.connect();
    const auto mode = queue == "builtin"     ? queue_mode::builtin
                      : queue == "extension" ? queue_mode::extension
                                             : queue_mode::automatic;
    pgflow::install_schema(conn, install_options{mode, false});
    const auto r = conn.execute(queries::installation);
    ctx.out << "pgflow schema " << cell(r, 0, 0) << " installed in database " << cell(r, 0, 2)
            << " (queue: " << (cell(r, 0, 1) == "extension" ? "the pgmq extension" : "built-in pgmq-compatible")
            << ")\n";
    return pgflow::cli::success;
}

inline int compile_flow(const context& ctx, const std::string& name) {
    const known_flow& flow = ctx.find_flow(name);
    if (const auto children_of_flow = flow.child_flows(); !children_of_flow.empty()) {
        // A comment line, so that the rest stays pgflow's compileFlow text: registering the parent
        // before its children fails half-way (set_step_kind refuses an unregistered child).
        std::string children;
        for (const auto& c : children_of_flow) children += (children.empty() ? "" : ", ") + c;
        ctx.out << "-- " << name << " runs child flows that must be registered first: " << children
                << " (pgflow compile <child> | psql " << registration_psql_options << ")\n";
    }
    ctx.out << flow.registration_sql() << '\n';
    return pgflow::cli::success;
}

// --- start ----------------------------------------------------------------------------------------

// A flow this program knows must be registered as it is declared here: a different or half-done
// registration (`compile | psql` stopped by an error, without ON_ERROR_STOP) would start runs that
// its workers refuse to run or run as something else.
inline void check_registered_shape(pq::connection& conn, const flow_shape& shape) {
    const auto registered = detail::read_registered_shape(conn, shape.slug);
    if (!registered) return;
    const auto differences = detail::shape_differences(*registered, shape);
    if (differences.empty()) return;
    std::string message = "pgflow: flow " + detail::quoted(shape.slug) +
                          " is registered in this database with a different shape than this program declares, so "
                          "no run is started. Differences:";
    for (const auto& line : differences) message += "\n  - " + line;
    throw error(message);
}

inline int start_run(const context& ctx, const std::string& flow_slug, const std::string& input_text,
                     std::optional<double> wait_seconds, std::optional<int> priority = std::nullopt) {
    const boost::json::value input = parse_input(input_text);
    const known_flow* known = ctx.known(flow_slug);
    check_input(known, flow_slug, input);
    client c{ctx.database};
    if (c.connection().execute(queries::flow_registered, flow_slug).empty()) throw ctx.not_registered(flow_slug);
    if (known != nullptr) check_registered_shape(c.connection(), known->shape);
    const auto id =
        priority ? c.start(flow_slug, input, start_options{.priority = priority}) : c.start(flow_slug, input);
    ctx.out << id.str() << std::endl;
    if (!wait_seconds) return pgflow::cli::success;
    try {
        const auto output = c.wait(id, std::chrono::milliseconds{static_cast<long long>(*wait_seconds * 1000)});
        ctx.out << boost::json::serialize(output) << '\n';
        return pgflow::cli::success;
    } catch (const run_failed_error& e) {
        ctx.err << e.what() << '\n';
        return pgflow::cli::run_failed;
    }
}

// --- status ---------------------------------------------------------------------------------------

inline void print_failed_tasks(const context& ctx, const pq::result& r, bool full) {
    table t({"failed at", "flow", "step", "task", "attempts", "run", "error"});
    for (int i = 0; i < r.rows(); ++i)
        t.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3), cell(r, i, 4), cell(r, i, 5),
               abbreviated(one_line(cell(r, i, 6)), full, 120)});
    print_or_none(ctx.out, t);
    if (!r.empty() && r.get<long long>(0, 7) > r.rows())
        ctx.out << "  … " << r.get<long long>(0, 7) - r.rows() << " more (--limit)\n";
}

inline int overview(const context& ctx, bool full, int limit) {
    auto conn = ctx.connect();
    // Every query runs before anything is printed: a failing one (no schema) prints no headers.
    const auto active = conn.execute(queries::active_runs_per_flow);
    const auto failed = conn.execute(queries::failed_tasks, limit);
    const auto times = conn.execute(queries::completion_times);
    ctx.out << "Active runs per flow\n";
    {
        table t({"flow", "running", "oldest started"});
        for (int i = 0; i < active.rows(); ++i) t.add({cell(active, i, 0), cell(active, i, 1), cell(active, i, 2)});
        print_or_none(ctx.out, t);
    }
    ctx.out << "\nFailed tasks (newest first)\n";
    print_failed_tasks(ctx, failed, full);
    ctx.out << "\nAverage completion time by flow\n";
    {
        table t({"flow", "completed runs", "avg seconds", "max seconds"});
        for (int i = 0; i < times.rows(); ++i)
            t.add({cell(times, i, 0), cell(times, i, 1), cell(times, i, 2), cell(times, i, 3)});
        print_or_none(ctx.out, t);
    }
    return pgflow::cli::success;
}

// Cancellation and lineage (pgflow-cpp's schema only; nothing on pgflow 0.8.1's).
inline std::optional<std::pair<std::string, run_lineage>> lineage_of(pq::connection& conn, const run_id& id) {
    if (!probe_capabilities(conn).run_control) return std::nullopt;
    return read_run_lineage(conn, id);
}

inline void add_lineage_facts(const run_lineage& l, table& facts) {
    if (l.restart_of) facts.add({l.restart_kind + " of", l.restart_of->str()});
    if (l.restarted_as) facts.add({"restarted as", l.restarted_as->str() + " (" + l.restarted_as_kind + ")"});
    if (l.idempotency_key) facts.add({"idempotency key", *l.idempotency_key});
}

inline int run_status(const context& ctx, const std::string& run_text, bool full) {
    const run_id id = parse_run_id(run_text);
    auto conn = ctx.connect();
    const auto run = conn.execute(queries::run_summary, id);
    if (run.empty()) throw error("pgflow: there is no run " + id.str() + " in this database");
    const auto lineage = lineage_of(conn, id);
    // A cancelled run is `failed` in pgflow.runs; run control tells them apart.
    const std::string run_state = lineage ? lineage->first : cell(run, 0, 1);
    ctx.out << "run " << id.str() << '\n';
    table facts({"flow", cell(run, 0, 0)});
    facts.add({"status", run_state});
    facts.add({"started", cell(run, 0, 5)});
    if (run_state == "started")
        facts.add({"running for", cell(run, 0, 7) + " s, " + cell(run, 0, 4) + " step(s) to go"});
    else if (run_state == "waiting")  // held back by its flow's run limits (pgflow_cpp.set_flow_limits)
        facts.add({"waiting for", cell(run, 0, 7) + " s, for a slot under the flow's run limits"});
    else
        facts.add({run_state, cell(run, 0, 6) + " (after " + cell(run, 0, 7) + " s)"});
    if (lineage) add_lineage_facts(lineage->second, facts);
    facts.add({"input", abbreviated(cell(run, 0, 2), full)});
    if (run_state == "completed") facts.add({"output", abbreviated(cell(run, 0, 3), full)});
    facts.print(ctx.out);

    ctx.out << '\n';
    table steps({"step", "type", "status", "tasks done", "attempts", "started", "finished", "error"});
    const auto r = conn.execute(queries::run_steps, id);
    for (int i = 0; i < r.rows(); ++i) {
        // A skipped step says why: condition_unmet, dependency_skipped or handler_failed.
        const std::string status = r.is_null(i, 8) ? cell(r, i, 2) : cell(r, i, 2) + " (" + cell(r, i, 8) + ")";
        steps.add({cell(r, i, 0), cell(r, i, 1), status, cell(r, i, 3), cell(r, i, 4), cell(r, i, 5), cell(r, i, 6),
                   r.is_null(i, 7) ? "" : abbreviated(one_line(cell(r, i, 7)), full, 120)});
    }
    steps.print(ctx.out);
    if (run_state == "started") print_waiting_tasks(ctx.out, waiting_tasks_of(conn, id));
    return pgflow::cli::success;
}

// --- cancel, retry, resume ----------------------------------------------------------------------

inline int cancel_run(const context& ctx, const std::string& run_text) {
    const run_id id = parse_run_id(run_text);
    client c{ctx.database};
    ctx.out << (c.cancel(id) ? "cancelled run " : "run was already cancelled: ") << id.str() << '\n';
    return pgflow::cli::success;
}

// `retry` or `resume`: prints the new run's id.
inline int restart_run(const context& ctx, const std::string& run_text, bool resume) {
    const run_id id = parse_run_id(run_text);
    client c{ctx.database};
    ctx.out << (resume ? c.resume(id) : c.retry(id)).str() << std::endl;
    return pgflow::cli::success;
}

// --- workers --------------------------------------------------------------------------------------

inline int list_workers(const context& ctx, bool all) {
    auto conn = ctx.connect();
    const auto r = conn.execute(queries::workers, all);
    if (r.empty()) {
        ctx.out << (all ? "no workers have registered in this database\n"
                        : "no running workers (--all lists stopped ones too)\n");
        return pgflow::cli::success;
    }
    table t({"worker", "flow", "function", "started", "last heartbeat", "state", "tasks running"});
    for (int i = 0; i < r.rows(); ++i)
        t.add(
            {cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3), cell(r, i, 4), cell(r, i, 5), cell(r, i, 6)});
    t.print(ctx.out, "");
    return pgflow::cli::success;
}

}  // namespace pgflow::detail::cli
