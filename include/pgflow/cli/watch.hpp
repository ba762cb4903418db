#pragma once
// `pgflow watch <run_id>`: the run's state, then its events as they arrive, until it ends.

#include <pgflow/cli/context.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/cli/format.hpp>
#include <pgflow/cli/waits.hpp>
#include <pgflow/error.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/runtime/queries.hpp>
#include <pgflow/runtime/run_control.hpp>
#include <pgflow/runtime/statements.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail::cli {

class run_watch {
public:
    explicit run_watch(const context& ctx) : ctx_(ctx), out_(ctx.out) {}

    int watch(const std::string& run_text, bool full, std::optional<double> timeout_seconds) {
        const run_id id = parse_run_id(run_text);
        using std::chrono::milliseconds;
        std::optional<std::chrono::steady_clock::time_point> deadline;
        if (timeout_seconds)
            deadline = std::chrono::steady_clock::now() + milliseconds{static_cast<long long>(*timeout_seconds * 1000)};
        auto conn = ctx_.connect();
        const std::string channel = run_channel(id.str());
        conn.listen(channel);  // before reading the state, so that no event slips in between
        run_control_ = probe_capabilities(conn).run_control;
        auto outcome = print_state(conn, id);

        // Notifications carry the events; the state is also re-read twice a second in case the
        // database does not send them (pgflow 0.8.1's own SQL only uses Supabase Realtime), and to
        // see failed attempts that pgflow retries (retries send no event).
        const bool ended_before = outcome.status != "started";
        auto next_check = std::chrono::steady_clock::now() + milliseconds{500};
        // A run held back by flow limits is admitted without an event of its own: the re-read
        // that finds it started says so, before the events of its steps when they come first.
        auto read_state = [&] {
            const bool was_waiting = outcome.shown == "waiting";
            outcome = final_state(conn, id, was_waiting);
            if (was_waiting && outcome.shown == "started")
                out_ << local_clock_time() << "  run admitted (a slot under the flow's run limits)" << std::endl;
        };
        while (outcome.status == "started") {
            while (auto n = conn.next_notification())
                if (n->channel == channel) {
                    if (outcome.shown == "waiting") read_state();
                    notified_ = true;
                    print_retries(conn, id);  // so that a retried attempt shows before its step's event
                    print_event(n->payload, full);
                }
            const auto now = std::chrono::steady_clock::now();
            if (run_ended_ || now >= next_check) {  // a run-level event ends the watch; the row says how
                print_retries(conn, id);
                read_state();
                next_check = now + milliseconds{500};
                if (outcome.status != "started") break;
            }
            if (deadline && now >= *deadline) {
                ctx_.err << "pgflow: run " << id.str() << " is still running after " << *timeout_seconds << " s\n";
                return pgflow::cli::failure;
            }
            const auto wake_at = deadline ? std::min(next_check, *deadline) : next_check;
            conn.wait_for_input(std::chrono::ceil<milliseconds>(wake_at - now));
        }
        const bool completed = outcome.status == "completed";
        if (!ended_before && !run_ended_) out_ << local_clock_time() << "  run " << outcome.shown << std::endl;
        if (completed) {
            out_ << "output: " << abbreviated(outcome.output, full) << '\n';
            return pgflow::cli::success;
        }
        // Exit status 3 as for a failure: a cancelled run is 'failed' in pgflow.runs (error
        // "cancelled"), and `start --wait` reports it so too.
        if (outcome.shown == "cancelled") {
            out_ << "cancelled" << (outcome.cancelled_at ? " at " + utc_time(*outcome.cancelled_at) : std::string())
                 << '\n';
            return pgflow::cli::run_failed;
        }
        out_ << "failed in step " << outcome.failed_step << ": " << outcome.error << '\n';
        return pgflow::cli::run_failed;
    }

private:
    struct run_outcome {
        std::string flow, status, output, failed_step, error;
        std::string shown;  ///< status as pgflow_cpp.run_status says it: also cancelled or waiting
        std::optional<std::chrono::system_clock::time_point> cancelled_at;
    };

    // pgflow_cpp.run_status tells a cancelled run from a failed one and a run held back by flow
    // limits from a started one; it is read when that can be the case (a failed run; a started
    // one when the watch begins and while it waits), not every half second.
    run_outcome final_state(pq::connection& conn, const run_id& id, bool read_waiting = false) const {
        auto row = queries::read_run_outcome(conn.execute(queries::run_outcome, id));
        if (!row) throw error("pgflow: there is no run " + id.str() + " in this database");
        run_outcome o{std::move(row->flow_slug),
                      std::move(row->status),
                      row->output.value_or("null"),
                      row->failed_step.value_or("-"),
                      row->error_message.value_or("-"),
                      std::string(),
                      std::nullopt};
        o.shown = o.status;
        if (run_control_ && (o.status == "failed" || (o.status == "started" && read_waiting)))
            if (auto lineage = read_run_lineage(conn, id)) {
                o.shown = std::move(lineage->first);
                o.cancelled_at = lineage->second.cancelled_at;
            }
        return o;
    }

    // The run's state when the watch begins: its status and each step's.
    run_outcome print_state(pq::connection& conn, const run_id& id) {
        const auto steps = conn.execute(queries::step_statuses, id);
        auto outcome = final_state(conn, id, true);
        std::string line = "run " + id.str() + " of flow " + outcome.flow + ": " + outcome.shown;
        std::string separator = " (";
        for (int i = 0; i < steps.rows(); ++i, separator = ", ") {
            line += separator + cell(steps, i, 0) + " " + cell(steps, i, 1);
            if (!steps.is_null(i, 2)) line += " (" + cell(steps, i, 2) + ")";
            if (cell(steps, i, 1) != "created") started_steps_.push_back(cell(steps, i, 0));
        }
        out_ << local_clock_time() << "  " << line << (steps.empty() ? "" : ")") << std::endl;
        if (outcome.status == "started")
            for (const auto& w : waiting_tasks_of(conn, id))
                out_ << local_clock_time() << "  step " << w.step_slug
                     << (w.task_index == 0 ? "" : "[" + std::to_string(w.task_index) + "]") << " waiting since "
                     << utc_time(w.waiting_since) << " for " << waiting_for(w) << std::endl;
        return outcome;
    }

    // Prints attempts that failed and were retried since the last call. Once events arrive, only
    // for steps whose start was printed: the table can be read before a step's step:started
    // notification has been (its attempt may fail in the meantime).
    void print_retries(pq::connection& conn, const run_id& id) {
        const auto r = conn.execute(queries::retried_tasks, id);
        for (int i = 0; i < r.rows(); ++i) {
            const bool step_started =
                std::find(started_steps_.begin(), started_steps_.end(), cell(r, i, 0)) != started_steps_.end();
            if (notified_ && !step_started) continue;
            std::string key = cell(r, i, 0) + "[" + cell(r, i, 1) + "] attempt " + cell(r, i, 2);
            if (std::find(reported_retries_.begin(), reported_retries_.end(), key) != reported_retries_.end()) continue;
            out_ << local_clock_time() << "  task " << key << " failed: " << one_line(cell(r, i, 3))
                 << (cell(r, i, 4) == "queued" ? " (retry queued)" : " (retried)") << std::endl;
            reported_retries_.push_back(std::move(key));
        }
    }

    // One event's line; a payload that is not a JSON object is shown as it came.
    void print_event(std::string_view payload_text, bool full) {
        boost::json::value payload;
        try {
            payload = pgflow::parse_json(payload_text, "an event");
        } catch (const json_parse_error&) {  // left null: shown as it came, below
        }
        if (!payload.is_object()) {
            out_ << local_clock_time() << "  " << payload_text << std::endl;
            return;
        }
        if (auto line = event_line(payload.as_object(), payload_text, full))
            out_ << local_clock_time() << "  " << *line << std::endl;
    }

    // nullopt: nothing to print (the run:failed that follows a run:cancelled).
    std::optional<std::string> event_line(const boost::json::object& o, std::string_view payload_text, bool full) {
        auto text = [&](std::string_view key) -> std::string {
            const auto* v = o.if_contains(key);
            if (v == nullptr) return {};
            if (v->is_string()) return std::string(v->as_string());
            return boost::json::serialize(*v);
        };
        const std::string type = text("event_type");
        const bool trimmed = o.contains("trimmed");
        std::string line;
        if (type == "run:started") {
            line = "run started, input " + abbreviated(text("input"), full, 120);
        } else if (type == "step:started") {
            line = "step " + text("step_slug") + " started";
            started_steps_.push_back(text("step_slug"));
            if (const auto tasks = text("remaining_tasks"); !tasks.empty())
                line += " (" + tasks + (tasks == "1" ? " task)" : " tasks)");
        } else if (type == "step:completed") {
            line = "step " + text("step_slug") + " completed";
            if (!trimmed) line += ", output " + abbreviated(text("output"), full, 120);
        } else if (type == "step:failed") {
            line = "step " + text("step_slug") + " failed";
            if (!trimmed) line += ": " + one_line(text("error_message"));
        } else if (type == "step:waiting") {
            line = waiting_event_line(o);
        } else if (type == "step:skipped") {
            // condition_unmet, dependency_skipped, or handler_failed with the handler's error
            line = "step " + text("step_slug") + " skipped (" + text("skip_reason") + ")";
            if (const auto* e = o.if_contains("error_message"); !trimmed && e && e->is_string())
                line += ": " + one_line(std::string(e->as_string()));
        } else if (type == "step:cancelled") {
            line = "step " + text("step_slug") + " cancelled";
            if (const auto tasks = text("cancelled_tasks"); !tasks.empty() && tasks != "0")
                line += " (" + tasks + (tasks == "1" ? " task)" : " tasks)");
        } else if (type == "run:cancelled") {
            line = "run cancelled";
            run_ended_ = cancelled_ = true;
        } else if (type == "run:failed" && cancelled_) {
            // Sent after run:cancelled for pgflow 0.8.1's listeners (error "cancelled").
            return std::nullopt;
        } else if (type == "run:completed" || type == "run:failed") {
            line = type == "run:completed" ? "run completed" : "run failed";
            run_ended_ = true;
        } else {
            line = std::string(payload_text);
        }
        return line;
    }

    const context& ctx_;
    std::ostream& out_;
    bool run_ended_ = false;
    bool cancelled_ = false;                  // a run:cancelled event came
    bool run_control_ = false;                // pgflow_cpp.run_status exists (pgflow-cpp's schema)
    bool notified_ = false;                   // the database sends run events
    std::vector<std::string> started_steps_;  // steps whose start was printed
    std::vector<std::string> reported_retries_;
};

}  // namespace pgflow::detail::cli
