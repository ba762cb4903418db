#pragma once
// pgflow::worker — runs one flow's tasks: claims them from the flow's queue (pgmq.read +
// pgflow.start_tasks), runs the handlers on max_concurrent threads and reports each result with
// pgflow.complete_task / pgflow.fail_task. Protocol of pgflow 0.8.1's edge worker (docs/runtime.md), plus:
// LISTEN/NOTIFY wake-ups (one listener per process and queue, each notification handed to one idle
// worker), batched acknowledgements (pgflow.complete_tasks when the schema has it), pipelined
// round trips, reconnection, a graceful stop, and deadlines: a handler running past its step's
// timeout has its stop token requested, and one that has still not returned a second later is
// abandoned (its thread replaced, its attempt reported as timed out).
//
//   pgflow::worker worker{db, order_processing};
//   pgflow::stop_on_signals signals;          // <pgflow/signals.hpp>: SIGINT/SIGTERM → stop
//   worker.run(signals.token());

#include <pgflow/connection_options.hpp>
#include <pgflow/runtime/backoff.hpp>
#include <pgflow/runtime/queue_listener.hpp>
#include <pgflow/runtime/registration.hpp>
#include <pgflow/runtime/thread_pool.hpp>
#include <pgflow/runtime/uuid.hpp>
#include <pgflow/runtime/wakeup.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json.hpp>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace pgflow {

/// Runs the handler of a step: (step slug, task input, context) → step output. Throwing fails the
/// task with the exception's what().
using dispatch_function =
    std::function<boost::json::value(std::string_view step_slug, const boost::json::value& input, const task_context&)>;

struct worker_options {
    // pgflow 0.8.1's flow-worker defaults (docs/runtime.md, Worker).
    int batch_size = 10;                                  ///< most messages read per claim
    int max_concurrent = 10;                              ///< handler threads
    std::chrono::seconds visibility_timeout{2};           ///< vt of the queue read
    std::chrono::milliseconds poll_interval{100};         ///< shortest pause between empty claims
    std::chrono::milliseconds max_poll{2000};             ///< longest idle pause without a NOTIFY
    std::chrono::milliseconds heartbeat_interval{5000};   ///< pgflow.workers.last_heartbeat_at
    // pgflow-cpp's own.
    std::chrono::milliseconds reconnect_delay{100};       ///< first pause after a lost connection
    std::chrono::milliseconds max_reconnect_delay{5000};  ///< the pause doubles up to this
    /// Time in-flight handlers get after stop (then their stop token is requested; what is not
    /// finished and reported a second later is left for its timeout).
    std::chrono::milliseconds shutdown_grace{10000};
    /// Largest JSON output a task may report; a larger one fails the task (retried like any
    /// failure) with an error naming the step, the size and this limit. jsonb holds at most 256 MB,
    /// and one big result holds up the worker's round trips while it is stored.
    std::size_t max_output_bytes = 64 * 1024 * 1024;
    /// pgflow.workers.function_name; empty: the program's name.
    std::string function_name;
    /// Register the flow (or verify the registered shape) when the worker starts. Needs a flow
    /// with a shape; a worker built from a bare dispatch function only checks the flow exists.
    bool ensure_registered = true;
    /// Diagnostics (connection lost, results that could not be stored, …); default: stderr.
    std::function<void(std::string_view)> log;
};

namespace detail {

template <class F>
concept runnable_flow = requires(const F& f) {
    make_dispatcher(f);
    { shape_of(f) } -> std::convertible_to<flow_shape>;
};

template <class F>
std::string flow_slug_of(const F& f) {
    if constexpr (requires { F::slug; })
        return std::string(F::slug);
    else
        return std::string(f.slug());
}

inline std::string program_name() {
#if defined(__GLIBC__)
    if (program_invocation_short_name != nullptr && *program_invocation_short_name != '\0')
        return program_invocation_short_name;
#endif
    return "pgflow-cpp";
}

}  // namespace detail

class worker {
public:
    /// A worker for a compiled flow (pgflow::flow<…>) or a pgflow::dynamic_flow.
    template <class F>
        requires detail::runnable_flow<F>
    worker(connection_options db, const F& flow, worker_options options = {})
        : worker(std::move(db), detail::flow_slug_of(flow), dispatch_function(make_dispatcher(flow)),
                 std::move(options)) {
        shape_ = shape_of(flow);
    }

    /// A worker for the flow `flow_slug` with a hand-written dispatcher; the flow must already be
    /// registered.
    worker(connection_options db, std::string flow_slug, dispatch_function dispatch, worker_options options = {})
        : db_(std::move(db)), flow_slug_(std::move(flow_slug)), dispatch_(std::make_shared<const dispatch_function>(std::move(dispatch))),
          options_(std::move(options)), id_(detail::random_uuid()) {
        auto positive = [&](long long v, const char* name) {
            if (v <= 0) throw error(std::string("pgflow: worker_options.") + name + " must be positive");
        };
        positive(options_.batch_size, "batch_size");
        positive(options_.max_concurrent, "max_concurrent");
        positive(options_.visibility_timeout.count(), "visibility_timeout");
        positive(options_.heartbeat_interval.count(), "heartbeat_interval");
        positive(options_.max_poll.count(), "max_poll");
        if (options_.max_output_bytes == 0) throw error("pgflow: worker_options.max_output_bytes must be positive");
        if (!*dispatch_) throw error("pgflow: worker needs a dispatch function");
        if (options_.function_name.empty()) options_.function_name = detail::program_name();
        if (!options_.log)
            options_.log = [](std::string_view line) {
                std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
            };
        db_ = db_.with_application_name("pgflow worker " + flow_slug_);
    }

    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    /// pgflow.workers.worker_id of this worker (a random UUID).
    [[nodiscard]] const std::string& id() const noexcept { return id_; }
    [[nodiscard]] const std::string& flow_slug() const noexcept { return flow_slug_; }

    /// False while a handler this worker abandoned (it ran more than a second past its step's
    /// timeout) has not returned. Such handlers' threads are replaced up to max_concurrent of them;
    /// past that the worker claims fewer tasks, down to none. Safe to call from any thread.
    [[nodiscard]] bool healthy() const noexcept { return stuck_handlers_.load() == 0; }
    /// How many abandoned handlers have not returned yet.
    [[nodiscard]] int stuck_handlers() const noexcept { return stuck_handlers_.load(); }

    /// Runs until `stop` is requested or the worker is deprecated in pgflow.workers: claims and
    /// runs tasks, reconnecting after a lost connection. On stop, in-flight handlers get
    /// shutdown_grace to finish (then their task_context stop token is requested), their results
    /// are reported (what is not, a second after that, is left to the tasks' timeouts), and the
    /// worker row gets deprecated_at. Throws for what retrying cannot fix:
    /// an unregistered flow, a shape that differs from the registered one. Runs once per worker.
    void run(std::stop_token stop = {}) {
        if (started_.exchange(true)) throw error("pgflow: worker::run may be called only once per worker");
        session s{*this, stop};
        s.run();
    }

private:
    using clock = std::chrono::steady_clock;

    struct claimed_task {
        std::string run_id, step_slug, input;
        int task_index = 0, attempt = 1;
    };

    struct ack {
        std::string run_id, step_slug;
        int task_index = 0;
        bool completed = true;
        std::string payload;  ///< output JSON when completed, error message when failed
        bool alone = false;   ///< report in a transaction of its own (its batch failed)
        int retries = 0;      ///< transient failures (deadlocks) so far
        /// A timed-out attempt's failure: recorded only while the task is still this worker's
        /// attempt `attempt` (the database may have handed it out again since).
        int attempt = 0;
    };

    // A step's timeout passed: the handler's stop token is requested. This much later, a handler
    // that has not returned is abandoned. Less than the 2 s after which the database hands the
    // task out again, so that the attempt is still this worker's when it is reported timed out.
    static constexpr std::chrono::seconds abandon_after{1};
    // Results are reported together up to this many bytes; a bigger one goes alone, so that a
    // round trip (with its heartbeat and claim) never waits on more than one big result.
    static constexpr std::size_t batch_bytes = 4 * 1024 * 1024;

    static std::string timed_out(int timeout, int attempt) {
        return "Task timed out after " + std::to_string(timeout) + " s: attempt " + std::to_string(attempt);
    }

    static constexpr int max_retries = 10;

    // Failures that say nothing about the statement itself: trying again may succeed.
    static bool is_transient(const database_error& e) {
        const auto& s = e.sqlstate();
        // 25P02: skipped because an earlier statement of its transaction failed.
        return s.rfind("40", 0) == 0 || s == "55P03" || s == "25P02";
    }

    // What a handler thread hands back to the loop: an ack, or nothing for a task it gave up
    // because the worker was stopping (its message reappears after the task's timeout).
    struct finished_task {
        std::uint64_t task = 0;  ///< running_task::id
        std::optional<ack> result;
    };

    // What handler threads share with the loop. Shared ownership: an abandoned handler may return
    // after its session (and worker) ended.
    struct mailbox {
        std::mutex mutex;
        std::vector<finished_task> inbox;
        int stuck_returned = 0;  ///< abandoned handlers that returned since the loop last looked
        detail::runtime_wakeup wake;
    };

    // One task's handler, as its thread and the loop see it.
    struct task_slot {
        std::stop_source stop;
        std::atomic<bool> timed_out{false};  ///< `stop` was requested for the deadline
        bool abandoned = false, finished = false;  ///< under mailbox::mutex
    };

    struct running_task {
        std::uint64_t id = 0;
        claimed_task task;
        int timeout = 0;
        clock::time_point deadline;  ///< claim + the step's timeout
        std::shared_ptr<task_slot> slot;
        bool stop_requested = false;
    };

    // One run(): the loop's state, owned by the calling thread except `box`.
    struct session {
        worker& w;
        std::stop_token stop;
        std::shared_ptr<mailbox> box = std::make_shared<mailbox>();
        detail::runtime_wakeup& wake = box->wake;
        detail::runtime_queue_listener::subscriber subscriber;
        std::shared_ptr<detail::runtime_queue_listener> listener;
        detail::runtime_thread_pool* pool = nullptr;
        std::vector<running_task> running;
        std::uint64_t next_task_id = 1;
        std::map<std::string, int, std::less<>> step_timeouts;  ///< seconds, read on each connection
        std::optional<pq::connection> conn;
        std::deque<ack> pending;
        int in_flight = 0;  ///< running handlers not abandoned
        bool capacity_logged = false;
        std::atomic<clock::time_point> stop_requested_at{clock::now()};
        bool stopping = false, handlers_cancelled = false, registered_checked = false;
        bool batch_function = false;  ///< the schema has pgflow.complete_tasks (checked per connection)
        bool defer_notifications = false;  ///< the schema can defer NOTIFYs (pgflow-cpp's own)
        bool one_statement_claim = false;  ///< the schema has pgflow_cpp.read_and_start_tasks
        clock::time_point next_claim = clock::now(), next_heartbeat = clock::now(), grace_end{};
        detail::runtime_backoff backoff{w.options_.reconnect_delay, w.options_.max_reconnect_delay};
        std::string queue_channel = "pgflow:queue:" + w.flow_slug_;

        session(worker& owner, std::stop_token token) : w(owner), stop(std::move(token)) {}

        void log(const std::string& line) const {
            w.options_.log("pgflow worker " + w.flow_slug_ + " " + w.id_.substr(0, 8) + ": " + line);
        }

        void run() {
            std::stop_callback wake_on_stop(stop, [this] {
                stop_requested_at = clock::now();
                wake.notify();
            });
            subscriber.wake = &wake;
            subscriber.log = &w.options_.log;
            listener = detail::runtime_queue_listener::acquire(w.db_, queue_channel);
            listener->subscribe(&subscriber);
            struct unsubscribe_guard {
                session& s;
                ~unsubscribe_guard() { s.listener->unsubscribe(&s.subscriber); }
            } unsubscribe{*this};
            std::exception_ptr failure;
            {
                // Abandoned handlers' threads are replaced up to max_concurrent of them.
                const auto threads = static_cast<std::size_t>(w.options_.max_concurrent);
                detail::runtime_thread_pool threads_pool(threads, 2 * threads);
                pool = &threads_pool;
                try {
                    loop();
                } catch (...) {
                    failure = std::current_exception();
                    // Handlers get the shutdown grace to return; the rest are abandoned.
                    for (auto& r : running) r.slot->stop.request_stop();
                    const auto until = clock::now() + w.options_.shutdown_grace;
                    while (!running.empty() && clock::now() < until) {
                        pause(std::chrono::ceil<std::chrono::milliseconds>(until - clock::now()));
                        collect_finished();
                    }
                    abandon_all();
                }
                pool = nullptr;
            }  // waits for the handler threads not abandoned
            if (failure) std::rethrow_exception(failure);
        }

        void connect() {
            conn.reset();
            conn.emplace(w.db_.connect());
            auto& c = *conn;
            if (!registered_checked) {
                if (w.shape_ && w.options_.ensure_registered) {
                    detail::ensure_registered(c, *w.shape_);
                } else if (c.execute("SELECT 1 FROM pgflow.flows WHERE flow_slug = $1", w.flow_slug_).empty()) {
                    throw error("pgflow: flow \"" + w.flow_slug_ +
                                "\" is not registered in the database; register it first "
                                "(pgflow::client::ensure_registered) before starting its worker");
                }
                registered_checked = true;
            }
            c.prepare("pgflow_complete",
                      "SELECT count(*) FROM pgflow.complete_task($1::uuid, $2, $3::int, $4::jsonb)");
            c.prepare("pgflow_fail", "SELECT count(*) FROM pgflow.fail_task($1::uuid, $2, $3::int, $4)");
            step_timeouts.clear();
            const auto timeouts = c.execute(R"(
SELECT s.step_slug, coalesce(s.opt_timeout, f.opt_timeout)
FROM pgflow.steps AS s JOIN pgflow.flows AS f ON f.flow_slug = s.flow_slug
WHERE s.flow_slug = $1)",
                                            w.flow_slug_);
            for (int r = 0; r < timeouts.rows(); ++r)
                step_timeouts[timeouts.get<std::string>(r, 0)] = timeouts.get<int>(r, 1);
            const auto capabilities = c.execute(
                "SELECT to_regprocedure('pgflow.complete_tasks(uuid[],text[],integer[],jsonb[])') IS NOT NULL, "
                "to_regprocedure('pgflow_cpp.publish_deferred_notifications(integer)') IS NOT NULL, "
                "to_regprocedure('pgflow_cpp.read_and_start_tasks(text,integer,integer,uuid)') IS NOT NULL, "
                "to_regprocedure('pgflow_cpp.fail_task_attempt(uuid,text,integer,integer,uuid,text)') IS NOT NULL");
            batch_function = capabilities.get<bool>(0, 0);
            defer_notifications = capabilities.get<bool>(0, 1);
            one_statement_claim = capabilities.get<bool>(0, 2);
            // A timed-out attempt fails only while the task is still this worker's attempt: the
            // row lock re-checks that against a concurrent claim of the reappearing message.
            // pgflow-cpp's schema does it in a function the worker role may execute (it has no
            // UPDATE on step_tasks there); on pgflow 0.8.1's own schema the worker locks the row.
            c.prepare("pgflow_fail_attempt", capabilities.get<bool>(0, 3) ? R"(
SELECT pgflow_cpp.fail_task_attempt($1::uuid, $2, $3::int, $6::int, $5::uuid, $4))"
                                                                          : R"(
SELECT count(*)
FROM (SELECT 1 FROM pgflow.step_tasks AS t
      WHERE t.run_id = $1::uuid AND t.step_slug = $2 AND t.task_index = $3::int AND t.status = 'started'
        AND t.last_worker_id = $5::uuid AND t.attempts_count = $6::int
      FOR UPDATE) AS mine
CROSS JOIN LATERAL pgflow.fail_task($1::uuid, $2, $3::int, $4) AS f)");
            // Claims commit without waiting for their WAL flush (synchronous_commit off for their
            // transaction only): a claim lost in a server crash is a claim never made (the message
            // reappears, the task is still queued or times out as if its worker had died), and
            // the acknowledgement that follows is synchronous, so it flushes the claim's WAL
            // before it is itself durable. Saves two of the three WAL flushes of an exchange.
            if (one_statement_claim) {
                // pgflow-cpp's schema reads and claims in one statement (one round trip and one
                // transaction less per claim): its start_tasks never stamps started_at before a
                // task's queued_at.
                c.prepare("pgflow_claim", R"(
SELECT c.messages, c.run_id, c.step_slug, c.task_index, c.input::text, c.attempt
FROM set_config('synchronous_commit', 'off', true) AS sc,
     pgflow_cpp.read_and_start_tasks($1, $2::int, $3::int, $4::uuid) AS c)");
            } else {
                // On pgflow 0.8.1's schema reading and claiming are separate transactions on
                // purpose: its start_tasks stamps started_at with now(), the transaction's start,
                // which must not precede the queued_at of the messages it claims (constraint
                // started_at_is_after_queued_at). A read inside the claiming statement could see
                // messages committed after it began.
                c.prepare("pgflow_read", R"(
SELECT m.msg_id
FROM set_config('synchronous_commit', 'off', true) AS sc, pgmq.read($1, $2::int, $3::int) AS m)");
                // start_tasks runs inside the statement, whose own snapshot still sees
                // attempts_count from before the claim: hence the + 1.
                c.prepare("pgflow_start_tasks", R"(
SELECT t.run_id, t.step_slug, t.task_index, t.input::text, st.attempts_count + 1
FROM set_config('synchronous_commit', 'off', true) AS sc
CROSS JOIN pgflow.start_tasks($1, $2::bigint[], $3::uuid) AS t
JOIN pgflow.step_tasks AS st
  ON st.run_id = t.run_id AND st.step_slug = t.step_slug AND st.task_index = t.task_index)");
            }
            if (defer_notifications) {
                // Acknowledgements defer their NOTIFYs and publish them in a second transaction of
                // the same round trip: a transaction that NOTIFYs holds PostgreSQL's database-wide
                // NOTIFY lock through its WAL flush, which serializes every completion of every
                // worker; the publishing transaction writes no WAL (see sql/pgflow/0065).
                c.prepare("pgflow_defer_notifications", "SELECT set_config('pgflow_cpp.defer_notifications', 'on', true)");
                c.prepare("pgflow_publish_notifications", "SELECT pgflow_cpp.publish_deferred_notifications()");
            }
            // Completions finished together are reported in one statement: one commit (WAL
            // flush) instead of one per task. pgflow-cpp's schema has pgflow.complete_tasks, which
            // completes map tasks set-wise; pgflow 0.8.1's own schema gets one complete_task per
            // element. Sorted by run, so that concurrent batches lock runs in the same order.
            c.prepare("pgflow_complete_batch", batch_function ? R"(
SELECT count(*) FROM pgflow.complete_tasks($1::uuid[], $2::text[], $3::int[], $4::jsonb[]))"
                                                               : R"(
SELECT count(*)
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[]) AS a(run_id, step_slug, task_index, output)
CROSS JOIN LATERAL pgflow.complete_task(a.run_id, a.step_slug, a.task_index, a.output) AS t)");
            c.prepare("pgflow_heartbeat", R"(
INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES ($1::uuid, $2, $3)
ON CONFLICT (worker_id) DO UPDATE SET last_heartbeat_at = clock_timestamp()
RETURNING deprecated_at IS NOT NULL)");
            const auto table = c.execute("SELECT pgmq.format_table_name($1, 'q')", w.flow_slug_).get<std::string>(0, 0);
            c.prepare("pgflow_next_visible", "SELECT (extract(epoch FROM min(vt) - clock_timestamp()) * 1000)::bigint FROM pgmq." +
                                                 c.quote_identifier(table));
            if (c.execute_prepared("pgflow_heartbeat", w.id_, w.flow_slug_, w.options_.function_name).get<bool>(0, 0))
                begin_stop("the worker is marked deprecated in pgflow.workers");
            next_heartbeat = clock::now() + w.options_.heartbeat_interval;
            next_claim = clock::now();
        }

        // The grace period counts from `since`: a stop request is noticed only between round
        // trips, which may be long (a big result being stored).
        void begin_stop(const std::string& why, clock::time_point since = clock::now()) {
            if (stopping) return;
            stopping = true;
            grace_end = since + w.options_.shutdown_grace;
            if (in_flight > 0) log("stopping (" + why + "); waiting for " + std::to_string(in_flight) + " running task(s)");
        }

        void collect_finished() {
            std::vector<finished_task> done;
            int returned = 0;
            {
                std::lock_guard lock(box->mutex);
                done.swap(box->inbox);
                returned = std::exchange(box->stuck_returned, 0);
            }
            for (auto& f : done) {
                --in_flight;
                std::erase_if(running, [&](const running_task& r) { return r.id == f.task; });
                if (f.result) pending.push_back(std::move(*f.result));
            }
            if (returned > 0) {
                const int still = w.stuck_handlers_ -= returned;
                log(std::to_string(returned) + " abandoned handler(s) returned at last; " + std::to_string(still) +
                    " still stuck" + (still == 0 ? ": the worker is healthy again" : ""));
            }
        }

        // Tasks this worker may claim now: free handler threads, fewer when abandoned handlers
        // left the pool short of threads.
        [[nodiscard]] int capacity() const {
            const auto threads = std::min(static_cast<std::size_t>(w.options_.max_concurrent), pool->available());
            return std::max(0, static_cast<int>(threads) - in_flight);
        }

        void submit(claimed_task task) {
            ++in_flight;
            auto slot = std::make_shared<task_slot>();
            const auto it = step_timeouts.find(task.step_slug);
            const int timeout = it != step_timeouts.end() ? it->second : 60;  // pgflow's default
            const auto id = next_task_id++;
            running.push_back(running_task{id, task, timeout, clock::now() + std::chrono::seconds{timeout}, slot});
            // The job holds no reference to the session or the worker: it may outlive both.
            pool->submit([box = box, slot = std::move(slot), id, task = std::move(task), dispatch = w.dispatch_,
                          flow_slug = w.flow_slug_, max_output = w.options_.max_output_bytes, timeout]() -> bool {
                finished_task f{id, std::nullopt};
                const auto token = slot->stop.get_token();
                auto failure = [&](std::string message, int attempt = 0) {
                    return ack{task.run_id, task.step_slug, task.task_index, false, std::move(message), false, 0, attempt};
                };
                try {
                    const auto input = parse_json(task.input, "the task input");
                    const task_context context{flow_slug, task.run_id, task.step_slug, task.task_index, task.attempt, token};
                    auto output = boost::json::serialize((*dispatch)(task.step_slug, input, context));
                    if (output.size() > max_output)
                        f.result = failure("pgflow worker: the output of step " + task.step_slug + " is " +
                                           std::to_string(output.size()) +
                                           " bytes of JSON, more than worker_options::max_output_bytes (" +
                                           std::to_string(max_output) + " bytes)");
                    else
                        f.result = ack{task.run_id, task.step_slug, task.task_index, true, std::move(output)};
                } catch (const std::exception& e) {
                    if (slot->timed_out)
                        f.result = failure(timed_out(timeout, task.attempt) + "'s handler stopped when asked: " + e.what(),
                                           task.attempt);
                    else if (!token.stop_requested())
                        f.result = failure(e.what());
                } catch (...) {
                    if (slot->timed_out)
                        f.result = failure(timed_out(timeout, task.attempt) + "'s handler stopped when asked", task.attempt);
                    else if (!token.stop_requested())
                        f.result = failure("the handler threw an exception not derived from std::exception");
                }
                std::lock_guard lock(box->mutex);
                if (slot->abandoned) {
                    ++box->stuck_returned;
                } else {
                    slot->finished = true;
                    box->inbox.push_back(std::move(f));
                }
                box->wake.notify();
                return slot->abandoned;
            });
        }

        // Gives up the handler of `r`, unless it has just finished. Returns whether it did.
        bool abandon(running_task& r, bool replace) {
            {
                std::lock_guard lock(box->mutex);
                if (r.slot->finished) return false;
                r.slot->abandoned = true;
            }
            pool->abandon(replace);
            --in_flight;
            ++w.stuck_handlers_;
            return true;
        }

        // Past a task's timeout its handler's stop token is requested; a second later a handler
        // that has not returned is abandoned and its attempt reported timed out.
        void enforce_deadlines(clock::time_point now) {
            for (auto it = running.begin(); it != running.end();) {
                auto& r = *it;
                if (!r.stop_requested && now >= r.deadline) {
                    r.slot->timed_out = true;
                    r.slot->stop.request_stop();
                    r.stop_requested = true;
                }
                if (now < r.deadline + abandon_after || !abandon(r, true)) {
                    ++it;
                    continue;
                }
                const auto& t = r.task;
                log("the handler of task " + t.step_slug + "[" + std::to_string(t.task_index) + "] of run " + t.run_id +
                    " (attempt " + std::to_string(t.attempt) + ") has not returned " + std::to_string(abandon_after.count()) +
                    " s after its timeout of " + std::to_string(r.timeout) + " s: its thread is abandoned and the attempt "
                    "reported timed out; the worker is unhealthy while " + std::to_string(w.stuck_handlers_.load()) +
                    " handler(s) are stuck");
                pending.push_back(ack{t.run_id, t.step_slug, t.task_index, false,
                                      timed_out(r.timeout, t.attempt) + "'s handler did not return; worker " + w.id_ +
                                          " abandoned its thread",
                                      false, 0, t.attempt});
                it = running.erase(it);
            }
        }

        // When enforce_deadlines has something to do next.
        [[nodiscard]] std::optional<clock::time_point> next_deadline() const {
            std::optional<clock::time_point> next;
            for (const auto& r : running) {
                const auto at = r.stop_requested ? r.deadline + abandon_after : r.deadline;
                if (!next || at < *next) next = at;
            }
            return next;
        }

        // Gives up every running handler, without reports: their tasks are left to their timeouts.
        void abandon_all() {
            for (auto& r : running) abandon(r, false);
            running.clear();
        }

        // Sleeps until the wake pipe fires or the time passes (no connection to wait on).
        void pause(std::chrono::milliseconds duration) {
            pollfd fd{wake.fd(), POLLIN, 0};
            int n;
            do {
                n = ::poll(&fd, 1, static_cast<int>(std::max<long long>(0, duration.count())));
            } while (n < 0 && errno == EINTR);
            wake.drain();
        }

        void lost_connection(const database_error& e) {
            log("lost the database connection (" + std::string(e.what()) + "); " + std::to_string(pending.size()) +
                " result(s) will be reported after reconnecting");
            conn.reset();
        }

        void loop() {
            // What becomes of a task this worker leaves unfinished (true whatever its run's state).
            static constexpr std::string_view left_to_timeout =
                "; a task left unfinished can be claimed again by a worker once its timeout has passed (timeout "
                "+ 2 s after it started): as a new attempt while attempts remain, otherwise it fails as timed "
                "out; a task of a failed run is not retried";
            for (;;) {
                collect_finished();
                if (stop.stop_requested()) begin_stop("stop requested", stop_requested_at.load());
                const auto now = clock::now();
                enforce_deadlines(now);
                if (stopping && !handlers_cancelled && in_flight > 0 && now >= grace_end) {
                    handlers_cancelled = true;
                    for (auto& r : running) r.slot->stop.request_stop();
                    log("shutdown grace period over: requested the stop token of " + std::to_string(in_flight) +
                        " running handler(s)" + std::string(left_to_timeout));
                }
                if (stopping && in_flight == 0 && pending.empty()) break;
                // A second after the grace period the worker stops, whatever is still running or
                // unreported (a handler ignoring its stop token, a slow or unreachable database).
                if (stopping && now >= grace_end + abandon_after) {
                    if (in_flight > 0)
                        log("abandoning " + std::to_string(in_flight) + " handler(s) that did not return after their stop token");
                    abandon_all();
                    if (!pending.empty())
                        log("giving up reporting " + std::to_string(pending.size()) + " result(s) while stopping" +
                            (conn ? "" : " (the database is unreachable)") + std::string(left_to_timeout));
                    if (in_flight == 0) break;
                }

                if (!conn) {
                    try {
                        connect();
                        backoff.reset();
                    } catch (const database_error& e) {
                        if (!e.is_connection_error()) throw;
                        conn.reset();
                        const auto delay = backoff.next();
                        log("cannot reach the database (" + std::string(e.what()) + "); retrying in " +
                            std::to_string(delay.count()) + " ms");
                        pause(delay);
                        continue;
                    }
                }

                if (exchange()) continue;
                wait_for_something();
            }
            if (conn) {
                try {
                    conn->execute("UPDATE pgflow.workers SET deprecated_at = now() WHERE worker_id = $1::uuid AND deprecated_at IS NULL",
                                  w.id_);
                } catch (const database_error& e) {
                    log("could not mark the worker stopped: " + std::string(e.what()));
                }
            }
        }

        // One round trip with everything due: results, heartbeat, a claim. Returns whether
        // anything was sent.
        bool exchange() {
            constexpr std::size_t max_acks = 100;
            const auto now = clock::now();
            std::vector<pq::pipelined_statement> statements;
            // Up to max_acks results and batch_bytes of them; one bigger result goes alone.
            std::size_t acks = 0;
            for (std::size_t bytes = 0; acks < std::min(pending.size(), max_acks); ++acks) {
                bytes += pending[acks].payload.size();
                if (bytes > batch_bytes && acks > 0) break;
            }
            std::vector<std::size_t> batch;  // indices into pending, in lock order
            for (std::size_t i = 0; i < acks; ++i)
                if (pending[i].completed && !pending[i].alone) batch.push_back(i);
            // A lone completion goes through complete_task: the batch function only pays off for two or more.
            if (batch.size() < 2) batch.clear();
            std::vector<bool> in_batch(acks, false);
            for (auto b : batch) in_batch[b] = true;
            std::vector<std::size_t> ack_at;  // where each acknowledgement is among the statements
            auto add_ack = [&](pq::pipelined_statement statement) {
                if (defer_notifications) statements.push_back({"pgflow_defer_notifications", {}, {}, true});
                ack_at.push_back(statements.size());
                statements.push_back(std::move(statement));
            };
            for (std::size_t i = 0; i < acks; ++i) {
                if (in_batch[i]) continue;
                const auto& a = pending[i];
                if (a.attempt > 0)
                    add_ack({"pgflow_fail_attempt", {},
                             pq::parameters(a.run_id, a.step_slug, a.task_index, a.payload, w.id_, a.attempt)});
                else
                    add_ack({a.completed ? "pgflow_complete" : "pgflow_fail", {},
                             pq::parameters(a.run_id, a.step_slug, a.task_index, a.payload)});
            }
            if (!batch.empty()) {
                std::sort(batch.begin(), batch.end(), [&](std::size_t x, std::size_t y) {
                    const auto& a = pending[x];
                    const auto& b = pending[y];
                    return std::tie(a.run_id, a.step_slug, a.task_index) < std::tie(b.run_id, b.step_slug, b.task_index);
                });
                std::vector<std::string_view> run_ids, step_slugs, outputs;
                std::vector<int> task_indexes;
                for (auto i : batch) {
                    run_ids.push_back(pending[i].run_id);
                    step_slugs.push_back(pending[i].step_slug);
                    task_indexes.push_back(pending[i].task_index);
                    outputs.push_back(pending[i].payload);
                }
                add_ack({"pgflow_complete_batch", {}, pq::parameters(run_ids, step_slugs, task_indexes, outputs)});
            }
            const bool heartbeat = now >= next_heartbeat;
            // After acknowledgements, and on every heartbeat: the latter also publishes what a
            // session that died between its two transactions left behind.
            const bool publish = defer_notifications && (!ack_at.empty() || heartbeat);
            if (publish) statements.push_back({"pgflow_publish_notifications", {}, {}});
            const std::size_t ack_statements = statements.size();
            if (heartbeat)
                statements.push_back({"pgflow_heartbeat", {}, pq::parameters(w.id_, w.flow_slug_, w.options_.function_name)});
            const int quantity = std::min(capacity(), w.options_.batch_size);
            if (!stopping && in_flight == 0 && quantity == 0 && !capacity_logged) {
                capacity_logged = true;
                log("claiming nothing: " + std::to_string(w.stuck_handlers_.load()) +
                    " abandoned handlers hold every thread the worker may run; restart the process");
            } else if (quantity > 0) {
                capacity_logged = false;
            }
            if (!stopping && quantity > 0 && now < next_claim && ack_statements > 0 && listener->take_kept_wake())
                next_claim = now;
            const bool claim = !stopping && quantity > 0 && now >= next_claim;
            if (claim) {
                const auto visibility = static_cast<long long>(w.options_.visibility_timeout.count());
                if (one_statement_claim)
                    statements.push_back({"pgflow_claim", {}, pq::parameters(w.flow_slug_, visibility, quantity, w.id_)});
                else
                    statements.push_back({"pgflow_read", {}, pq::parameters(w.flow_slug_, visibility, quantity)});
                statements.push_back({"pgflow_next_visible", {}, {}});
            }
            if (statements.empty()) return false;

            std::vector<pq::pipelined_outcome> outcomes;
            try {
                outcomes = conn->run_pipeline(statements);
            } catch (const database_error& e) {
                if (!e.is_connection_error()) throw;
                lost_connection(e);
                return true;
            }

            // Outcomes come in statement order: the lone acknowledgements (pending order), then
            // the batch, if any.
            std::vector<ack> requeue;
            std::size_t k = 0;  // index into ack_at
            const bool batched = !batch.empty();
            for (std::size_t p = 0; p < acks; ++p) {
                if (in_batch[p]) continue;
                ack& a = pending[p];
                if (const auto* e = std::get_if<database_error>(&outcomes[ack_at[k]])) {
                    if (is_transient(*e) && a.retries < max_retries) {
                        // A deadlock or serialization failure says nothing about the result.
                        ++a.retries;
                        requeue.push_back(std::move(a));
                    } else if (a.completed) {
                        // complete_task refused the output (e.g. a \u0000 in it): fail the task so
                        // that the run does not wait for a result that can never be stored.
                        log("could not store the output of " + describe(a) + ": " + e->what() + "; failing the task");
                        requeue.push_back(ack{a.run_id, a.step_slug, a.task_index, false,
                                              "pgflow worker: the database rejected the step output: " +
                                                  std::string(e->what()),
                                              true});
                    } else {
                        log("could not record the failure of " + describe(a) + ": " + e->what());
                    }
                }
                ++k;
            }
            if (batched) {
                if (const auto* e = std::get_if<database_error>(&outcomes[ack_at[k]])) {
                    // The statement is all or nothing. A deadlock or serialization failure says
                    // nothing about the results: send the batch again. Otherwise one output the
                    // database refuses sinks the batch: report each on its own, so that only
                    // that task fails.
                    const bool again = is_transient(*e) && std::all_of(batch.begin(), batch.end(), [&](std::size_t b) {
                                           return pending[b].retries < max_retries;
                                       });
                    if (!again)
                        log("reporting " + std::to_string(batch.size()) + " results together failed (" + e->what() +
                            "); reporting them one by one");
                    for (auto b : batch) {
                        if (again)
                            ++pending[b].retries;
                        else
                            pending[b].alone = true;
                        requeue.push_back(std::move(pending[b]));
                    }
                }
                ++k;
            }
            if (k != ack_at.size()) throw error("pgflow: internal error: acknowledgement outcomes out of step");
            if (publish) {
                // What failed to publish stays deferred for the next publication.
                if (const auto* e = std::get_if<database_error>(&outcomes[ack_statements - 1]))
                    log("publishing notifications failed: " + std::string(e->what()));
            }
            std::size_t i = ack_statements;
            pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(acks));
            for (auto& a : requeue) pending.push_back(std::move(a));
            if (heartbeat) {
                next_heartbeat = now + w.options_.heartbeat_interval;
                if (const auto* r = std::get_if<pq::result>(&outcomes[i])) {
                    if (!r->empty() && r->get<bool>(0, 0)) begin_stop("the worker is marked deprecated in pgflow.workers");
                } else {
                    log("heartbeat failed: " + std::string(std::get<database_error>(outcomes[i]).what()));
                }
                ++i;
            }
            if (claim) {
                const auto& claimed = outcomes[i];
                const auto& visible = outcomes[i + 1];
                if (const auto* e = std::get_if<database_error>(&claimed)) {
                    log("reading or claiming tasks failed: " + std::string(e->what()));
                    next_claim = now + w.options_.max_poll;
                    return true;
                }
                const auto& messages = std::get<pq::result>(claimed);
                int read_count = messages.rows();
                if (one_statement_claim) {
                    // One row per claimed task, each with the number of messages read (a row of
                    // nulls but that count when no message gave a task).
                    read_count = messages.empty() ? 0 : messages.get<int>(0, 0);
                    for (int r = 0; r < messages.rows(); ++r)
                        if (!messages.is_null(r, 1))
                            submit(claimed_task{messages.get<std::string>(r, 1), messages.get<std::string>(r, 2),
                                                      messages.get<std::string>(r, 4), messages.get<int>(r, 3),
                                                      messages.get<int>(r, 5)});
                } else if (!messages.empty()) {
                    std::vector<long long> ids;
                    for (int r = 0; r < messages.rows(); ++r) ids.push_back(messages.get<long long>(r, 0));
                    pq::result rows;
                    try {
                        rows = conn->execute_prepared("pgflow_start_tasks", w.flow_slug_, ids, w.id_);
                    } catch (const database_error& e) {
                        if (e.is_connection_error()) {
                            lost_connection(e);
                            return true;
                        }
                        // The messages reappear after visibility_timeout.
                        log("claiming tasks failed: " + std::string(e.what()));
                        next_claim = now + w.options_.max_poll;
                        return true;
                    }
                    for (int r = 0; r < rows.rows(); ++r)
                        submit(claimed_task{rows.get<std::string>(r, 0), rows.get<std::string>(r, 1),
                                                  rows.get<std::string>(r, 3), rows.get<int>(r, 2), rows.get<int>(r, 4)});
                }
                if (read_count == quantity) {
                    next_claim = now;  // a full claim: there may be more
                    listener->pass_on();
                } else {
                    // The queue is drained: sleep until the next message becomes visible (a retry,
                    // a start delay, a timed-out task), bounded by poll_interval and max_poll; a
                    // wake-up from the queue listener cuts the sleep short.
                    auto idle = w.options_.max_poll;
                    if (const auto* v = std::get_if<pq::result>(&visible); v && !v->empty() && !v->is_null(0, 0))
                        idle = std::clamp(std::chrono::milliseconds{v->get<long long>(0, 0) + 1}, w.options_.poll_interval,
                                          w.options_.max_poll);
                    next_claim = now + idle;
                }
            }
            return true;
        }

        void wait_for_something() {
            const bool can_claim = !stopping && capacity() > 0;
            if (subscriber.woken.exchange(false)) next_claim = clock::now();
            const auto now = clock::now();
            if (can_claim && next_claim <= now) return;
            // Idle for claiming: the listener may hand this worker the next notification, or one
            // it kept while every worker was busy.
            if (can_claim && listener->enter_idle(&subscriber)) {
                listener->leave_idle(&subscriber);
                next_claim = now;
                return;
            }
            auto until = next_heartbeat;
            if (can_claim) until = std::min(until, next_claim);
            if (stopping) until = std::min(until, handlers_cancelled ? grace_end + abandon_after : grace_end);
            if (const auto deadline = next_deadline()) until = std::min(until, *deadline);
            const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(until - now);
            if (timeout.count() > 0) {
                const auto why = conn->wait_for_input(timeout, wake.fd());
                if (why == pq::wait_result::wake) wake.drain();
                if (why == pq::wait_result::input) {
                    // The connection listens to nothing: input means an error or a closed
                    // connection, which reading reveals.
                    try {
                        while (conn->next_notification()) {
                        }
                    } catch (const database_error& e) {
                        lost_connection(e);
                    }
                }
            }
            if (can_claim) listener->leave_idle(&subscriber);
            if (subscriber.woken.exchange(false)) next_claim = clock::now();
        }

        static std::string describe(const ack& a) {
            return "task " + a.step_slug + "[" + std::to_string(a.task_index) + "] of run " + a.run_id;
        }
    };

    connection_options db_;
    std::string flow_slug_;
    // Shared with the handler threads: an abandoned one may outlive the worker.
    std::shared_ptr<const dispatch_function> dispatch_;
    worker_options options_;
    std::string id_;
    std::optional<flow_shape> shape_;
    std::atomic<bool> started_{false};
    std::atomic<int> stuck_handlers_{0};
};

}  // namespace pgflow
