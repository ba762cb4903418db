#pragma once
// pgflow::cli::main — the `pgflow` command line, for your own flows:
//
//   #include <pgflow/cli.hpp>
//   #include "my_flows.hpp"
//
//   int main(int argc, char** argv) { return pgflow::cli::main(argc, argv, orders, reports); }
//
// Commands: install, compile <flow>, start <flow> <json>, status [run_id], workers, watch <run_id>
// (`pgflow --help` describes them). The flows given to main — compiled flows (pgflow::flow<…>) and
// pgflow::dynamic_flow objects — are the ones `compile` knows and whose input `start` checks.
// The database comes from --database-url, else PGFLOW_DATABASE_URL, else the PG* variables as psql
// reads them.
//
// Needs CLI11 (header-only: Debian's libcli11-dev, or find_package(CLI11)).

#include <pgflow/client.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/detail/type_name.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/install.hpp>
#include <pgflow/json.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/shape.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace pgflow::cli {

/// What pgflow::cli::main returns.
enum exit_status : int {
    success = 0,
    failure = 1,      ///< the command could not be carried out (server unreachable, unknown run, …)
    usage_error = 2,  ///< bad arguments: unknown command or flow, invalid JSON or run id, …
    run_failed = 3,   ///< `watch` / `start --wait`: the run ended in status 'failed'
};

}  // namespace pgflow::cli

namespace pgflow::detail::cli {

/// A command line mistake (exit status 2).
class usage_error : public error {
public:
    using error::error;
};

/// A flow the command line knows: what `compile` prints and how `start` checks an input.
struct known_flow {
    std::string slug;
    std::string input_type;  ///< C++ type of the run input, for messages
    std::function<std::string()> registration_sql;
    std::function<void(const boost::json::value&)> check_input;  ///< throws json_decode_error; may be empty
};

/// compileFlow's text for a flow known only by its shape (a dynamic flow): the same statements
/// and argument order, leaving out flow options equal to create_flow's defaults.
inline std::string registration_sql_of(const flow_shape& shape) {
    // Appends only: g++ 12 at -O3 reports a bogus -Wrestrict for "literal" + std::string&&.
    std::string sql;
    auto quoted = [&sql](std::string_view slug) {
        sql += '\'';
        sql += slug;
        sql += '\'';
    };
    auto option = [&sql](std::string_view name, const std::optional<int>& value) {
        if (!value) return;
        sql += ", ";
        sql += name;
        sql += " => ";
        sql += std::to_string(*value);
    };
    auto flow_option = [&](std::string_view name, int value, int default_value) {
        if (value != default_value) option(name, value);
    };
    sql += "SELECT pgflow.create_flow(";
    quoted(shape.slug);
    flow_option("max_attempts", shape.max_attempts, default_max_attempts);
    flow_option("base_delay", shape.base_delay, default_base_delay);
    flow_option("timeout", shape.timeout, default_timeout);
    sql += ");";
    for (const auto& step : shape.steps) {
        sql += "\nSELECT pgflow.add_step(";
        quoted(shape.slug);
        sql += ", ";
        quoted(step.slug);
        if (!step.dependencies.empty()) {
            sql += ", ARRAY[";
            for (std::size_t i = 0; i < step.dependencies.size(); ++i) {
                if (i > 0) sql += ", ";
                quoted(step.dependencies[i]);
            }
            sql += "]";
        }
        option("max_attempts", step.max_attempts);
        option("base_delay", step.base_delay);
        option("timeout", step.timeout);
        option("start_delay", step.start_delay);
        if (step.type == step_type::map) sql += ", step_type => 'map'";
        sql += ");";
    }
    return sql;
}

template <class F>
known_flow describe_flow(const F& f) {
    if constexpr (flow_type<F>) {
        using input = typename F::input_type;
        return {std::string(F::slug), std::string(type_name<input>()),
                [&f] { return std::string(pgflow::registration_sql(f)); },
                [](const boost::json::value& v) { static_cast<void>(pgflow::from_json<input>(v)); }};
    } else {
        static_assert(requires { { shape_of(f) } -> std::convertible_to<flow_shape>; },
                      "pgflow::cli::main takes compiled flows (pgflow::flow<...>) and pgflow::dynamic_flow objects");
        flow_shape shape = shape_of(f);
        std::string slug = shape.slug;
        return {std::move(slug), "JSON", [shape = std::move(shape)] { return registration_sql_of(shape); }, {}};
    }
}

// --- output -------------------------------------------------------------------------------------

/// Columns aligned on their widest cell (UTF-8 aware), two spaces apart.
class table {
public:
    explicit table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }

    void print(std::ostream& out, std::string_view indent = "  ") const {
        std::vector<std::size_t> widths(headers_.size(), 0);
        auto measure = [&](const std::vector<std::string>& row) {
            for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
        };
        measure(headers_);
        for (const auto& row : rows_) measure(row);
        auto line = [&](const std::vector<std::string>& row) {
            std::string text(indent);
            for (std::size_t i = 0; i < row.size(); ++i) {
                text += row[i];
                if (i + 1 < row.size()) text += std::string(widths[i] - width(row[i]) + 2, ' ');
            }
            text.erase(text.find_last_not_of(' ') + 1);
            out << text << '\n';
        };
        line(headers_);
        for (const auto& row : rows_) line(row);
    }

private:
    static std::size_t width(std::string_view s) {
        return static_cast<std::size_t>(
            std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    }
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

/// `text` cut to `limit` characters with a note of the full size, unless `full`.
inline std::string abbreviated(std::string text, bool full, std::size_t limit = 300) {
    if (full || text.size() <= limit) return text;
    const std::size_t size = text.size();
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    text.resize(cut);
    return text + "… (" + std::to_string(size) + " bytes; --full shows all)";
}

inline std::string cell(const pq::result& r, int row, int col) {
    return r.is_null(row, col) ? std::string("-") : std::string(r.text(row, col));
}

inline std::string local_clock_time() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::localtime_r(&seconds, &tm);
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%H:%M:%S", &tm);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    char with_ms[24];
    std::snprintf(with_ms, sizeof with_ms, "%s.%03lld", buffer, static_cast<long long>(ms));
    return with_ms;
}

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

// --- the commands -------------------------------------------------------------------------------

class command_line {
public:
    command_line(std::vector<known_flow> flows, std::ostream& out, std::ostream& err)
        : flows_(std::move(flows)), out_(out), err_(err) {}

    int run(int argc, const char* const* argv) {
        CLI::App app{"pgflow-cpp: durable DAG workflows on PostgreSQL, compatible with pgflow 0.8.1", "pgflow"};
        app.require_subcommand(1);
        app.fallthrough();
        std::string database_url;
        app.add_option("-d,--database-url", database_url,
                       "PostgreSQL URL or key=value connection string (default: PGFLOW_DATABASE_URL, else the "
                       "PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD variables as psql reads them)");
        app.footer("Exit status: 0 success; 1 the command failed (server unreachable, unknown run, database "
                   "error); 2 bad arguments (unknown command or flow, invalid JSON or run id); 3 the watched "
                   "run failed.\nFlows this program knows: " + flow_list());

        std::string queue = "auto";
        auto* install = app.add_subcommand("install", "Install or upgrade the pgflow schema (idempotent)");
        install->add_option("--queue", queue, "pgmq implementation: auto (the extension when the server has pgmq "
                                              ">= 1.5, else the built-in queue), builtin or extension")
            ->check(CLI::IsMember({"auto", "builtin", "extension"}));

        std::string flow_name, input_text, run_text;
        auto* compile = app.add_subcommand("compile", "Print the registration SQL of a flow (pgflow's compileFlow text)");
        compile->add_option("flow", flow_name, "Flow slug: " + flow_list())->required();

        double wait_seconds = 0;
        auto* start = app.add_subcommand("start", "Start a run of a registered flow and print its run id");
        start->add_option("flow", flow_name, "Flow slug")->required();
        start->add_option("input", input_text, "Run input as JSON, e.g. '{\"value\": 23}'")->required();
        auto* wait_option = start->add_option("--wait", wait_seconds,
                                              "Then wait up to this many seconds for the run to end and print its "
                                              "output (a worker must be running)")
                                ->check(seconds_in_range());

        bool full = false;
        int limit = 20;
        auto* status = app.add_subcommand("status", "Without a run id: active runs per flow, failed tasks and average "
                                                    "completion time per flow. With one: the run and its steps");
        status->add_option("run_id", run_text, "A run id (UUID)");
        status->add_flag("--full", full, "Print inputs, outputs and errors in full");
        status->add_option("--limit", limit, "Most failed tasks to list (newest first)")->check(CLI::NonNegativeNumber);

        bool all_workers = false;
        auto* workers = app.add_subcommand("workers", "List the workers registered in pgflow.workers");
        workers->add_flag("--all", all_workers, "Include stopped (deprecated) workers");

        double watch_timeout = 0;
        auto* watch = app.add_subcommand("watch", "Print a run's events as they happen until it completes or fails");
        watch->add_option("run_id", run_text, "A run id (UUID)")->required();
        watch->add_flag("--full", full, "Print outputs in full");
        watch->add_option("--timeout", watch_timeout, "Give up after this many seconds (exit status 1)")
            ->check(seconds_in_range());

        if (auto unknown = unknown_command(app, argc, argv))
            return report(usage_error("pgflow: unknown command " + detail::quoted(*unknown) +
                                      " (commands: install, compile, start, status, workers, watch; see --help)"),
                          pgflow::cli::usage_error);
        try {
            app.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
            const int code = app.exit(e, out_, err_);
            return code == 0 ? pgflow::cli::success : pgflow::cli::usage_error;
        }

        try {
            database_ = database_url.empty() ? connection_options::from_environment() : connection_options(database_url);
        } catch (const error& e) {
            return report(e, pgflow::cli::usage_error);
        }
        database_ = database_.with_application_name("pgflow cli");

        try {
            if (app.got_subcommand(install)) return install_schema(queue);
            if (app.got_subcommand(compile)) return compile_flow(flow_name);
            if (app.got_subcommand(start))
                return start_run(flow_name, input_text,
                                 wait_option->count() > 0 ? std::optional<double>(wait_seconds) : std::nullopt);
            if (app.got_subcommand(status)) return run_text.empty() ? overview(full, limit) : run_status(run_text, full);
            if (app.got_subcommand(workers)) return list_workers(all_workers);
            if (app.got_subcommand(watch))
                return watch_run(run_text, full, watch_timeout > 0 ? std::optional<double>(watch_timeout) : std::nullopt);
            return report(usage_error("no command given (see --help)"), pgflow::cli::usage_error);
        } catch (const usage_error& e) {
            return report(e, pgflow::cli::usage_error);
        } catch (const database_error& e) {
            return report_database_error(e);
        } catch (const std::exception& e) {
            return report(e, pgflow::cli::failure);
        }
    }

private:
    // install ------------------------------------------------------------------------------------
    int install_schema(const std::string& queue) {
        auto conn = connect();
        const auto mode = queue == "builtin" ? queue_mode::builtin : queue == "extension" ? queue_mode::extension : queue_mode::automatic;
        pgflow::install_schema(conn, install_options{mode, false});
        const auto r = conn.execute("SELECT pgflow_cpp.installed_version(), pgflow_cpp.installed_queue(), current_database()");
        out_ << "pgflow schema " << cell(r, 0, 0) << " installed in database " << cell(r, 0, 2) << " (queue: "
             << (cell(r, 0, 1) == "extension" ? "the pgmq extension" : "built-in pgmq-compatible") << ")\n";
        return pgflow::cli::success;
    }

    // compile ------------------------------------------------------------------------------------
    int compile_flow(const std::string& name) {
        out_ << find_flow(name).registration_sql() << '\n';
        return pgflow::cli::success;
    }

    // start --------------------------------------------------------------------------------------
    int start_run(const std::string& flow_slug, const std::string& input_text, std::optional<double> wait_seconds) {
        const boost::json::value input = parse_input(input_text);
        const known_flow* known = nullptr;
        for (const auto& f : flows_)
            if (f.slug == flow_slug) known = &f;
        if (known != nullptr && known->check_input) {
            try {
                known->check_input(input);
            } catch (const json_decode_error& e) {
                throw usage_error("pgflow: the input does not fit flow \"" + flow_slug + "\" (input type " +
                                  known->input_type + "): " + e.what());
            }
        }
        client c{database_};
        if (c.connection().execute("SELECT 1 FROM pgflow.flows WHERE flow_slug = $1", flow_slug).empty()) {
            std::string message =
                "pgflow: flow " + detail::quoted(flow_slug) + " is not registered in this database";
            if (known != nullptr)
                message += "; register it with `pgflow compile " + flow_slug +
                           " | psql`, or by starting its worker";
            throw error(message);
        }
        const auto id = c.start(flow_slug, input);
        out_ << id.str() << std::endl;
        if (!wait_seconds) return pgflow::cli::success;
        try {
            const auto output = c.wait(id, std::chrono::milliseconds{static_cast<long long>(*wait_seconds * 1000)});
            out_ << boost::json::serialize(output) << '\n';
            return pgflow::cli::success;
        } catch (const run_failed_error& e) {
            err_ << e.what() << '\n';
            return pgflow::cli::run_failed;
        }
    }

    // status -------------------------------------------------------------------------------------
    int overview(bool full, int limit) {
        auto conn = connect();
        out_ << "Active runs per flow\n";
        {
            table t({"flow", "running", "oldest started"});
            const auto r = conn.execute(R"(
SELECT flow_slug, count(*), date_trunc('second', min(started_at))::text
  FROM pgflow.runs WHERE status = 'started' GROUP BY flow_slug ORDER BY flow_slug)");
            for (int i = 0; i < r.rows(); ++i) t.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2)});
            print_or_none(t);
        }
        out_ << "\nFailed tasks (newest first)\n";
        {
            table t({"failed at", "flow", "step", "task", "attempts", "run", "error"});
            const auto r = conn.execute(R"(
SELECT date_trunc('second', st.failed_at)::text, r.flow_slug, ss.step_slug, st.task_index, st.attempts_count,
       st.run_id::text, st.error_message, count(*) OVER ()
  FROM pgflow.step_tasks st
  JOIN pgflow.runs r ON st.run_id = r.run_id
  JOIN pgflow.step_states ss ON st.run_id = ss.run_id AND st.step_slug = ss.step_slug
 WHERE st.status = 'failed'
 ORDER BY st.failed_at DESC, st.run_id, st.step_slug, st.task_index
 LIMIT $1)",
                                        limit);
            for (int i = 0; i < r.rows(); ++i)
                t.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3), cell(r, i, 4), cell(r, i, 5),
                       abbreviated(one_line(cell(r, i, 6)), full, 120)});
            print_or_none(t);
            if (!r.empty() && r.get<long long>(0, 7) > r.rows())
                out_ << "  … " << r.get<long long>(0, 7) - r.rows() << " more (--limit)\n";
        }
        out_ << "\nAverage completion time by flow\n";
        {
            table t({"flow", "completed runs", "avg seconds", "max seconds"});
            const auto r = conn.execute(R"(
SELECT flow_slug, count(*),
       round(avg(extract(epoch FROM completed_at - started_at))::numeric, 3)::text,
       round(max(extract(epoch FROM completed_at - started_at))::numeric, 3)::text
  FROM pgflow.runs WHERE status = 'completed' GROUP BY flow_slug ORDER BY flow_slug)");
            for (int i = 0; i < r.rows(); ++i) t.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3)});
            print_or_none(t);
        }
        return pgflow::cli::success;
    }

    int run_status(const std::string& run_text, bool full) {
        const run_id id = parse_run_id(run_text);
        auto conn = connect();
        const auto run = conn.execute(R"(
SELECT flow_slug, status, input::text, output::text, remaining_steps,
       date_trunc('milliseconds', started_at)::text,
       date_trunc('milliseconds', coalesce(completed_at, failed_at))::text,
       round(extract(epoch FROM coalesce(completed_at, failed_at, now()) - started_at)::numeric, 3)::text
  FROM pgflow.runs WHERE run_id = $1::uuid)",
                                      id);
        if (run.empty()) throw error("pgflow: there is no run " + id.str() + " in this database");
        const std::string run_state = cell(run, 0, 1);
        out_ << "run " << id.str() << '\n';
        table facts({"flow", cell(run, 0, 0)});
        facts.add({"status", run_state});
        facts.add({"started", cell(run, 0, 5)});
        if (run_state == "started")
            facts.add({"running for", cell(run, 0, 7) + " s, " + cell(run, 0, 4) + " step(s) to go"});
        else
            facts.add({run_state, cell(run, 0, 6) + " (after " + cell(run, 0, 7) + " s)"});
        facts.add({"input", abbreviated(cell(run, 0, 2), full)});
        if (run_state == "completed") facts.add({"output", abbreviated(cell(run, 0, 3), full)});
        facts.print(out_);

        out_ << '\n';
        table steps({"step", "type", "status", "tasks done", "attempts", "started", "finished", "error"});
        const auto r = conn.execute(R"(
SELECT ss.step_slug, s.step_type, ss.status,
       (SELECT count(*) FILTER (WHERE t.status = 'completed') FROM pgflow.step_tasks t
         WHERE t.run_id = ss.run_id AND t.step_slug = ss.step_slug)::text
         || '/' || coalesce(ss.initial_tasks::text, '?'),
       (SELECT max(t.attempts_count) FROM pgflow.step_tasks t WHERE t.run_id = ss.run_id AND t.step_slug = ss.step_slug),
       date_trunc('milliseconds', ss.started_at)::text,
       date_trunc('milliseconds', coalesce(ss.completed_at, ss.failed_at))::text,
       ss.error_message
  FROM pgflow.step_states ss
  JOIN pgflow.steps s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
 WHERE ss.run_id = $1::uuid
 ORDER BY s.step_index)",
                                    id);
        for (int i = 0; i < r.rows(); ++i)
            steps.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3), cell(r, i, 4), cell(r, i, 5),
                       cell(r, i, 6), r.is_null(i, 7) ? "" : abbreviated(one_line(cell(r, i, 7)), full, 120)});
        steps.print(out_);
        return pgflow::cli::success;
    }

    // workers ------------------------------------------------------------------------------------
    int list_workers(bool all) {
        auto conn = connect();
        // A worker heartbeats every 5 s (pgflow's edge worker and pgflow::worker alike); three
        // missed beats make it "silent": crashed, or cut off from the database.
        const auto r = conn.execute(R"(
SELECT w.worker_id::text, w.queue_name, w.function_name,
       date_trunc('second', w.started_at)::text,
       round(extract(epoch FROM clock_timestamp() - w.last_heartbeat_at)::numeric, 1)::text || ' s ago',
       CASE WHEN w.deprecated_at IS NOT NULL THEN 'stopped'
            WHEN w.last_heartbeat_at < clock_timestamp() - interval '15 seconds' THEN 'silent'
            ELSE 'running' END,
       (SELECT count(*) FROM pgflow.step_tasks t WHERE t.last_worker_id = w.worker_id AND t.status = 'started')
  FROM pgflow.workers w
 WHERE $1 OR w.deprecated_at IS NULL
 ORDER BY w.queue_name, w.started_at, w.worker_id)",
                                    all);
        if (r.empty()) {
            out_ << (all ? "no workers have registered in this database\n"
                         : "no running workers (--all lists stopped ones too)\n");
            return pgflow::cli::success;
        }
        table t({"worker", "flow", "function", "started", "last heartbeat", "state", "tasks running"});
        for (int i = 0; i < r.rows(); ++i)
            t.add({cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3), cell(r, i, 4), cell(r, i, 5), cell(r, i, 6)});
        t.print(out_, "");
        return pgflow::cli::success;
    }

    // watch --------------------------------------------------------------------------------------
    int watch_run(const std::string& run_text, bool full, std::optional<double> timeout_seconds) {
        const run_id id = parse_run_id(run_text);
        const auto deadline = timeout_seconds ? std::optional(std::chrono::steady_clock::now() +
                                                              std::chrono::milliseconds{static_cast<long long>(*timeout_seconds * 1000)})
                                              : std::nullopt;
        auto conn = connect();
        const std::string channel = "pgflow:run:" + id.str();
        conn.listen(channel);  // before reading the state, so that no event slips in between

        const auto steps = conn.execute(R"(
SELECT ss.step_slug, ss.status FROM pgflow.step_states ss
  JOIN pgflow.steps s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
 WHERE ss.run_id = $1::uuid ORDER BY s.step_index)",
                                        id);
        auto outcome = final_state(conn, id);
        if (!outcome) throw error("pgflow: there is no run " + id.str() + " in this database");
        {
            std::string line = "run " + id.str() + " of flow " + outcome->flow + ": " + outcome->status;
            std::string separator = " (";
            for (int i = 0; i < steps.rows(); ++i, separator = ", ") {
                line += separator + cell(steps, i, 0) + " " + cell(steps, i, 1);
                if (cell(steps, i, 1) != "created") started_steps_.push_back(cell(steps, i, 0));
            }
            out_ << local_clock_time() << "  " << line << (steps.empty() ? "" : ")") << std::endl;
        }

        // Notifications carry the events; the state is also re-read twice a second in case the
        // database does not send them (pgflow 0.8.1's own SQL only uses Supabase Realtime), and to
        // see failed attempts that pgflow retries (retries send no event).
        const bool ended_before = outcome->status != "started";
        auto next_check = std::chrono::steady_clock::now() + std::chrono::milliseconds{500};
        while (outcome->status == "started") {
            while (auto n = conn.next_notification())
                if (n->channel == channel) {
                    notified_ = true;
                    print_retries(conn, id);  // so that a retried attempt shows before its step's event
                    print_event(n->payload, full);
                }
            const auto now = std::chrono::steady_clock::now();
            if (run_ended_ || now >= next_check) {  // a run-level event ends the watch; the row says how
                print_retries(conn, id);
                outcome = final_state(conn, id);
                next_check = now + std::chrono::milliseconds{500};
                if (outcome->status != "started") break;
            }
            if (deadline && now >= *deadline) {
                err_ << "pgflow: run " << id.str() << " is still running after " << *timeout_seconds << " s\n";
                return pgflow::cli::failure;
            }
            conn.wait_for_input(std::chrono::ceil<std::chrono::milliseconds>((deadline ? std::min(next_check, *deadline) : next_check) - now));
        }
        const bool completed = outcome->status == "completed";
        if (!ended_before && !run_ended_) out_ << local_clock_time() << "  run " << outcome->status << std::endl;
        if (completed) {
            out_ << "output: " << abbreviated(outcome->output, full) << '\n';
            return pgflow::cli::success;
        }
        out_ << "failed in step " << outcome->failed_step << ": " << outcome->error << '\n';
        return pgflow::cli::run_failed;
    }

    // Prints attempts that failed and were retried since the last call: a task keeps its last
    // error_message while it is queued again, started again or completed. Once events arrive,
    // only for steps whose start was printed: the table can be read before a step's step:started
    // notification has been (its attempt may fail in the meantime).
    void print_retries(pq::connection& conn, const run_id& id) {
        const auto r = conn.execute(R"(
SELECT step_slug, task_index,
       CASE WHEN status = 'queued' THEN attempts_count ELSE attempts_count - 1 END, error_message, status
  FROM pgflow.step_tasks
 WHERE run_id = $1::uuid AND error_message IS NOT NULL AND status <> 'failed'
 ORDER BY step_slug, task_index)",
                                    id);
        for (int i = 0; i < r.rows(); ++i) {
            if (notified_ && std::find(started_steps_.begin(), started_steps_.end(), cell(r, i, 0)) == started_steps_.end())
                continue;
            std::string key = cell(r, i, 0) + "[" + cell(r, i, 1) + "] attempt " + cell(r, i, 2);
            if (std::find(reported_retries_.begin(), reported_retries_.end(), key) != reported_retries_.end()) continue;
            out_ << local_clock_time() << "  task " << key << " failed: " << one_line(cell(r, i, 3))
                 << (cell(r, i, 4) == "queued" ? " (retry queued)" : " (retried)") << std::endl;
            reported_retries_.push_back(std::move(key));
        }
    }

    struct run_outcome {
        std::string flow, status, output, failed_step, error;
    };

    static std::optional<run_outcome> final_state(pq::connection& conn, const run_id& id) {
        const auto r = conn.execute(R"(
SELECT r.flow_slug, r.status, r.output::text, s.step_slug, s.error_message
  FROM pgflow.runs r
  LEFT JOIN LATERAL (SELECT step_slug, error_message FROM pgflow.step_states
                      WHERE run_id = r.run_id AND status = 'failed' ORDER BY failed_at LIMIT 1) s ON true
 WHERE r.run_id = $1::uuid)",
                                    id);
        if (r.empty()) return std::nullopt;
        return run_outcome{cell(r, 0, 0), cell(r, 0, 1), r.is_null(0, 2) ? "null" : cell(r, 0, 2), cell(r, 0, 3), cell(r, 0, 4)};
    }

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
        const auto& o = payload.as_object();
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
        } else if (type == "run:completed") {
            line = "run completed";
            run_ended_ = true;
        } else if (type == "run:failed") {
            line = "run failed";
            run_ended_ = true;
        } else {
            line = std::string(payload_text);
        }
        out_ << local_clock_time() << "  " << line << std::endl;
    }

    // helpers ------------------------------------------------------------------------------------
    // The first word that is neither an option nor an option's value, when it names no command.
    static std::optional<std::string> unknown_command(CLI::App& app, int argc, const char* const* argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "-d" || arg == "--database-url") {
                ++i;
                continue;
            }
            if (arg.starts_with("-")) continue;
            try {
                static_cast<void>(app.get_subcommand(std::string(arg)));
                return std::nullopt;
            } catch (const CLI::OptionNotFound&) {
                return std::string(arg);
            }
        }
        return std::nullopt;
    }

    pq::connection connect() const { return database_.connect(); }

    const known_flow& find_flow(const std::string& name) const {
        for (const auto& f : flows_)
            if (f.slug == name) return f;
        throw usage_error("pgflow: unknown flow " + detail::quoted(name) + "; this program knows: " + flow_list());
    }

    std::string flow_list() const {
        if (flows_.empty()) return "(none)";
        std::string list;
        for (const auto& f : flows_) list += (list.empty() ? "" : ", ") + f.slug;
        return list;
    }

    // The library's reading (depth limit, exact numbers) with the command line's exit status.
    static boost::json::value parse_input(std::string_view text) {
        try {
            return pgflow::parse_json(text, "the input");
        } catch (const json_parse_error& e) {
            if (!e.path().empty()) throw usage_error("pgflow: the input cannot be stored exactly: " + e.problem());
            throw usage_error("pgflow: the input is not valid JSON: " + e.problem());
        }
    }

    static run_id parse_run_id(const std::string& text) {
        try {
            return run_id{text};
        } catch (const invalid_argument_error&) {
            throw usage_error("pgflow: " + detail::quoted(text) +
                              " is not a run id (a UUID: 8-4-4-4-12 hex digits)");
        }
    }

    static std::string one_line(std::string text) {
        std::replace(text.begin(), text.end(), '\n', ' ');
        return text;
    }

    void print_or_none(const table& t) {
        if (t.empty())
            out_ << "  (none)\n";
        else
            t.print(out_);
    }

    int report(const std::exception& e, int status) {
        const std::string_view what = e.what();
        err_ << (what.starts_with("pgflow") ? "" : "pgflow: ") << what << '\n';
        return status;
    }

    int report_database_error(const database_error& e) {
        // 3F000 invalid_schema_name, 42P01 undefined_table, 42883 undefined_function: most likely
        // a database without the schema.
        if (e.sqlstate() == "3F000" || e.sqlstate() == "42P01" || e.sqlstate() == "42883") {
            err_ << e.what() << "\npgflow: is the pgflow schema installed in this database? `pgflow install` installs it\n";
            return pgflow::cli::failure;
        }
        return report(e, pgflow::cli::failure);
    }

    std::vector<known_flow> flows_;
    std::ostream& out_;
    std::ostream& err_;
    connection_options database_{std::string()};
    bool run_ended_ = false;
    bool notified_ = false;                   // the database sends run events
    std::vector<std::string> started_steps_;  // steps whose start was printed
    std::vector<std::string> reported_retries_;
};

}  // namespace pgflow::detail::cli

namespace pgflow::cli {

/// Runs the `pgflow` command line with `flows` (compiled flows, which must outlive the call, and
/// dynamic flows) as the flows it knows. Returns the process exit status (exit_status).
template <class... Flows>
int main(int argc, const char* const* argv, const Flows&... flows) {
    std::vector<detail::cli::known_flow> known;
    (known.push_back(detail::cli::describe_flow(flows)), ...);
    detail::cli::command_line command_line{std::move(known), std::cout, std::cerr};
    return command_line.run(argc, argv);
}

}  // namespace pgflow::cli
