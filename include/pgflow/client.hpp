#pragma once
// pgflow::client — installs the schema, registers flows, starts runs, reads their state and waits
// for their outcome (woken by the `pgflow:run:<run_id>` notifications the SQL core sends, not by
// polling). Typed for compiled flows, JSON for dynamic ones. One client is one connection: use it
// from one thread at a time.

#include <pgflow/connection_options.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/runtime/queries.hpp>
#include <pgflow/runtime/registration.hpp>
#include <pgflow/runtime/run_output.hpp>
#include <pgflow/runtime/run_control.hpp>
#include <pgflow/runtime/run_events.hpp>
#include <pgflow/runtime/run_state.hpp>
#include <pgflow/runtime/time.hpp>
#include <pgflow/runtime/uuid.hpp>
#include <pgflow/runtime/waiting.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/wait_steps.hpp>
#include <pgflow/error.hpp>
#include <pgflow/install.hpp>
#include <pgflow/json.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/sqlstate.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/shape.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace pgflow {

class client {
public:
    /// Connects lazily, on the first call that needs the database.
    explicit client(connection_options db = {}) : db_(std::move(db)) {}

    /// Installs or upgrades the pgflow schema (sql/install.sql, embedded in the headers) in one
    /// transaction. Idempotent.
    void install_schema(queue_mode queue = queue_mode::automatic) { install_schema(install_options{queue, false}); }
    void install_schema(const install_options& options) {
        retrying([&](pq::connection& c) { pgflow::install_schema(c, options); });
        capabilities_.reset();
    }

    /// Registers the flow (create_flow/add_step with its options) unless it is registered;
    /// otherwise verifies the registered shape and throws shape_mismatch_error listing every
    /// difference (pgflow flows are immutable: a changed flow needs a new slug).
    template <class F>
        requires requires(const F& f) {
            { shape_of(f) } -> std::convertible_to<flow_shape>;
        }
    void ensure_registered(const F& flow) {
        if constexpr (flow_type<F>) {  // the child flows of subflow steps first
            for (const flow_shape& shape : registration_shapes(flow)) ensure_registered(shape);
        } else {
            ensure_registered(flow_shape(shape_of(flow)));
        }
    }
    void ensure_registered(const flow_shape& shape) {
        retrying([&](pq::connection& c) { detail::ensure_registered(c, shape); });
    }

    /// Starts a run of a compiled or dynamic flow with a typed input; `id` chooses the run id.
    template <class F>
        requires requires { typename F::input_type; }
    pgflow::run_id start(const F& flow, const typename F::input_type& input,
                         const std::optional<pgflow::run_id>& id = {}) {
        if constexpr (std::is_same_v<typename F::input_type, boost::json::value>)
            return start(flow_slug_of(flow), input, id);
        else
            return start(flow_slug_of(flow), pgflow::to_json(input), id);
    }

    /// Starts a run of the flow `flow_slug` (pgflow.start_flow). Throws database_error with the
    /// server's message for input the flow refuses (e.g. a root map given a non-array) and
    /// pgflow::error for a flow that is not registered.
    pgflow::run_id start(std::string_view flow_slug, const boost::json::value& input,
                         const std::optional<pgflow::run_id>& id = {}) {
        // The id is chosen here when the caller did not, so that a start whose answer was lost
        // with the connection can be retried safely: a duplicate id on the retry means the first
        // attempt went through.
        return start_once(flow_slug, id ? *id : new_run_id(), [&](pq::connection& c, const pgflow::run_id& chosen) {
            start_flow(c, flow_slug, input, chosen);
        });
    }

    /// start() with options: with an idempotency key, at most one run per (flow, key) ever
    /// starts; later starts return its id (needs pgflow-cpp's schema, see run control). With a
    /// priority, pgflow_cpp.start_flow_with_priority (docs/flow_control.md).
    template <class F>
        requires requires { typename F::input_type; }
    pgflow::run_id start(const F& flow, const typename F::input_type& input, const start_options& options) {
        if constexpr (std::is_same_v<typename F::input_type, boost::json::value>)
            return start(flow_slug_of(flow), input, options);
        else
            return start(flow_slug_of(flow), pgflow::to_json(input), options);
    }
    pgflow::run_id start(std::string_view flow_slug, const boost::json::value& input, const start_options& options) {
        if (options.priority && options.idempotency_key)
            throw error("pgflow: client::start takes a priority or an idempotency key, not both");
        if (options.priority) {
            return start_once(flow_slug, options.run_id ? *options.run_id : new_run_id(),
                              [&](pq::connection& c, const pgflow::run_id& chosen) {
                                  start_with_priority(c, flow_slug, input, *options.priority, chosen);
                              });
        }
        return start_idempotent(flow_slug, input, options);
    }

private:
    // Starts with `starter(connection, id)`; the id is chosen by the caller, so that a start whose
    // answer was lost with the connection can be retried safely: a duplicate id on the retry means
    // the first attempt went through.
    template <class Starter>
    pgflow::run_id start_once(std::string_view flow_slug, const pgflow::run_id& chosen, Starter&& starter) {
        bool retried = false;
        try {
            retrying([&](pq::connection& c) {
                try {
                    starter(c, chosen);
                } catch (const database_error& e) {
                    if (retried && e.sqlstate() == pq::sqlstate::unique_violation && e.constraint_name() == "runs_pkey")
                        return;
                    retried = e.is_connection_error();
                    throw;
                }
            });
        } catch (const database_error& e) {
            if (e.sqlstate() == pq::sqlstate::foreign_key_violation && e.constraint_name() == "runs_flow_slug_fkey")
                throw not_registered(flow_slug);
            throw;
        }
        return chosen;
    }

    static void start_with_priority(pq::connection& c, std::string_view flow_slug, const boost::json::value& input,
                                    int priority, const pgflow::run_id& id) {
        try {
            c.execute("SELECT 1 FROM pgflow_cpp.start_flow_with_priority($1, $2::jsonb, $3::int, $4::uuid)", flow_slug,
                      input, priority, id);
        } catch (const database_error& e) {
            if (e.sqlstate() != pq::sqlstate::undefined_function && e.sqlstate() != pq::sqlstate::invalid_schema_name)
                throw;
            throw error(
                "pgflow: client::start with a priority needs pgflow-cpp's flow control "
                "(pgflow_cpp.start_flow_with_priority), which this database lacks: install pgflow-cpp's "
                "schema (`pgflow install` or client::install_schema)");
        }
    }

    pgflow::run_id start_idempotent(std::string_view flow_slug, const boost::json::value& input,
                                    const start_options& options) {
        if (!options.idempotency_key) return start(flow_slug, input, options.run_id);
        const pgflow::run_id chosen = options.run_id ? *options.run_id : new_run_id();
        try {
            // Safe to send again after a lost connection: the key makes it start once.
            return retrying([&](pq::connection& c) {
                detail::require_run_control(capabilities(c), "client::start with an idempotency key");
                return pgflow::run_id{std::string_view(c.execute(detail::run_control_sql::start_idempotent, flow_slug,
                                                                 input, *options.idempotency_key, chosen)
                                                           .text(0, 0))};
            });
        } catch (const database_error& e) {
            if (e.sqlstate() == pq::sqlstate::foreign_key_violation && e.constraint_name() == "runs_flow_slug_fkey")
                throw not_registered(flow_slug);
            throw;
        }
    }

public:
    /// Starts one run per input in one round trip and one transaction (pgflow_cpp.start_many):
    /// all of them or, when one input is refused, none (the database_error names its position).
    /// Returns the run ids in the order of `inputs`. Needs pgflow-cpp's schema.
    template <class F>
        requires requires { typename F::input_type; }
    std::vector<pgflow::run_id> start_many(const F& flow, const std::vector<typename F::input_type>& inputs) {
        if constexpr (std::is_same_v<typename F::input_type, boost::json::value>) {
            return start_many(flow_slug_of(flow), inputs);
        } else {
            std::vector<boost::json::value> json;
            json.reserve(inputs.size());
            for (const auto& input : inputs) json.push_back(pgflow::to_json(input));
            return start_many(flow_slug_of(flow), json);
        }
    }
    std::vector<pgflow::run_id> start_many(std::string_view flow_slug, const std::vector<boost::json::value>& inputs) {
        if (inputs.empty()) return {};
        // Ids chosen here, as in start(): a batch whose answer was lost is sent again safely (the
        // retry fails on runs_pkey, which means the first attempt started every run).
        std::vector<pgflow::run_id> ids;
        std::vector<std::string> id_texts, input_texts;
        for (const auto& input : inputs) {
            ids.push_back(new_run_id());
            id_texts.push_back(ids.back().str());
            input_texts.push_back(boost::json::serialize(input));
        }
        start_once(flow_slug, ids.front(), [&](pq::connection& c, const pgflow::run_id&) {
            start_many_call(c, pq::parameters(flow_slug, input_texts, id_texts));
        });
        return ids;
    }

    /// Cancels a started run: its queued and started tasks become `cancelled`, its running
    /// handlers see their stop token. False when it was already cancelled. Throws pgflow::error
    /// naming the run and its state for a finished or unknown run.
    bool cancel(const pgflow::run_id& id) {
        return retrying([&](pq::connection& c) {
            return detail::run_control_call(c, capabilities(c), "cancel", id, detail::run_control_sql::cancel)
                .get<bool>(0, 0);
        });
    }

    /// The typed form: `client.signal<"approval">(flow, run_id, Approval{...})`. Checked at compile
    /// time: Step is a signal step of `flow` and `value` is of its value type (wait_steps.hpp).
    template <fixed_string Step, flow_type Flow, class Value>
    void signal(const Flow&, const pgflow::run_id& id, const Value& value, int task_index = 0) {
        using expected = signal_value_t<Flow, Step, Value>;
        if constexpr (!std::is_same_v<expected, detail::invalid_output>)
            signal(id, Step.view(), json_codec<expected>::encode(value), task_index);
    }

    /// A new run of a failed or cancelled run's flow with the same input (restart_of = `id`);
    /// returns its id. A run is restarted (retried or resumed) at most once.
    pgflow::run_id retry(const pgflow::run_id& id) { return restart("retry", id, detail::run_control_sql::retry); }

    /// A new run of a failed or cancelled run that reuses its completed steps and map elements and
    /// runs only the rest; returns its id. Throws when the run is not of `flow`.
    template <class F>
        requires requires { typename F::input_type; }
    pgflow::run_id resume(const F& flow, const pgflow::run_id& id) {
        return resume(std::string_view(flow_slug_of(flow)), id);
    }
    pgflow::run_id resume(std::string_view flow_slug, const pgflow::run_id& id) {
        const auto r = retrying([&](pq::connection& c) { return c.execute(detail::run_control_sql::run_flow, id); });
        if (!r.empty() && r.text(0, 0) != flow_slug)
            throw error("pgflow: cannot resume run " + id.str() + " as flow \"" + std::string(flow_slug) +
                        "\": it is a run of flow \"" + std::string(r.text(0, 0)) + "\"");
        return resume(id);
    }
    pgflow::run_id resume(const pgflow::run_id& id) { return restart("resume", id, detail::run_control_sql::resume); }

    /// The run and its steps (and, on pgflow-cpp's schema, its cancellation and lineage).
    /// Throws pgflow::error for an unknown run id.
    run_state status(const pgflow::run_id& id) {
        auto r = retrying([&](pq::connection& c) { return c.execute(detail::queries::run_with_states, id); });
        if (r.is_null(0, 0)) throw error("pgflow: there is no run " + id.str());
        const auto doc = r.get<boost::json::value>(0, 0);
        const auto order = r.get<std::optional<boost::json::value>>(0, 1);
        auto state = detail::parse_run_state(doc, order ? *order : boost::json::value{});
        auto& c = connection();
        if (!capabilities(c).run_control) return state;
        if (auto row = detail::read_run_lineage(c, id)) {
            if (row->first == "cancelled") state.status = run_status::cancelled;
            if (row->first == "waiting") state.status = run_status::waiting;
            state.lineage = std::move(row->second);
        }
        state.waiting = detail::read_waiting_tasks(c, capabilities(c), id);
        return state;
    }

    /// Completes the waiting task `task_index` of the signal step `step_slug` with `value` (its
    /// output; the run goes on). Throws signal_refused_error, changing nothing, for an unknown run
    /// or step, a step that is not a signal step, a task that is not waiting (not ready yet,
    /// signalled already, failed, the run ended) or a value of the wrong shape. Not sent again
    /// after a lost connection: the first may have gone through.
    void signal(const pgflow::run_id& id, std::string_view step_slug, const boost::json::value& value,
                int task_index = 0) {
        auto& c = connection();
        detail::send_signal(c, capabilities(c), id, step_slug, value, task_index);
    }

    /// The run's tasks that wait without a worker (signals, sleeps, subflows), in step order.
    std::vector<waiting_task> waiting(const pgflow::run_id& id) {
        return retrying([&](pq::connection& c) { return detail::read_waiting_tasks(c, capabilities(c), id); });
    }

    /// Waits for the run to end and returns the flow's output (an object keyed by leaf step slug).
    /// Throws run_failed_error (failing step, its error message) for a failed run, timeout_error
    /// when `timeout` passes first. Survives a lost connection within the timeout. A timeout too long
    /// to add to the clock (milliseconds::max()) waits without a deadline; a negative one throws
    /// invalid_argument_error.
    boost::json::value wait(const pgflow::run_id& id, std::chrono::milliseconds timeout) {
        const auto deadline = detail::deadline_after(timeout, "client::wait: the timeout");
        const std::string channel = detail::run_channel(id.str());
        for (;;) {
            try {
                auto& c = connection();
                // Before reading the state, so that no event can slip between.
                const detail::listening listening{c, channel};
                // A safety net for databases whose SQL does not notify (pgflow 0.8.1's own):
                // the state is re-read now and then even without an event.
                auto recheck = std::chrono::milliseconds{50};
                for (;;) {
                    if (auto output = finished_output(c, id)) return std::move(*output);
                    const auto recheck_at = std::chrono::steady_clock::now() + recheck;
                    recheck = std::min(recheck * 2, std::chrono::milliseconds{1000});
                    if (!detail::wait_for_run_event(c, channel, std::min(recheck_at, deadline)) &&
                        std::chrono::steady_clock::now() >= deadline) {
                        if (auto output = finished_output(c, id)) return std::move(*output);
                        throw timeout_error("pgflow: run " + id.str() + " did not finish within " +
                                            std::to_string(timeout.count()) + " ms");
                    }
                }
            } catch (const database_error& e) {
                if (!e.is_connection_error() || std::chrono::steady_clock::now() >= deadline) throw;
                conn_.reset();
                std::this_thread::sleep_for(std::chrono::milliseconds{100});
            }
        }
    }

    /// wait() for a compiled or dynamic flow, decoding the output into the flow's output type.
    template <class F, class Rep, class Period>
        requires requires { typename F::output_type; }
    typename F::output_type wait(const F& flow, const pgflow::run_id& id, std::chrono::duration<Rep, Period> timeout) {
        auto output = wait(id, detail::saturating_milliseconds(timeout));
        if constexpr (std::is_same_v<typename F::output_type, boost::json::value>)
            return output;
        else
            return detail::decode_run_output<typename F::output_type>(flow_slug_of(flow), id, std::move(output));
    }

    template <class Rep, class Period>
    boost::json::value wait(const pgflow::run_id& id, std::chrono::duration<Rep, Period> timeout) {
        return wait(id, detail::saturating_milliseconds(timeout));
    }

    /// The client's connection (opened or re-opened on demand), for queries of your own.
    pq::connection& connection() {
        if (!conn_ || !conn_->is_ok()) {
            conn_.reset();
            capabilities_.reset();
            conn_.emplace(db_.connect());
        }
        return *conn_;
    }

    [[nodiscard]] const connection_options& options() const noexcept { return db_; }

private:
    static error not_registered(std::string_view flow_slug) {
        return error("pgflow: cannot start flow \"" + std::string(flow_slug) +
                     "\": it is not registered (client::ensure_registered registers it)");
    }

    // What the schema behind `c` (the client's connection) offers, probed once per connection.
    const detail::schema_capabilities& capabilities(pq::connection& c) {
        if (!capabilities_) {
            capabilities_ = detail::probe_capabilities(c);
            detail::prepare_client_statements(c, *capabilities_);
        }
        return *capabilities_;
    }

    // retry_run / resume_run. Not sent again after a lost connection: the first may have restarted
    // the run, and a second would be refused as "already restarted".
    pgflow::run_id restart(std::string_view action, const pgflow::run_id& id, std::string_view sql) {
        auto& c = connection();
        const auto r = detail::run_control_call(c, capabilities(c), action, id, sql);
        return pgflow::run_id{std::string_view(r.text(0, 0))};
    }

    // pgflow.start_flow. On pgflow-cpp's schema its NOTIFYs are deferred to a second transaction
    // of the same round trip, which writes no WAL (runtime/statements.hpp says why).
    void start_flow(pq::connection& c, std::string_view flow_slug, const boost::json::value& input,
                    const pgflow::run_id& id) {
        namespace s = detail::statements;
        if (!capabilities(c).defer_notifications) {
            c.execute_prepared(std::string(s::start_flow.name), flow_slug, input, id);
            return;
        }
        detail::run_with_deferred_notifications(
            c, {std::string(s::start_flow.name), {}, pq::parameters(flow_slug, input, id)});
    }

    // pgflow_cpp.start_many, its NOTIFYs deferred like start_flow's. $1 flow, $2 inputs, $3 run ids.
    void start_many_call(pq::connection& c, const pq::parameters& params) {
        static constexpr std::string_view sql =
            "SELECT count(*) FROM pgflow_cpp.start_many($1, $2::jsonb[], $3::uuid[])";
        if (!capabilities(c).run_control)  // pgflow-cpp's schema: start_many came with run control
            throw error(
                "pgflow: client::start_many needs pgflow-cpp's schema (pgflow_cpp.start_many); this "
                "database has pgflow 0.8.1's (client::install_schema installs pgflow-cpp's)");
        if (!capabilities(c).defer_notifications) {
            c.execute_with(sql, params);
            return;
        }
        detail::run_with_deferred_notifications(c, {{}, std::string(sql), params});
    }

    // Runs `action` on the connection; when the connection turns out to be broken (the server
    // restarted since the last call, say), once more on a new one.
    template <class Action>
    auto retrying(Action&& action) -> decltype(action(std::declval<pq::connection&>())) {
        try {
            return action(connection());
        } catch (const database_error& e) {
            if (!e.is_connection_error()) throw;
            conn_.reset();
        }
        return action(connection());
    }

    template <class F>
    static std::string flow_slug_of(const F& f) {
        if constexpr (requires { F::slug; })
            return std::string(F::slug);
        else
            return std::string(f.slug());
    }

    // The run's output when it completed, nullopt while it runs; throws when it failed.
    // A cancelled run is `failed` with no failed step: its error says it was cancelled.
    std::optional<boost::json::value> finished_output(pq::connection& c, const pgflow::run_id& id) {
        const auto row = detail::queries::read_run_outcome(c.execute(detail::queries::run_outcome, id));
        if (!row) throw error("pgflow: there is no run " + id.str());
        if (row->status == "completed") return row->output ? parse_json(*row->output) : boost::json::value{};
        if (row->status != "failed") return std::nullopt;
        auto message = row->error_message.value_or("");
        if (!row->failed_step && capabilities(c).run_control)
            if (const auto l = detail::read_run_lineage(c, id); l && l->first == "cancelled") message = "cancelled";
        throw run_failed_error(id.str(), row->failed_step.value_or(""), message);
    }

    connection_options db_;
    std::optional<pq::connection> conn_;
    // What the schema behind conn_ offers (probed again on every new connection).
    std::optional<detail::schema_capabilities> capabilities_;
};

}  // namespace pgflow
