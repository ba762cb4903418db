#pragma once
// Run control on a connection, for pgflow::client and the CLI: cancel, retry, resume, idempotent
// starts and a run's lineage, through pgflow_cpp's functions (sql/pgflow/04xx_*.sql). A database
// installed from pgflow 0.8.1's migrations has none of them: each call then fails at once, before
// sending anything, with an error naming the capability it lacks.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/sqlstate.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/runtime/statements.hpp>
#include <pgflow/runtime/time.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow {

/// How client::start starts a run.
struct start_options {
    /// Starts at most one run per (flow, key): a later start with the key, also a concurrent one,
    /// returns that run's id and starts nothing (pgflow_cpp.start_flow_idempotent).
    std::optional<std::string> idempotency_key{};
    /// The new run's id (chosen by the client when unset).
    std::optional<pgflow::run_id> run_id{};
    /// Tasks of runs with a higher priority are claimed first (default 0; waiting raises it, see
    /// docs/flow_control.md). Needs pgflow-cpp's flow control (pgflow_cpp.start_flow_with_priority);
    /// not together with an idempotency key.
    std::optional<int> priority{};
};

/// A run's cancellation and lineage (pgflow_cpp.run_status); empty on pgflow 0.8.1's schema.
struct run_lineage {
    std::optional<std::chrono::system_clock::time_point> cancelled_at;
    std::optional<pgflow::run_id> restart_of;    ///< the run this one retries or resumes
    std::string restart_kind;                    ///< "retry" or "resume" (with restart_of)
    std::optional<pgflow::run_id> restarted_as;  ///< the run that retried or resumed this one
    std::string restarted_as_kind;               ///< "retry" or "resume" (with restarted_as)
    std::optional<std::string> idempotency_key;
};

}  // namespace pgflow

namespace pgflow::detail {

namespace run_control_sql {
inline constexpr std::string_view cancel = "SELECT pgflow_cpp.cancel_run($1::uuid)";
inline constexpr std::string_view retry = "SELECT pgflow_cpp.retry_run($1::uuid)::text";
inline constexpr std::string_view resume = "SELECT pgflow_cpp.resume_run($1::uuid)::text";
inline constexpr std::string_view start_idempotent =
    "SELECT run_id::text FROM pgflow_cpp.start_flow_idempotent($1, $2::jsonb, $3, $4::uuid)";
/// status, cancelled_at, restart_of_run_id, restart_kind, restarted_as_run_id, restarted_as_kind,
/// idempotency_key; no row for an unknown run.
inline constexpr std::string_view status = R"(
SELECT status, to_json(cancelled_at) #>> '{}', restart_of_run_id::text, restart_kind, restarted_as_run_id::text,
       restarted_as_kind, idempotency_key
FROM pgflow_cpp.run_status($1::uuid))";
inline constexpr std::string_view run_flow = "SELECT flow_slug FROM pgflow.runs WHERE run_id = $1::uuid";
}  // namespace run_control_sql

/// Throws unless the schema has run control (decision: such calls fail at once on 0.8.1's schema).
inline void require_run_control(const schema_capabilities& caps, std::string_view what) {
    if (caps.run_control) return;
    throw error("pgflow: " + std::string(what) +
                " needs pgflow-cpp's run control (pgflow_cpp.cancel_run, retry_run, resume_run, "
                "start_flow_idempotent, run_status), which this database lacks: its pgflow schema was installed "
                "from pgflow 0.8.1's migrations. Install pgflow-cpp's schema (`pgflow install` or "
                "client::install_schema) to use it");
}

/// Sends a run-control call about run `id`; a refusal (unknown run P0002, a state that forbids the
/// call 55000) becomes a pgflow::error naming the action, the run and its state.
inline pq::result run_control_call(pq::connection& c, const schema_capabilities& caps, std::string_view action,
                                   const run_id& id, std::string_view sql) {
    require_run_control(caps, "client::" + std::string(action));
    try {
        return c.execute(sql, id);
    } catch (const database_error& e) {
        if (e.sqlstate() != pq::sqlstate::no_data_found &&
            e.sqlstate() != pq::sqlstate::object_not_in_prerequisite_state)
            throw;
        throw error("pgflow: cannot " + std::string(action) + " run " + id.str() + ": " + e.primary_message());
    }
}

/// pgflow_cpp.run_status's row: the status text ("cancelled" included) and the lineage, or
/// nullopt for an unknown run.
inline std::optional<std::pair<std::string, run_lineage>> read_run_lineage(pq::connection& c, const run_id& id) {
    const auto r = c.execute(run_control_sql::status, id);
    if (r.empty()) return std::nullopt;
    run_lineage l;
    auto text = [&r](int col) {
        return r.is_null(0, col) ? std::nullopt : std::optional<std::string>(std::string(r.text(0, col)));
    };
    if (auto t = text(1)) l.cancelled_at = parse_timestamptz(*t);
    if (auto t = text(2)) l.restart_of = run_id{std::string_view(*t)};
    l.restart_kind = text(3).value_or("");
    if (auto t = text(4)) l.restarted_as = run_id{std::string_view(*t)};
    l.restarted_as_kind = text(5).value_or("");
    l.idempotency_key = text(6);
    return std::pair{std::string(r.text(0, 0)), std::move(l)};
}

}  // namespace pgflow::detail
