#pragma once
// pgflow::schedules — cron-style schedules stored in the database (pgflow_cpp.schedules), and
// pgflow::scheduler, the loop that starts their runs. docs/schedules.md has the details:
//
//   pgflow::schedules book{db};
//   book.add("nightly-report", "report", "0 2 * * *", {.input = {{"kind", "daily"}}, .time_zone = "Europe/Berlin"});
//   book.add_prune("retention", "30 days", "@daily");
//
//   pgflow::scheduler s{db};            // any number of them: one is elected through the database
//   s.run(signals.token());
//
// The database computes every next tick (pgflow_cpp.cron_next_run), so every client agrees on
// what is due; pgflow_cpp.run_due_schedules starts each tick exactly once whatever the number of
// schedulers. The election (a lease row renewed every second) only keeps the others idle.

#include <pgflow/connection_options.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/schedule_queries.hpp>
#include <pgflow/scheduler.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow {

/// A schedule as stored. kind "flow" starts flow_slug with input; kind "prune" calls
/// pgflow.prune_data_older_than(retention).
struct schedule {
    std::string name, kind;
    std::optional<std::string> flow_slug;
    boost::json::value input;
    std::optional<std::string> retention;  ///< PostgreSQL's interval text, e.g. "30 days"
    std::string cron, time_zone, catch_up;
    bool enabled = true;
    std::chrono::system_clock::time_point next_run_at;  ///< the next tick not yet started
    std::optional<std::chrono::system_clock::time_point> last_run_at;
    std::optional<std::string> last_run_id, last_error;
};

/// What add() may set besides name, flow and cron.
struct schedule_options {
    boost::json::value input = boost::json::object{};
    std::string time_zone = "UTC";  ///< a name from pg_timezone_names
    bool enabled = true;
    /// After downtime: "one" run for the whole missed window, or "all" (one per missed tick).
    std::string catch_up = "one";
};

namespace detail {

inline std::chrono::system_clock::time_point from_epoch_seconds(double seconds) {
    return std::chrono::system_clock::time_point{
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds))};
}

inline schedule read_schedule(const pq::result& r, int row) {
    schedule s;
    s.name = r.get<std::string>(row, 0);
    s.kind = r.get<std::string>(row, 1);
    s.flow_slug = r.get<std::optional<std::string>>(row, 2);
    s.input = r.get<boost::json::value>(row, 3);
    s.retention = r.get<std::optional<std::string>>(row, 4);
    s.cron = r.get<std::string>(row, 5);
    s.time_zone = r.get<std::string>(row, 6);
    s.catch_up = r.get<std::string>(row, 7);
    s.enabled = r.get<bool>(row, 8);
    s.next_run_at = from_epoch_seconds(r.get<double>(row, 9));
    if (!r.is_null(row, 10)) s.last_run_at = from_epoch_seconds(r.get<double>(row, 10));
    s.last_run_id = r.get<std::optional<std::string>>(row, 11);
    s.last_error = r.get<std::optional<std::string>>(row, 12);
    return s;
}

}  // namespace detail

/// Adds, lists, pauses and removes schedules. One object is one connection (opened on first use):
/// use it from one thread at a time. Errors are the database's (database_error), worded there:
/// a bad cron expression names the field, an unknown flow or zone says so.
class schedules {
public:
    explicit schedules(connection_options db = {}) : db_(std::move(db)) {}

    /// A schedule starting `flow_slug` at every tick of `cron` (5 fields, 6 with seconds first,
    /// @daily and friends, or "@every 30s"). Throws when the name is taken.
    schedule add(std::string_view name, std::string_view flow_slug, std::string_view cron,
                 const schedule_options& options = {}) {
        return one(conn().execute(detail::schedule_queries::add, name, flow_slug, cron, options.input,
                                  options.time_zone, options.enabled, options.catch_up));
    }

    /// A schedule running pgflow.prune_data_older_than(retention) at every tick; retention is an
    /// interval in PostgreSQL's words ("30 days").
    schedule add_prune(std::string_view name, std::string_view retention, std::string_view cron,
                       std::string_view time_zone = "UTC", bool enabled = true) {
        return one(conn().execute(detail::schedule_queries::add_prune, name, retention, cron, time_zone, enabled));
    }

    /// Pauses or resumes; a resumed schedule starts from its next tick (the paused ones are not
    /// caught up). Throws for an unknown name.
    schedule set_enabled(std::string_view name, bool enabled) {
        return one(conn().execute(detail::schedule_queries::set_enabled, name, enabled));
    }

    /// Removes the schedule; false when there was none by that name.
    bool remove(std::string_view name) {
        return conn().execute(detail::schedule_queries::remove, name).get<bool>(0, 0);
    }

    [[nodiscard]] std::vector<schedule> list() {
        const auto r = conn().execute(detail::schedule_queries::list);
        std::vector<schedule> all;
        for (int i = 0; i < r.rows(); ++i) all.push_back(detail::read_schedule(r, i));
        return all;
    }

    [[nodiscard]] std::optional<schedule> find(std::string_view name) {
        const auto r = conn().execute(detail::schedule_queries::find, name);
        if (r.empty()) return std::nullopt;
        return detail::read_schedule(r, 0);
    }

    /// The connection (opened on first use).
    pq::connection& connection() { return conn(); }

private:
    pq::connection& conn() {
        if (!conn_ || !conn_->is_ok()) {
            conn_.emplace(db_.with_application_name("pgflow schedules").connect());
            detail::require_schedules(*conn_);
        }
        return *conn_;
    }
    static schedule one(const pq::result& r) { return detail::read_schedule(r, 0); }

    connection_options db_;
    std::optional<pq::connection> conn_;
};

}  // namespace pgflow
