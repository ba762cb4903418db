#pragma once
// The command line's parser (CLI11): its commands and options, and the exit status of each outcome.

#include <pgflow/cli/commands.hpp>
#include <pgflow/cli/context.hpp>
#include <pgflow/cli/dashboard.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/cli/flows.hpp>
#include <pgflow/cli/schedule.hpp>
#include <pgflow/cli/waits.hpp>
#include <pgflow/cli/watch.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <exception>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace pgflow::detail::cli {

/// --wait / --timeout: seconds from 1 ms to 10^9 s (about 31 years), so that their milliseconds
/// fit the clocks' counters (CLI::PositiveNumber let 1e300 overflow them, and 1e-300 round to 0).
inline CLI::Validator seconds_in_range() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            double seconds = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
            if (ec != std::errc{} || end != text.data() + text.size() || !(seconds >= 0.001 && seconds <= 1e9))
                return "expected a number of seconds from 0.001 to 1000000000, got " + text;
            return {};
        },
        "SECONDS");
}

/// --limit / --task: an int from 0, said plainly (CLI::NonNegativeNumber printed its bound, the
/// largest double, in 300 digits).
inline CLI::Validator count_from_zero() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            long long n = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
            if (ec == std::errc{} && end == text.data() + text.size() && n < 0)
                return "must be 0 or more (got " + text + ")";
            if (ec != std::errc{} || end != text.data() + text.size() || n > std::numeric_limits<int>::max())
                return "must be an integer from 0 to " + std::to_string(std::numeric_limits<int>::max()) + " (got " +
                       text + ")";
            return {};
        },
        "N");
}

/// What the command line was given; the parser writes into it.
struct arguments {
    std::string database_url, queue = "auto", flow_name, input_text, run_text, step_slug;
    double wait_seconds = 0, watch_timeout = 0;
    bool full = false, all_workers = false;
    int limit = 20, task_index = 0;
    CLI::App *signal = nullptr, *install = nullptr, *compile = nullptr, *start = nullptr, *status = nullptr,
             *workers = nullptr, *watch = nullptr, *cancel = nullptr, *retry = nullptr, *resume = nullptr;
    CLI::Option* wait_option = nullptr;
    int priority = 0;
    CLI::Option* priority_option = nullptr;
    CLI::App* dashboard = nullptr;
    dashboard_arguments dashboard_args;
    schedule_arguments schedule_args;
};

class command_line {
public:
    command_line(std::vector<known_flow> flows, std::ostream& out, std::ostream& err)
        : ctx_{children_first(flows), out, err} {}

    int run(int argc, const char* const* argv) {
        CLI::App app{"pgflow-cpp: durable DAG workflows on PostgreSQL, compatible with pgflow 0.8.1", "pgflow"};
        arguments args;
        describe(app, args);
        if (auto unknown = unknown_command(app, argc, argv))
            return report(usage_error(*unknown), pgflow::cli::usage_error);
        try {
            app.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
            const int code = app.exit(e, ctx_.out, ctx_.err);
            return code == 0 ? pgflow::cli::success : pgflow::cli::usage_error;
        }

        try {
            ctx_.database = args.database_url.empty() ? connection_options::from_environment()
                                                      : connection_options(args.database_url);
        } catch (const error& e) {
            return report(e, pgflow::cli::usage_error);
        }
        ctx_.database = ctx_.database.with_application_name("pgflow cli");

        try {
            return dispatch(args);
        } catch (const usage_error& e) {
            return report(e, pgflow::cli::usage_error);
        } catch (const database_error& e) {
            return report_database_error(e, command_name(app));
        } catch (const std::exception& e) {
            return report(e, pgflow::cli::failure);
        }
    }

private:
    // The commands and their options, writing into `args`.
    void describe(CLI::App& app, arguments& args) const {
        app.require_subcommand(1);
        app.fallthrough();
        app.add_option("-d,--database-url", args.database_url,
                       "PostgreSQL URL or key=value connection string (default: PGFLOW_DATABASE_URL, else the "
                       "PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD variables as psql reads them)");
        app.footer(
            "Exit status: 0 success; 1 the command failed (server unreachable, unknown run, database "
            "error); 2 bad arguments (unknown command or flow, invalid JSON or run id); 3 the run that "
            "`watch` or `start --wait` followed failed or was cancelled.\nFlows this program knows (children "
            "first, the order to register them in): " +
            ctx_.flow_list());

        args.install = app.add_subcommand("install", "Install or upgrade the pgflow schema (idempotent)");
        args.install
            ->add_option("--queue", args.queue,
                         "pgmq implementation: auto (the extension when the server has pgmq >= 1.5, else the "
                         "built-in queue), builtin or extension")
            ->check(CLI::IsMember({"auto", "builtin", "extension"}));

        args.compile =
            app.add_subcommand("compile", "Print the registration SQL of a flow (pgflow's compileFlow text)");
        args.compile->add_option("flow", args.flow_name, "Flow slug: " + ctx_.flow_list())->required();

        args.start = app.add_subcommand("start", "Start a run of a registered flow and print its run id");
        args.start->add_option("flow", args.flow_name, "Flow slug")->required();
        args.start->add_option("input", args.input_text, "Run input as JSON, e.g. '{\"value\": 23}'")->required();
        args.wait_option = args.start
                               ->add_option("--wait", args.wait_seconds,
                                            "Then wait up to this many seconds for the run to end and print its "
                                            "output (a worker must be running)")
                               ->check(seconds_in_range());
        args.priority_option = args.start->add_option(
            "--priority", args.priority,
            "Claim the run's tasks before those of runs with a lower priority (default 0; pgflow-cpp's schema)");

        args.status = app.add_subcommand("status",
                                         "Without a run id: active runs per flow, failed tasks and average "
                                         "completion time per flow. With one: the run and its steps");
        args.status->add_option("run_id", args.run_text, "A run id (UUID)");
        args.status->add_flag("--full", args.full, "Print inputs, outputs and errors in full");
        args.status->add_option("--limit", args.limit, "Most failed tasks to list (newest first; default 20)")
            ->check(count_from_zero());

        describe_run_commands(app, args);
        describe_monitoring_commands(app, args);
        describe_schedule_commands(app, args.schedule_args);
    }

    // signal, cancel, retry, resume: what acts on one run.
    static void describe_run_commands(CLI::App& app, arguments& args) {
        args.signal = app.add_subcommand("signal",
                                         "Complete a waiting signal step with a JSON value; the run goes on "
                                         "(pgflow-cpp's schema)");
        args.signal->add_option("run_id", args.run_text, "A run id (UUID)")->required();
        args.signal->add_option("step", args.step_slug, "The signal step's slug")->required();
        args.signal->add_option("value", args.input_text, "The value as JSON, e.g. '{\"approved\": true}'")->required();
        args.signal->add_option("--task", args.task_index, "The task of a map step (default 0)")
            ->check(count_from_zero());

        args.cancel = app.add_subcommand("cancel",
                                         "Cancel a started run: its tasks become cancelled, its running "
                                         "handlers are asked to stop (pgflow-cpp's schema)");
        args.cancel->add_option("run_id", args.run_text, "A run id (UUID)")->required();
        args.retry = app.add_subcommand("retry",
                                        "Start a failed or cancelled run again from the start with the "
                                        "same input; prints the new run's id");
        args.retry->add_option("run_id", args.run_text, "A run id (UUID)")->required();
        args.resume = app.add_subcommand("resume",
                                         "Continue a failed or cancelled run in a new run that reuses its "
                                         "completed steps and map elements; prints the new run's id");
        args.resume->add_option("run_id", args.run_text, "A run id (UUID)")->required();
    }

    // workers, watch, dashboard: what only looks.
    static void describe_monitoring_commands(CLI::App& app, arguments& args) {
        args.workers = app.add_subcommand("workers", "List the workers registered in pgflow.workers");
        args.workers->add_flag("--all", args.all_workers, "Include stopped (deprecated) workers");

        args.watch = app.add_subcommand("watch", "Print a run's events as they happen until it completes or fails");
        args.watch->add_option("run_id", args.run_text, "A run id (UUID)")->required();
        args.watch->add_flag("--full", args.full, "Print outputs in full");
        args.watch->add_option("--timeout", args.watch_timeout, "Give up after this many seconds (exit status 1)")
            ->check(seconds_in_range());

        args.dashboard =
            app.add_subcommand("dashboard", "Serve the web dashboard (flows, runs live, workers, /metrics)");
        args.dashboard->add_option("--listen", args.dashboard_args.listen, "host:port (default 127.0.0.1:8080)");
        args.dashboard->add_option("--token", args.dashboard_args.token,
                                   "Token every request needs (default: PGFLOW_DASHBOARD_TOKEN); required "
                                   "off loopback");
        args.dashboard->add_flag("--allow-actions", args.dashboard_args.allow_actions,
                                 "Enable the cancel, retry and resume buttons");
    }

    int dispatch(const arguments& args) {
        if (args.install->parsed()) return install_schema(ctx_, args.queue);
        if (args.compile->parsed()) return compile_flow(ctx_, args.flow_name);
        if (args.start->parsed())
            return start_run(ctx_, args.flow_name, args.input_text,
                             args.wait_option->count() > 0 ? std::optional<double>(args.wait_seconds) : std::nullopt,
                             args.priority_option->count() > 0 ? std::optional<int>(args.priority) : std::nullopt);
        if (args.status->parsed())
            return args.run_text.empty() ? overview(ctx_, args.full, args.limit)
                                         : run_status(ctx_, args.run_text, args.full);
        if (args.signal->parsed())
            return signal_step(ctx_, args.run_text, args.step_slug, args.input_text, args.task_index);
        if (args.cancel->parsed()) return cancel_run(ctx_, args.run_text);
        if (args.retry->parsed()) return restart_run(ctx_, args.run_text, false);
        if (args.resume->parsed()) return restart_run(ctx_, args.run_text, true);
        if (args.workers->parsed()) return list_workers(ctx_, args.all_workers);
        if (args.watch->parsed())
            return run_watch{ctx_}.watch(
                args.run_text, args.full,
                args.watch_timeout > 0 ? std::optional<double>(args.watch_timeout) : std::nullopt);
        if (args.dashboard->parsed()) return serve_dashboard(ctx_, args.dashboard_args);
        if (auto status = dispatch_schedule_commands(ctx_, args.schedule_args)) return *status;
        return report(usage_error("no command given (see --help)"), pgflow::cli::usage_error);
    }

    // The first word that is neither an option nor an option's value, when it names no command;
    // for a command with commands of its own (schedule), its first such word likewise.
    static std::optional<std::string> unknown_command(CLI::App& app, int argc, const char* const* argv) {
        CLI::App* parent = &app;
        bool help = false;
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "-d" || arg == "--database-url") {
                ++i;
                continue;
            }
            help = help || arg == "-h" || arg == "--help";
            if (arg.starts_with("-")) continue;
            CLI::App* command = nullptr;
            try {
                command = parent->get_subcommand(std::string(arg));
            } catch (const CLI::OptionNotFound&) {
                if (parent == &app)
                    return "pgflow: unknown command " + detail::quoted(arg) + " (commands: " + command_names(app) +
                           "; see --help)";
                return "pgflow: unknown " + parent->get_name() + " command " + detail::quoted(arg) + " (" +
                       parent->get_name() + " commands: " + command_names(*parent) + "; see pgflow " +
                       parent->get_name() + " --help)";
            }
            if (parent != &app || command_names(*command).empty()) return std::nullopt;
            parent = command;
        }
        if (parent == &app || help) return std::nullopt;
        // CLI11 would say "A subcommand is required", naming none.
        return "pgflow: " + parent->get_name() + " needs a command (" + parent->get_name() +
               " commands: " + command_names(*parent) + "; see pgflow " + parent->get_name() + " --help)";
    }

    static std::string command_names(const CLI::App& app) {
        std::string names;
        for (const CLI::App* c : app.get_subcommands([](const CLI::App* c) { return !c->get_name().empty(); }))
            names += (names.empty() ? "" : ", ") + c->get_name();
        return names;
    }

    int report(const std::exception& e, int status) {
        const std::string_view what = e.what();
        ctx_.err << (what.starts_with("pgflow") ? "" : "pgflow: ") << what << '\n';
        return status;
    }

    // "schedule add": the command given.
    static std::string command_name(const CLI::App& app) {
        std::string name;
        for (const CLI::App* c = &app; !c->get_subcommands().empty();) {
            c = c->get_subcommands().front();
            name += (name.empty() ? "" : " ") + c->get_name();
        }
        return name;
    }

    int report_database_error(const database_error& e, const std::string& command) {
        // 3F000 invalid_schema_name, 42P01 undefined_table, 42883 undefined_function: most likely
        // a database without the schema. The command and the server's words, without the
        // statement: its name or text belongs to the library (`cancel` failed "preparing statement
        // pgflow_client_start").
        if (e.is_undefined_object_error()) {
            ctx_.err << "pgflow " << command << ": "
                     << (e.primary_message().empty() ? std::string(e.what())
                                                     : e.primary_message() + " [SQLSTATE " + e.sqlstate() + "]")
                     << "\npgflow: is the pgflow schema installed in this database? `pgflow install` installs it\n";
            return pgflow::cli::failure;
        }
        return report(e, pgflow::cli::failure);
    }

    context ctx_;
};

}  // namespace pgflow::detail::cli
