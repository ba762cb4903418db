#pragma once
// Steps without handlers on the command line: `pgflow signal <run_id> <step> <json> [--task N]`,
// and the waiting tasks that `pgflow status <run_id>` and `pgflow watch` show (what each waits for,
// since when, until when, which child run).

#include <pgflow/cli/context.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/cli/format.hpp>
#include <pgflow/client.hpp>
#include <pgflow/error.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/runtime/time.hpp>
#include <pgflow/runtime/waiting.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow::detail::cli {

/// "2026-12-03 18:04:05 UTC".
inline std::string utc_time(std::chrono::system_clock::time_point t) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
    const auto day = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss<std::chrono::seconds> time{seconds - day};
    char text[40];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u %02lld:%02lld:%02lld UTC", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<long long>(time.hours().count()), static_cast<long long>(time.minutes().count()),
                  static_cast<long long>(time.seconds().count()));
    return text;
}

/// "42 s", "3 min 20 s", "2 h 5 min": how long a task has waited.
inline std::string wait_duration(std::chrono::system_clock::duration d) {
    const long long s = std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(d).count());
    if (s < 60) return std::to_string(s) + " s";
    if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

/// What a waiting task waits for, in words.
inline std::string waiting_for(const waiting_task& w) {
    if (w.kind == "signal")
        return w.wake_at ? "a signal (times out at " + utc_time(*w.wake_at) + ")" : std::string("a signal");
    if (w.kind == "sleep") return w.wake_at ? "its time: " + utc_time(*w.wake_at) : std::string("its time");
    if (w.kind == "subflow") {
        if (w.child_run_id) return "child run " + w.child_run_id->str();
        return w.wake_at ? "a new child run at " + utc_time(*w.wake_at) + " (retry)" : std::string("a child run");
    }
    return w.kind;
}

/// The "Waiting" table of `pgflow status <run_id>`; nothing when no task waits.
inline void print_waiting_tasks(std::ostream& out, const std::vector<waiting_task>& waiting) {
    if (waiting.empty()) return;
    const auto now = std::chrono::system_clock::now();
    out << "\nWaiting without a worker\n";
    table t({"step", "task", "kind", "waiting since", "for", "waits for"});
    for (const auto& w : waiting)
        t.add({w.step_slug, std::to_string(w.task_index), w.kind, utc_time(w.waiting_since),
               wait_duration(now - w.waiting_since), waiting_for(w)});
    t.print(out);
}

/// The run's waiting tasks through `conn` (none on a schema without steps without handlers).
inline std::vector<waiting_task> waiting_tasks_of(pq::connection& conn, const run_id& id) {
    return read_waiting_tasks(conn, probe_capabilities(conn), id);
}

/// `pgflow watch`'s line for a step:waiting event (payload: step:started's plus waiting_since,
/// kind and, where known, task_index, wake_at, child_run_id).
inline std::string waiting_event_line(const boost::json::object& o) {
    auto text = [&](std::string_view key) -> std::string {
        const auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) return {};
        return v->is_string() ? std::string(v->as_string()) : boost::json::serialize(*v);
    };
    waiting_task w;
    w.kind = text("kind");
    try {
        if (const auto t = text("wake_at"); !t.empty()) w.wake_at = parse_timestamptz(t);
        if (const auto c = text("child_run_id"); !c.empty()) w.child_run_id = run_id{c};
    } catch (const error&) {  // shown without what could not be read
    }
    std::string line = "step " + text("step_slug");
    if (const auto index = text("task_index"); !index.empty() && index != "0") line += "[" + index + "]";
    return line + " waiting for " + waiting_for(w);
}

/// `pgflow signal`: completes a waiting signal step with a JSON value.
inline int signal_step(const context& ctx, const std::string& run_text, const std::string& step_slug,
                       const std::string& value_text, int task_index) {
    const run_id id = parse_run_id(run_text);
    const boost::json::value value = parse_input(value_text, "the signal value");
    client c{ctx.database};
    c.signal(id, step_slug, value, task_index);
    ctx.out << "signalled step " << step_slug << (task_index == 0 ? "" : "[" + std::to_string(task_index) + "]")
            << " of run " << id.str() << '\n';
    return pgflow::cli::success;
}

}  // namespace pgflow::detail::cli
