#pragma once
// One pgflow::worker::run(): the loop that connects (and reconnects), and in each round trip
// reports finished tasks, sends the heartbeat and claims tasks (exchange), then sleeps until
// something is due: a handler finished, a queue notification, a deadline, the next claim.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/acknowledgements.hpp>
#include <pgflow/runtime/backoff.hpp>
#include <pgflow/runtime/claims.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/runtime/queries.hpp>
#include <pgflow/runtime/queue_listener.hpp>
#include <pgflow/runtime/registration.hpp>
#include <pgflow/runtime/statements.hpp>
#include <pgflow/runtime/stop_sequence.hpp>
#include <pgflow/runtime/thread_pool.hpp>
#include <pgflow/runtime/wait_waker.hpp>
#include <pgflow/runtime/worker_handlers.hpp>
#include <pgflow/runtime/worker_options.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pgflow::detail {

class worker_session {
public:
    worker_session(worker_setup& w, std::stop_token stop) : w_(w), stop_(std::move(stop)) {}

    void run() {
        std::stop_callback wake_on_stop(stop_, [this] {
            stop_requested_at_ = worker_clock::now();
            wake_.notify();
        });
        subscriber_.wake = &wake_;
        subscriber_.log = &w_.options.log;
        listener_ = runtime_queue_listener::acquire(w_.db, queue_channel(w_.flow_slug));
        listener_->subscribe(&subscriber_);
        struct unsubscribe_guard {
            worker_session& s;
            ~unsubscribe_guard() { s.listener_->unsubscribe(&s.subscriber_, s.owes_claim_); }
        } unsubscribe{*this};
        std::exception_ptr failure;
        {
            // Abandoned handlers' threads are replaced up to max_concurrent of them.
            const auto threads = static_cast<std::size_t>(w_.options.max_concurrent);
            runtime_thread_pool threads_pool(threads, 2 * threads);
            handlers_.pool = &threads_pool;
            try {
                loop();
            } catch (...) {
                failure = std::current_exception();
                // Handlers get the shutdown grace to return; the rest are abandoned.
                handlers_.request_stop_all();
                const auto until = worker_clock::now() + w_.options.shutdown_grace;
                while (!handlers_.running.empty() && worker_clock::now() < until) {
                    wake_.sleep_for(std::chrono::ceil<std::chrono::milliseconds>(until - worker_clock::now()));
                    handlers_.collect(pending_);
                }
                handlers_.abandon_all();
            }
            handlers_.pool = nullptr;
        }  // waits for the handler threads not abandoned
        if (failure) std::rethrow_exception(failure);
    }

private:
    using clock = worker_clock;

    // A handler running this long has its run's state checked every ended_check_every (in the
    // round trips, one small SELECT), so that a cancelled run's handlers see their stop token
    // within a second. Short tasks cost nothing: a cancel only refuses their completion.
    static constexpr std::chrono::milliseconds ended_check_after{300}, ended_check_every{400};

    void log(const std::string& line) const { log_line(w_, line); }

    void connect() {
        conn_.reset();
        conn_.emplace(w_.db.connect());
        has_connected_ = true;  // what follows may fail too (a dropped database), as a lost connection
        auto& c = *conn_;
        if (!registered_checked_) {
            check_registered(c);
            registered_checked_ = true;
        }
        handlers_.step_timeouts.clear();
        const auto timeouts = c.execute(statements::step_timeouts, w_.flow_slug);
        for (int r = 0; r < timeouts.rows(); ++r)
            handlers_.step_timeouts[timeouts.get<std::string>(r, 0)] = timeouts.get<int>(r, 1);
        caps_ = probe_capabilities(c);
        linger_ = claim_linger_policy::for_schema(w_.options.claim_linger, caps_.woken_queues);
        prepare_worker_statements(c, caps_, w_.flow_slug);
        if (c.execute_prepared(std::string(statements::heartbeat.name), w_.id, w_.flow_slug, w_.options.function_name)
                .get<bool>(0, 0))
            begin_stop("the worker is marked deprecated in pgflow.workers");
        warm_up_claims(c, caps_, w_.flow_slug, w_.id);
        next_heartbeat_ = clock::now() + w_.options.heartbeat_interval;
        next_claim_ = clock::now();
    }

    void check_registered(pq::connection& c) {
        if (w_.shape && w_.options.ensure_registered) {
            for (const auto& child : w_.child_shapes) ensure_registered(c, child);
            ensure_registered(c, *w_.shape);
        } else if (c.execute(queries::flow_registered, w_.flow_slug).empty()) {
            throw error("pgflow: flow \"" + w_.flow_slug +
                        "\" is not registered in the database; register it first "
                        "(pgflow::client::ensure_registered) before starting its worker");
        }
    }

    // The grace period counts from `since` (stop_sequence::begin).
    void begin_stop(const std::string& why, clock::time_point since = clock::now()) {
        if (!shutdown_.begin(since, w_.options.shutdown_grace)) return;
        listener_->stop_taking(&subscriber_, owes_claim_);  // a wake-up it will not claim on goes to another worker
        owes_claim_ = false;
        // What the stop waits for and how long: the log tells a slow stop from a hung one.
        if (handlers_.in_flight > 0 || !pending_.empty()) {
            const auto give_up =
                std::chrono::duration_cast<std::chrono::milliseconds>(w_.options.shutdown_grace + abandon_after);
            log("stopping (" + why + "): " + std::to_string(handlers_.in_flight) + " running task(s), " +
                std::to_string(pending_.size()) + " result(s) to report; what is left " +
                std::to_string(give_up.count()) + " ms after the stop request is given up");
        }
    }

    void lost_connection(const database_error& e) {
        log("lost the database connection (" + std::string(e.what()) + "); " + std::to_string(pending_.size()) +
            " result(s) will be reported after reconnecting");
        conn_.reset();
    }

    // The stopping side of a loop iteration. Returns whether the loop is done.
    bool stop_is_done(clock::time_point now) {
        const auto stage = shutdown_.at(now, handlers_.in_flight, pending_.size());
        if (stage.cancel_handlers) {
            handlers_.request_stop_all();
            log("shutdown grace period over: requested the stop token of " + std::to_string(handlers_.in_flight) +
                " running handler(s)" + std::string(left_to_timeout));
        }
        if (stage.done) return true;
        // A second after the grace period the worker stops, whatever is still running or
        // unreported (a handler ignoring its stop token, a slow or unreachable database).
        if (stage.give_up) {
            if (handlers_.in_flight > 0)
                log("abandoning " + std::to_string(handlers_.in_flight) +
                    " handler(s) that did not return after their stop token");
            handlers_.abandon_all();
            if (!pending_.empty())
                log("giving up reporting " + std::to_string(pending_.size()) + " result(s) while stopping" +
                    (conn_ ? "" : " (the database is unreachable)") + std::string(left_to_timeout));
            if (handlers_.in_flight == 0) return true;
        }
        return false;
    }

    // Connects when not connected. Returns whether there is a connection (else it paused).
    bool connected() {
        if (conn_) return true;
        try {
            connect();
            backoff_.reset();
            return true;
        } catch (const database_error& e) {
            if (!reconnecting_waits_out(e, has_connected_)) throw;
            conn_.reset();
            const auto delay = backoff_.next();
            log("cannot reach the database (" + std::string(e.what()) + "); retrying in " +
                std::to_string(delay.count()) + " ms");
            wake_.sleep_for(delay);
            return false;
        }
    }

    void loop() {
        for (;;) {
            handlers_.collect(pending_);
            if (stop_.stop_requested()) begin_stop("stop requested", stop_requested_at_.load());
            const auto now = clock::now();
            handlers_.enforce_deadlines(now, pending_);
            if (stop_is_done(now)) break;
            if (!connected()) continue;
            if (exchange()) continue;
            wait_for_something();
        }
        if (!conn_) return;
        try {
            conn_->execute(statements::deprecate_worker, w_.id);
        } catch (const database_error& e) {
            log("could not mark the worker stopped: " + std::string(e.what()));
        }
    }

    // One round trip with everything due: results, heartbeat, a claim. Returns whether anything
    // was sent.
    bool exchange() {
        const auto now = clock::now();
        const bool heartbeat = now >= next_heartbeat_;
        const auto plan = plan_acknowledgements(pending_, caps_, heartbeat);
        auto pipeline = pipeline_of(plan, pending_, w_.id);
        if (heartbeat)
            pipeline.push_back({std::string(statements::heartbeat.name),
                                {},
                                pq::parameters(w_.id, w_.flow_slug, w_.options.function_name)});
        std::vector<std::string> watched;
        if (now >= next_ended_check_) watched = handlers_.long_running_runs(now, ended_check_after);
        if (!watched.empty()) {
            next_ended_check_ = now + ended_check_every;
            pipeline.push_back({std::string(statements::ended_runs.name), {}, pq::parameters(watched)});
        }
        const bool wake = !shutdown_.stopping() && caps_.handlerless_steps && waker_.due(now);
        if (wake) wait_waker::add(pipeline);
        const int quantity = claim_quantity(now, !plan.statements.empty());
        const bool ask_next_visible = quantity > 0 && ask_next_visible_;
        owes_claim_ = owes_claim_ && quantity == 0;
        if (quantity > 0)
            add_claim(pipeline,
                      {caps_.read_and_start_tasks, w_.flow_slug, w_.id, w_.options.visibility_timeout,
                       ask_next_visible ? std::optional{w_.options.max_poll} : std::nullopt},
                      quantity);
        if (pipeline.empty()) return false;

        std::vector<pq::pipelined_outcome> outcomes;
        std::optional<database_error> lost;
        try {
            outcomes = conn_->run_pipeline(pipeline);
        } catch (pq::pipeline_interrupted& e) {
            // Lost after the claim committed, in the next-visible query that ends the pipeline:
            // settle it all, so that the claimed tasks run now instead of after their timeout.
            if (!ask_next_visible || !caps_.read_and_start_tasks || e.confirmed.size() + 1 != pipeline.size()) {
                lost_connection(e);
                return true;
            }
            outcomes = std::move(e.confirmed);
            outcomes.emplace_back(static_cast<const database_error&>(e));
            lost = e;
        } catch (const database_error& e) {  // while sending: nothing was read
            if (!e.is_connection_error()) throw;
            lost_connection(e);
            return true;
        }
        // Outcomes come in statement order: acknowledgements, heartbeat, ended runs, waits, claim.
        std::vector<const database_error*> errors;
        for (std::size_t k = 0; k < plan.statements.size(); ++k)
            errors.push_back(std::get_if<database_error>(&outcomes[k]));
        for (const auto& line : settle_acknowledgements(pending_, plan, errors).log) log(line);
        // The next step of a run this worker advanced is no start to gather: it is claimed at once, also
        // when another worker of the process began the linger.
        if (queue_fed_by(plan, outcomes, w_.flow_slug)) listener_->end_linger(now);
        std::size_t i = plan.statements.size();
        if (heartbeat) settle_heartbeat(outcomes[i++], now);
        if (!watched.empty()) settle_ended_runs(outcomes[i++]);
        if (wake) {
            if (auto line = waker_.settle(outcomes[i], outcomes[i + 1], now)) log(*line);
            i += 2;
        }
        if (quantity > 0) settle_claim(outcomes[i], ask_next_visible ? &outcomes[i + 1] : nullptr, quantity, now);
        if (lost) lost_connection(*lost);
        return true;
    }

    // How many tasks this round trip claims; 0: none.
    int claim_quantity(clock::time_point now, bool acknowledging) {
        if (shutdown_.stopping()) return 0;
        const int quantity = std::min(handlers_.capacity(), w_.options.batch_size);
        if (quantity == 0) {
            if (handlers_.in_flight == 0 && !std::exchange(capacity_logged_, true))
                log("claiming nothing: " + std::to_string(w_.stuck_handlers.load()) +
                    " abandoned handlers hold every thread the worker may run; restart the process");
            return 0;
        }
        capacity_logged_ = false;
        if (now < next_claim_ && acknowledging && listener_->take_kept_wake()) next_claim_ = now;
        return now >= next_claim_ ? quantity : 0;
    }

    void settle_heartbeat(const pq::pipelined_outcome& outcome, clock::time_point now) {
        next_heartbeat_ = now + w_.options.heartbeat_interval;
        if (const auto* r = std::get_if<pq::result>(&outcome)) {
            if (!r->empty() && r->get<bool>(0, 0)) begin_stop("the worker is marked deprecated in pgflow.workers");
        } else {
            log("heartbeat failed: " + std::string(std::get<database_error>(outcome).what()));
        }
    }

    void settle_ended_runs(const pq::pipelined_outcome& outcome) {
        const auto* r = std::get_if<pq::result>(&outcome);
        if (r == nullptr) {
            log("checking the runs of running handlers failed: " +
                std::string(std::get<database_error>(outcome).what()));
            return;
        }
        for (int row = 0; row < r->rows(); ++row) {
            const auto run = r->get<std::string>(row, 0);
            if (const int n = handlers_.request_stop_run(run); n > 0)
                log("run " + run + " ended (cancelled, or failed in another task): requested the stop token of " +
                    std::to_string(n) + " running handler(s)");
        }
    }

    void settle_claim(const pq::pipelined_outcome& claimed, const pq::pipelined_outcome* visible, int quantity,
                      clock::time_point now) {
        if (const auto* e = std::get_if<database_error>(&claimed)) {
            log("reading or claiming tasks failed: " + std::string(e->what()));
            next_claim_ = now + w_.options.max_poll;
            ask_next_visible_ = true;
            return;
        }
        const auto& rows = std::get<pq::result>(claimed);
        int read_count = rows.rows();
        std::vector<claimed_task> tasks;
        if (caps_.read_and_start_tasks) {
            read_count = messages_read_of(rows);
            tasks = claimed_tasks_of(rows);
        } else if (!rows.empty()) {
            auto started = start_tasks(message_ids_of(rows), now);
            if (!started) return;
            tasks = claimed_tasks_of(*started);
        }
        const auto claimed_count = static_cast<int>(tasks.size());
        for (auto& t : tasks) handlers_.submit(std::move(t));
        if (w_.observer) w_.observer->claimed({w_.flow_slug, w_.id, quantity, read_count, claimed_count});
        const bool drained = read_count < quantity;
        ask_next_visible_ = drained;
        // The process's listener keeps the queue's notifications while the linger lasts (wake_ledger.hpp).
        if (const auto until = linger_.claimed(read_count, drained, now)) listener_->linger(*until);
        if (drained) listener_->drained(now);
        if (read_count == quantity) {
            next_claim_ = now;  // a full claim: there may be more
            listener_->pass_on();
            return;
        }
        // Drained: sleep until the next message becomes visible or a wake-up.
        next_claim_ = now + idle_after_drain(visible, w_.options.poll_interval, w_.options.max_poll);
    }

    // pgflow 0.8.1's second step of a claim: a round trip of its own.
    std::optional<pq::result> start_tasks(const std::vector<long long>& ids, clock::time_point now) {
        try {
            return conn_->execute_prepared(std::string(statements::start_tasks.name), w_.flow_slug, ids, w_.id);
        } catch (const database_error& e) {
            if (e.is_connection_error()) {
                lost_connection(e);
                return std::nullopt;
            }
            // The messages reappear after visibility_timeout.
            log("claiming tasks failed: " + std::string(e.what()));
            next_claim_ = now + w_.options.max_poll;
            return std::nullopt;
        }
    }

    void wait_for_something() {
        const bool can_claim = !shutdown_.stopping() && handlers_.capacity() > 0;
        if (subscriber_.woken.exchange(false)) woken_at(clock::now());
        const auto now = clock::now();
        if (can_claim && next_claim_ <= now) return;
        // Idle for claiming: the listener may hand this worker the next notification, or one it
        // kept (every worker busy, or a linger of the process that has ended).
        if (can_claim && listener_->enter_idle(&subscriber_)) {
            listener_->leave_idle(&subscriber_);
            next_claim_ = now;
            owes_claim_ = true;
            return;
        }
        auto until = next_heartbeat_;
        if (can_claim) until = std::min(until, next_claim_);
        if (!shutdown_.stopping() && caps_.handlerless_steps) until = std::min(until, waker_.next());
        if (shutdown_.stopping()) until = std::min(until, shutdown_.next_due());
        if (const auto deadline = handlers_.next_deadline()) until = std::min(until, *deadline);
        if (const auto claimed = handlers_.oldest_watched_claim())
            until = std::min(until, std::max(next_ended_check_, *claimed + ended_check_after));
        const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(until - now);
        if (timeout.count() > 0) wait_on_connection(timeout);
        if (can_claim) listener_->leave_idle(&subscriber_);
        if (subscriber_.woken.exchange(false)) woken_at(clock::now());
    }

    // A wake-up: claim now. (The listener keeps notifications during a linger of the process; a
    // full claim's pass-on and a reconnection wake idle workers whenever they come.)
    void woken_at(clock::time_point now) {
        next_claim_ = std::min(next_claim_, now);
        owes_claim_ = true;
    }

    void wait_on_connection(std::chrono::milliseconds timeout) {
        const auto why = conn_->wait_for_input(timeout, wake_.fd());
        if (why == pq::wait_result::wake) wake_.drain();
        if (why != pq::wait_result::input) return;
        // The connection listens to nothing: input means an error or a closed connection, which
        // reading reveals.
        try {
            while (conn_->next_notification()) {
            }
        } catch (const database_error& e) {
            lost_connection(e);
        }
    }

    worker_setup& w_;
    std::stop_token stop_;
    worker_handlers handlers_{w_};
    runtime_wakeup& wake_ = handlers_.box->wake;
    runtime_queue_listener::subscriber subscriber_;
    std::shared_ptr<runtime_queue_listener> listener_;
    std::optional<pq::connection> conn_;
    schema_capabilities caps_;  ///< of the schema behind conn_
    std::deque<acknowledgement> pending_;
    bool capacity_logged_ = false, has_connected_ = false;  ///< has_connected_: this run() has had a connection
    std::atomic<clock::time_point> stop_requested_at_{clock::now()};
    bool registered_checked_ = false;
    stop_sequence shutdown_{abandon_after};
    bool ask_next_visible_ = true;  ///< the last claim drained the queue (or there was none yet)
    bool owes_claim_ = false;       ///< took a wake-up and has sent no claim since (handed on if it stops)
    clock::time_point next_claim_ = clock::now(), next_heartbeat_ = clock::now();
    claim_linger_policy linger_{w_.options.claim_linger};  ///< whether a claim begins a linger of the process
    clock::time_point next_ended_check_{};
    runtime_backoff backoff_{w_.options.reconnect_delay, w_.options.max_reconnect_delay};
    wait_waker waker_{w_.options.wait_check_interval, w_.options.poll_interval};
};

}  // namespace pgflow::detail
