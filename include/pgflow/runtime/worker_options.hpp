#pragma once
// pgflow::worker_options and pgflow::dispatch_function (public; <pgflow/worker.hpp> is where users
// find them), and what a worker's session reads of its worker.

#include <pgflow/connection_options.hpp>
#include <pgflow/error.hpp>
#include <pgflow/runtime/worker_observer.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow {

/// Runs the handler of a step: (step slug, task input, context) → step output. Throwing fails the
/// task with the exception's what().
using dispatch_function =
    std::function<boost::json::value(std::string_view step_slug, const boost::json::value& input, const task_context&)>;

struct worker_options {
    // pgflow 0.8.1's flow-worker defaults (docs/runtime.md, Worker).
    int batch_size = 10;                                 ///< most messages read per claim
    int max_concurrent = 10;                             ///< handler threads
    std::chrono::seconds visibility_timeout{2};          ///< vt of the queue read
    std::chrono::milliseconds poll_interval{100};        ///< shortest pause between empty claims
    std::chrono::milliseconds max_poll{2000};            ///< longest idle pause without a NOTIFY
    std::chrono::milliseconds heartbeat_interval{5000};  ///< pgflow.workers.last_heartbeat_at
    // pgflow-cpp's own.
    /// After a claim that found tasks and drained the queue, how long a queue notification waits
    /// before this worker claims again (the process's other idle workers take it meanwhile), when
    /// starts come in a stream: the claim's tasks arrived at least one per linger since this
    /// worker's previous claim that found tasks. An isolated start, or a trickle slower than that,
    /// is claimed at once; so are tasks the worker's own completion queued. Under a stream a worker
    /// otherwise claims one task per round trip; the linger gathers several, for fewer statements
    /// per task (docs/runtime.md, "Claim linger"). 0: claim on every notification, as pgflow 0.8.1's
    /// worker does on each poll.
    std::chrono::milliseconds claim_linger{25};
    std::chrono::milliseconds reconnect_delay{100};       ///< first pause after a lost connection
    std::chrono::milliseconds max_reconnect_delay{5000};  ///< the pause doubles up to this
    /// Time in-flight handlers get after stop (then their stop token is requested; what is not
    /// finished and reported a second later is left for its timeout).
    std::chrono::milliseconds shutdown_grace{10000};
    /// Largest JSON output a task may report; a larger one fails the task (retried like any
    /// failure) with an error naming the step, the size and this limit. jsonb holds at most 256 MB,
    /// and one big result holds up the worker's round trips while it is stored.
    std::size_t max_output_bytes = std::size_t{64} * 1024 * 1024;
    /// Longest time between two calls of pgflow_cpp.wake_due_waits, which ends due waits of steps
    /// without handlers (signal timeouts, sleeps, subflow retries) of every flow; the worker calls
    /// it sooner when the next wait is due sooner. Only on a schema that has such steps.
    std::chrono::milliseconds wait_check_interval{1000};
    /// pgflow.workers.function_name; empty: the program's name.
    std::string function_name;
    /// Register the flow (or verify the registered shape) when the worker starts. Needs a flow
    /// with a shape; a worker built from a bare dispatch function only checks the flow exists.
    bool ensure_registered = true;
    /// Diagnostics (connection lost, results that could not be stored, …); default: stderr.
    std::function<void(std::string_view)> log;
    /// Hooks called on claims and around each handler (runtime/worker_observer.hpp); none by
    /// default.
    worker_observer observer;
    /// Also run a pgflow::scheduler (<pgflow/scheduler.hpp>) while the worker runs: the workers
    /// that set it elect one scheduler through the database, which starts the due runs of every
    /// schedule (docs/schedules.md).
    bool run_scheduler = false;
};

namespace detail {

/// Throws invalid_argument_error, naming the option and the value given, for worker_options a
/// worker cannot run with (poll_interval > max_poll, say, would make its idle pause undefined).
inline void validate_worker_options(const worker_options& o) {
    auto refuse = [](const char* name, const std::string& rule, const std::string& got) {
        refuse_option("worker_options", name, rule, got);
    };
    auto positive = [&](long long v, const char* name, const char* unit) {
        if (v <= 0) refuse(name, "positive", std::to_string(v) + unit);
    };
    positive(o.batch_size, "batch_size", "");
    positive(o.max_concurrent, "max_concurrent", "");
    positive(o.visibility_timeout.count(), "visibility_timeout", " s");
    positive(o.heartbeat_interval.count(), "heartbeat_interval", " ms");
    positive(o.max_poll.count(), "max_poll", " ms");
    positive(o.reconnect_delay.count(), "reconnect_delay", " ms");
    positive(o.max_reconnect_delay.count(), "max_reconnect_delay", " ms");
    positive(o.wait_check_interval.count(), "wait_check_interval", " ms");
    // At least 1 ms: a zero pause would claim (or look for due waits) in a busy loop while a row
    // it needs is locked elsewhere.
    if (o.poll_interval.count() < 1 || o.poll_interval > o.max_poll)
        refuse("poll_interval", "between 1 ms and max_poll (" + std::to_string(o.max_poll.count()) + " ms)",
               std::to_string(o.poll_interval.count()) + " ms");
    if (o.claim_linger.count() < 0 || o.claim_linger > o.max_poll)
        refuse("claim_linger", "between 0 and max_poll (" + std::to_string(o.max_poll.count()) + " ms)",
               std::to_string(o.claim_linger.count()) + " ms");
    if (o.shutdown_grace.count() < 0)
        refuse("shutdown_grace", "zero or more", std::to_string(o.shutdown_grace.count()) + " ms");
    if (o.max_output_bytes == 0) refuse("max_output_bytes", "positive", "0");
}

/// A worker as its session sees it: set when the worker is built, except stuck_handlers.
struct worker_setup {
    connection_options db;
    std::string flow_slug;
    // Shared with the handler threads: an abandoned one may outlive the worker.
    std::shared_ptr<const dispatch_function> dispatch;
    worker_options options;
    std::string id;
    std::optional<flow_shape> shape;
    /// The flows its subflow steps run (children before their parents), registered before it.
    std::vector<flow_shape> child_shapes;
    /// options.observer's hooks; null when none is set. Shared with the handler threads.
    std::shared_ptr<observer_hooks> observer;
    /// Abandoned handlers that have not returned; read from any thread.
    std::atomic<int> stuck_handlers{0};
};

}  // namespace detail

}  // namespace pgflow
