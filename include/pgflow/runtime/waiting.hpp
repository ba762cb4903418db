#pragma once
// Steps without handlers as the client and the command line see them: signalling a waiting signal
// step (pgflow_cpp.signal, its refusals as signal_refused_error) and a run's waiting tasks (what
// waits, since when, until when, for which child run). pgflow_cpp's waits live in
// sql/pgflow/*waits*.sql; a database installed from pgflow 0.8.1's migrations has none of them.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/sqlstate.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/runtime/statements.hpp>
#include <pgflow/runtime/time.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow {

/// A signal the database refused; it changed nothing. what() names the step, the run and, for a
/// task that is not waiting, the state it is in.
class signal_refused_error : public error {
public:
    enum class reason {
        unknown,      ///< no such run, or no such step in its flow
        invalid,      ///< not a signal step, or a value of the wrong shape (the message says which)
        not_waiting,  ///< not ready yet, signalled already, failed, skipped, cancelled, or the run ended
    };

    signal_refused_error(const std::string& what, reason why, std::string server_message)
        : error(what), why_(why), server_message_(std::move(server_message)) {}

    [[nodiscard]] reason why() const noexcept { return why_; }
    /// The database's own words, e.g. `$.approved: expected boolean, got string`.
    [[nodiscard]] const std::string& server_message() const noexcept { return server_message_; }

private:
    reason why_;
    std::string server_message_;
};

/// One task of a run that waits without a worker: for a signal, until a time (a sleep, or a
/// subflow's retry after its backoff), or for a child run.
struct waiting_task {
    std::string step_slug;
    int task_index = 0;
    std::string kind;  ///< "signal", "sleep" or "subflow"
    std::chrono::system_clock::time_point waiting_since;
    /// When the wait ends by itself: a signal's timeout, a sleep's end, a subflow's retry.
    std::optional<std::chrono::system_clock::time_point> wake_at;
    std::optional<pgflow::run_id> child_run_id;  ///< a subflow's child run
};

}  // namespace pgflow

namespace pgflow::detail {

namespace wait_sql {
inline constexpr std::string_view signal = "SELECT pgflow_cpp.signal($1::uuid, $2, $3::jsonb, $4::int)";
/// A run's waiting tasks in step_index, task_index order: step, task index, kind, waiting since,
/// wake at, child run id (pgflow_cpp.run_waits: only tasks that still wait, of a started run).
inline constexpr std::string_view waiting_tasks = R"(
SELECT w.step_slug, w.task_index, w.kind, to_json(w.waiting_since) #>> '{}', to_json(w.wake_at) #>> '{}',
       w.child_run_id::text
  FROM pgflow_cpp.run_waits($1::uuid) w
  JOIN pgflow.runs r ON r.run_id = $1::uuid
  JOIN pgflow.steps s ON s.flow_slug = r.flow_slug AND s.step_slug = w.step_slug
 ORDER BY s.step_index, w.task_index)";
}  // namespace wait_sql

/// Throws unless the schema has steps without handlers.
inline void require_handlerless_steps(const schema_capabilities& caps, std::string_view what) {
    if (caps.handlerless_steps) return;
    throw error("pgflow: " + std::string(what) +
                " needs pgflow-cpp's steps without handlers (signals, sleeps, subflows: pgflow_cpp.signal, "
                "wake_due_waits), which this database lacks: its pgflow schema was installed from pgflow 0.8.1's "
                "migrations or an older pgflow-cpp. Install pgflow-cpp's schema (`pgflow install` or "
                "client::install_schema) to use them");
}

/// pgflow_cpp.signal: completes the waiting task `task_index` of signal step `step_slug` with
/// `value`. Its refusals become signal_refused_error.
inline void send_signal(pq::connection& c, const schema_capabilities& caps, const run_id& id,
                        std::string_view step_slug, const boost::json::value& value, int task_index) {
    require_handlerless_steps(caps, "client::signal");
    try {
        c.execute(wait_sql::signal, id, step_slug, value, task_index);
    } catch (const database_error& e) {
        using why = signal_refused_error::reason;
        const auto code = e.sqlstate();
        const auto reason = code == pq::sqlstate::no_data_found                      ? why::unknown
                            : code == pq::sqlstate::invalid_parameter_value          ? why::invalid
                            : code == pq::sqlstate::object_not_in_prerequisite_state ? why::not_waiting
                                                                                     : std::optional<why>{};
        if (!reason) throw;
        std::string task = task_index == 0 ? std::string() : " (task " + std::to_string(task_index) + ")";
        throw signal_refused_error("pgflow: cannot signal step \"" + std::string(step_slug) + "\"" + task + " of run " +
                                       id.str() + ": " + e.primary_message(),
                                   *reason, e.primary_message());
    }
}

/// The run's waiting tasks (none on a schema without steps without handlers).
inline std::vector<waiting_task> read_waiting_tasks(pq::connection& c, const schema_capabilities& caps,
                                                    const run_id& id) {
    std::vector<waiting_task> out;
    if (!caps.handlerless_steps) return out;
    const auto r = c.execute(wait_sql::waiting_tasks, id);
    for (int i = 0; i < r.rows(); ++i) {
        waiting_task w;
        w.step_slug = std::string(r.text(i, 0));
        w.task_index = r.get<int>(i, 1);
        w.kind = std::string(r.text(i, 2));
        w.waiting_since = parse_timestamptz(r.text(i, 3));
        if (!r.is_null(i, 4)) w.wake_at = parse_timestamptz(r.text(i, 4));
        if (!r.is_null(i, 5)) w.child_run_id = run_id{r.text(i, 5)};
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace pgflow::detail
