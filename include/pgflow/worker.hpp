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
#include <pgflow/dispatch.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/runtime/uuid.hpp>
#include <pgflow/runtime/worker_options.hpp>
#include <pgflow/runtime/worker_session.hpp>
#include <pgflow/scheduler.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace pgflow {

// dispatch_function and worker_options: <pgflow/runtime/worker_options.hpp>.

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

/// What a worker wraps in its dispatch_function: a compiled flow's dispatcher as its dispatch_table
/// base, whose type is named by counts alone (std::function's wrappers around a dispatcher<Flow>
/// are named after every step: some 25 functions and type-info objects of 64 kB names for 500
/// steps, each costing g++ about 40 ms at -O0); a dynamic flow as make_dispatcher copied it, moved.
template <std::size_t N, std::size_t E>
dispatch_table<N, E> runtime_dispatcher(const dispatch_table<N, E>& dispatcher) noexcept {
    return dispatcher;
}
inline dynamic_flow runtime_dispatcher(dynamic_flow&& f) { return std::move(f); }

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
        : worker(std::move(db), detail::flow_slug_of(flow),
                 dispatch_function(detail::runtime_dispatcher(make_dispatcher(flow))), std::move(options)) {
        w_.shape = shape_of(flow);
        if constexpr (flow_type<F>) {
            w_.child_shapes = registration_shapes(flow);
            w_.child_shapes.pop_back();  // the flow itself comes last
        }
    }

    /// A worker for the flow `flow_slug` with a hand-written dispatcher; the flow must already be
    /// registered.
    worker(connection_options db, std::string flow_slug, dispatch_function dispatch, worker_options options = {}) {
        w_.db = std::move(db);
        w_.flow_slug = std::move(flow_slug);
        w_.dispatch = std::make_shared<const dispatch_function>(std::move(dispatch));
        w_.options = std::move(options);
        w_.id = detail::random_uuid();
        auto& o = w_.options;
        detail::validate_worker_options(o);
        if (!*w_.dispatch) throw error("pgflow: worker needs a dispatch function");
        if (o.function_name.empty()) o.function_name = detail::program_name();
        if (!o.log)
            o.log = [](std::string_view line) {
                std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
            };
        w_.db = w_.db.with_application_name("pgflow worker " + w_.flow_slug);
        w_.observer =
            detail::make_observer_hooks(o.observer, o.log, "pgflow worker " + w_.flow_slug + " " + w_.id.substr(0, 8));
    }

    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    /// pgflow.workers.worker_id of this worker (a random UUID).
    [[nodiscard]] const std::string& id() const noexcept { return w_.id; }
    [[nodiscard]] const std::string& flow_slug() const noexcept { return w_.flow_slug; }

    /// False while a handler this worker abandoned (it ran more than a second past its step's
    /// timeout) has not returned. Such handlers' threads are replaced up to max_concurrent of them;
    /// past that the worker claims fewer tasks, down to none. Safe to call from any thread.
    [[nodiscard]] bool healthy() const noexcept { return w_.stuck_handlers.load() == 0; }
    /// How many abandoned handlers have not returned yet.
    [[nodiscard]] int stuck_handlers() const noexcept { return w_.stuck_handlers.load(); }

    /// Runs until `stop` is requested or the worker is deprecated in pgflow.workers: claims and
    /// runs tasks, reconnecting after a lost connection. On stop, in-flight handlers get
    /// shutdown_grace to finish (then their task_context stop token is requested), their results
    /// are reported (what is not, a second after that, is left to the tasks' timeouts), and the
    /// worker row gets deprecated_at. Throws for what retrying cannot fix:
    /// an unregistered flow, a shape that differs from the registered one. Runs once per worker.
    void run(std::stop_token stop = {}) {
        if (started_.exchange(true)) throw error("pgflow: worker::run may be called only once per worker");
        std::jthread scheduler_thread;
        if (w_.options.run_scheduler) scheduler_thread = start_scheduler();  // stopped and joined on return
        detail::worker_session s{w_, std::move(stop)};
        s.run();
    }

private:
    // A scheduler that fails (no schedule tables, no privilege, a statement timeout) logs why and
    // starts again after a pause that doubles up to a minute: schedules must not stop firing
    // unnoticed while the worker goes on.
    std::jthread start_scheduler() {
        scheduler_options o;
        o.log = w_.options.log;
        return std::jthread([this, o = std::move(o)](std::stop_token stop) {
            std::chrono::seconds pause{1};
            while (!stop.stop_requested()) {
                const auto started = std::chrono::steady_clock::now();
                try {
                    scheduler{w_.db, o}.run(stop);
                    return;
                } catch (const std::exception& e) {
                    // A scheduler that ran for a while before failing starts the back-off afresh.
                    if (std::chrono::steady_clock::now() - started >= std::chrono::minutes{1})
                        pause = std::chrono::seconds{1};
                    w_.options.log(std::string("pgflow worker ") + w_.flow_slug + ": the scheduler stopped: " +
                                   e.what() + "; starting it again in " + std::to_string(pause.count()) + " s");
                }
                detail::pause_unless_stopped(stop, pause);
                pause = std::min(pause * 2, std::chrono::seconds{60});
            }
        });
    }

    detail::worker_setup w_;
    std::atomic<bool> started_{false};
};

}  // namespace pgflow
