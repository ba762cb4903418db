#pragma once
// `pgflow schedule add|prune|list|enable|disable|remove` and `pgflow scheduler` (runs until SIGINT
// or SIGTERM): the command line over <pgflow/schedules.hpp>.

#include <pgflow/cli/context.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/cli/flows.hpp>
#include <pgflow/cli/format.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/runtime/queries.hpp>
#include <pgflow/runtime/schedule_queries.hpp>
#include <pgflow/schedules.hpp>
#include <pgflow/signals.hpp>

#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow::detail::cli {

/// What `pgflow schedule …` and `pgflow scheduler` were given.
struct schedule_arguments {
    std::string name, flow, cron, retention, input = "{}", time_zone = "UTC", catch_up = "one";
    bool disabled = false, no_election = false;
    CLI::App *schedule = nullptr, *add = nullptr, *prune = nullptr, *list = nullptr, *enable = nullptr,
             *disable = nullptr, *remove = nullptr, *scheduler = nullptr;
};

// A refused argument (a bad cron expression or zone: invalid_parameter_value; a taken name;
// an unknown flow or schedule) is a usage error in the database's words.
template <class F>
auto with_argument_errors(F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (const database_error& e) {
        const std::string& state = e.sqlstate();
        // Values the database refused as arguments: a bad parameter, a name taken or unknown, a
        // malformed interval or time (22007, 22008, 22P02), an empty name (check_violation).
        if (state == "22023" || state == "23505" || state == "23503" || state == "P0002" || state == "22004" ||
            state == "22007" || state == "22008" || state == "22P02" || state == "23514")
            throw usage_error("pgflow: " + (e.primary_message().empty() ? std::string(e.what()) : e.primary_message()));
        throw;
    }
}

inline std::string utc_text(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

inline void print_added(const context& ctx, const schedule& s) {
    ctx.out << "schedule " << detail::quoted(s.name) << (s.enabled ? " added; next run " : " added (disabled)")
            << (s.enabled ? utc_text(s.next_run_at) : std::string()) << '\n';
}

inline int schedule_add(const context& ctx, const schedule_arguments& a) {
    schedule_options o;
    o.input = parse_input(a.input);
    check_input(ctx.known(a.flow), a.flow, o.input);  // as `start` does: every tick would start it
    o.time_zone = a.time_zone;
    o.enabled = !a.disabled;
    o.catch_up = a.catch_up;
    schedules book{ctx.database};
    // The same message and status as `start` for a flow the database lacks (the database's own
    // message has a hint of its own).
    if (book.connection().execute(queries::flow_registered, a.flow).empty()) throw ctx.not_registered(a.flow);
    print_added(ctx, with_argument_errors([&] { return book.add(a.name, a.flow, a.cron, o); }));
    return pgflow::cli::success;
}

inline int schedule_prune(const context& ctx, const schedule_arguments& a) {
    schedules book{ctx.database};
    print_added(ctx, with_argument_errors([&] {
                    try {
                        return book.add_prune(a.name, a.retention, a.cron, a.time_zone, !a.disabled);
                    } catch (const database_error& e) {
                        // The only interval argument: the server's words do not say which one it was.
                        if (e.sqlstate() != "22007") throw;
                        throw usage_error("pgflow: retention " + detail::quoted(a.retention) +
                                          " is not an interval (e.g. '30 days', '12 hours')");
                    }
                }));
    return pgflow::cli::success;
}

inline int schedule_enable(const context& ctx, const std::string& name, bool enabled) {
    schedules book{ctx.database};
    const schedule s = with_argument_errors([&] { return book.set_enabled(name, enabled); });
    ctx.out << "schedule " << detail::quoted(s.name)
            << (enabled ? " enabled; next run " + utc_text(s.next_run_at) : std::string(" disabled")) << '\n';
    return pgflow::cli::success;
}

inline int schedule_remove(const context& ctx, const std::string& name) {
    schedules book{ctx.database};
    if (!book.remove(name)) throw usage_error("pgflow: there is no schedule " + detail::quoted(name));
    ctx.out << "schedule " << detail::quoted(name) << " removed\n";
    return pgflow::cli::success;
}

inline int schedule_list(const context& ctx) {
    auto conn = ctx.connect();
    pgflow::detail::require_schedules(conn);
    const auto r = conn.execute(schedule_queries::list_for_display);
    if (r.empty()) {
        ctx.out << "no schedules (`pgflow schedule add` adds one)\n";
        return pgflow::cli::success;
    }
    table t({"name", "runs", "cron", "time zone", "enabled", "next run", "last run", "last error", "input"});
    for (int i = 0; i < r.rows(); ++i)
        t.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3), cell(r, i, 4), cell(r, i, 5), cell(r, i, 6),
               abbreviated(one_line(cell(r, i, 7)), false, 80), abbreviated(cell(r, i, 8), false, 60)});
    t.print(ctx.out, "");
    return pgflow::cli::success;
}

/// Runs a scheduler until SIGINT or SIGTERM; prints each run it starts.
inline int run_scheduler(const context& ctx, const schedule_arguments& a) {
    scheduler_options o;
    o.elect = !a.no_election;
    o.log = [&ctx](std::string_view line) { ctx.err << line << std::endl; };
    o.on_start = [&ctx](const scheduled_start& s) {
        ctx.out << "started " << detail::quoted(s.schedule_name) << " tick " << utc_text(s.scheduled_at) << ": "
                << (s.run_id  ? "run " + *s.run_id
                    : s.error ? "failed: " + one_line(*s.error)
                              : std::string("done"))
                << std::endl;
    };
    scheduler s{ctx.database, o};
    ctx.out << "pgflow scheduler " << s.holder() << (o.elect ? "" : " (no election)") << ": running; Ctrl-C stops it"
            << std::endl;
    pgflow::stop_on_signals signals;
    s.run(signals.token());
    ctx.out << "pgflow scheduler " << s.holder() << ": stopped" << std::endl;
    return pgflow::cli::success;
}

/// Adds `schedule …` and `scheduler` to the command line, writing into `a`.
inline void describe_schedule_commands(CLI::App& app, schedule_arguments& a) {
    a.schedule = app.add_subcommand("schedule",
                                    "Cron schedules stored in the database: add, prune, list, enable, "
                                    "disable, remove (docs/schedules.md)");
    a.schedule->require_subcommand(1);
    const std::string cron_help =
        "Cron expression: 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, "
        "@daily/@hourly/…, or '@every 30s'";
    a.add = a.schedule->add_subcommand("add", "Add a schedule that starts a flow at every tick");
    a.add->add_option("name", a.name, "Schedule name")->required();
    a.add->add_option("flow", a.flow, "Flow slug (registered)")->required();
    a.add->add_option("cron", a.cron, cron_help)->required();
    a.add->add_option("--input", a.input, "Run input as JSON (default {})");
    a.add->add_option("--tz", a.time_zone, "Time zone of the cron fields (default UTC), e.g. Europe/Berlin");
    a.add->add_option("--catch-up", a.catch_up, "After downtime: one (one run for the missed window) or all")
        ->check(CLI::IsMember({"one", "all"}));
    a.add->add_flag("--disabled", a.disabled, "Add it paused (`pgflow schedule enable` resumes it)");
    a.prune = a.schedule->add_subcommand("prune", "Add a schedule that prunes runs older than a retention interval");
    a.prune->add_option("name", a.name, "Schedule name")->required();
    a.prune->add_option("retention", a.retention, "Interval, e.g. '30 days'")->required();
    a.prune->add_option("cron", a.cron, cron_help)->required();
    a.prune->add_option("--tz", a.time_zone, "Time zone of the cron fields (default UTC)");
    a.prune->add_flag("--disabled", a.disabled, "Add it paused");
    a.list = a.schedule->add_subcommand("list", "List the schedules with their next and last runs");
    a.enable = a.schedule->add_subcommand("enable", "Resume a schedule from its next tick");
    a.enable->add_option("name", a.name, "Schedule name")->required();
    a.disable = a.schedule->add_subcommand("disable", "Pause a schedule");
    a.disable->add_option("name", a.name, "Schedule name")->required();
    a.remove = a.schedule->add_subcommand("remove", "Remove a schedule (the runs it started stay)");
    a.remove->add_option("name", a.name, "Schedule name")->required();

    a.scheduler = app.add_subcommand("scheduler",
                                     "Start the runs of due schedules until Ctrl-C; run several, "
                                     "one is elected through the database");
    a.scheduler->add_flag("--no-election", a.no_election,
                          "Tick without the election (each tick still starts exactly one run)");
}

/// Runs the schedule command given, if any.
inline std::optional<int> dispatch_schedule_commands(const context& ctx, const schedule_arguments& a) {
    if (a.add->parsed()) return schedule_add(ctx, a);
    if (a.prune->parsed()) return schedule_prune(ctx, a);
    if (a.list->parsed()) return schedule_list(ctx);
    if (a.enable->parsed()) return schedule_enable(ctx, a.name, true);
    if (a.disable->parsed()) return schedule_enable(ctx, a.name, false);
    if (a.remove->parsed()) return schedule_remove(ctx, a.name);
    if (a.scheduler->parsed()) return run_scheduler(ctx, a);
    return std::nullopt;
}

}  // namespace pgflow::detail::cli
