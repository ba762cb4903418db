#pragma once
// pgflow::worker_observer: hooks a worker calls when it claims tasks, starts a handler and ends
// one, for tracing (OpenTelemetry spans), metrics or logging. Public through <pgflow/worker.hpp>
// (worker_options::observer); docs/runtime.md, "Observer hooks".

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow {

/// A claim round trip that succeeded (also one that found nothing: `tasks == 0`).
struct claim_event {
    std::string_view flow_slug, worker_id;
    int requested = 0;      ///< most tasks asked for (free handler threads, at most batch_size)
    int messages_read = 0;  ///< queue messages read
    int tasks = 0;          ///< tasks started and handed to handler threads
};

/// A task's handler is about to be called.
struct task_start_event {
    std::string_view flow_slug, step_slug, run_id;
    int task_index = 0;
    int attempt = 1;  ///< 1 for the first attempt
};

/// What the worker makes of an attempt. The database may still refuse a result (the run was
/// cancelled or failed meanwhile); that is not reported here.
enum class task_outcome {
    completed,           ///< the handler returned; its output is reported
    failed,              ///< it threw (or its output was too large): retried while attempts remain
    failed_permanently,  ///< it threw pgflow::permanent_error: the run fails without retries
    timed_out,           ///< it threw after its step's timeout had requested its stop token
    stopped,             ///< it threw after its stop token was requested (worker stopping, run ended): nothing reported
    sleeping,            ///< a sleep step's deadline was computed: the task waits until then without a worker
};

[[nodiscard]] constexpr std::string_view to_string(task_outcome o) noexcept {
    switch (o) {
        case task_outcome::completed: return "completed";
        case task_outcome::failed: return "failed";
        case task_outcome::failed_permanently: return "failed_permanently";
        case task_outcome::timed_out: return "timed_out";
        case task_outcome::stopped: return "stopped";
        case task_outcome::sleeping: return "sleeping";
    }
    return "unknown";
}

/// A task's handler returned or threw.
struct task_end_event {
    std::string_view flow_slug, step_slug, run_id;
    int task_index = 0;
    int attempt = 1;
    task_outcome outcome = task_outcome::completed;
    std::string_view error_message;                    ///< empty when completed
    std::chrono::system_clock::time_point started_at;  ///< wall clock, for exporting spans
    std::chrono::nanoseconds duration{0};              ///< the handler's run time (steady clock)
};

/// Hooks, each optional (an unset one costs one test of a std::function). They run on the
/// worker's own threads, so they must be quick and must not block: hand the event to your
/// exporter's queue. A hook that throws does not disturb the worker: the exception is caught and
/// the first one is logged (worker_options::log).
///  - on_claim: on the thread that called worker::run, after each claim round trip.
///  - on_task_start, on_task_end: on the handler's pool thread, right before and after the
///    handler, so thread-local context (a tracing span made current) set in on_task_start is seen
///    by the handler and can be closed in on_task_end. A handler that is abandoned (it did not
///    return a second after its timeout) reaches on_task_end only if it ever returns.
struct worker_observer {
    std::function<void(const claim_event&)> on_claim;
    std::function<void(const task_start_event&)> on_task_start;
    std::function<void(const task_end_event&)> on_task_end;

    [[nodiscard]] bool empty() const noexcept { return !on_claim && !on_task_start && !on_task_end; }
};

namespace detail {

// The hooks of one worker as its threads call them: shared with handler threads (an abandoned
// handler may outlive the worker), exceptions caught, the first one logged.
class observer_hooks {
public:
    observer_hooks(worker_observer hooks, std::function<void(std::string_view)> log, std::string who)
        : hooks_(std::move(hooks)), log_(std::move(log)), who_(std::move(who)) {}

    void claimed(const claim_event& e) noexcept {
        if (hooks_.on_claim) call("on_claim", hooks_.on_claim, e);
    }
    void task_started(const task_start_event& e) noexcept {
        if (hooks_.on_task_start) call("on_task_start", hooks_.on_task_start, e);
    }
    void task_ended(const task_end_event& e) noexcept {
        if (hooks_.on_task_end) call("on_task_end", hooks_.on_task_end, e);
    }
    [[nodiscard]] bool wants_task_events() const noexcept {
        return static_cast<bool>(hooks_.on_task_start) || static_cast<bool>(hooks_.on_task_end);
    }

private:
    template <class Event>
    void call(const char* hook, const std::function<void(const Event&)>& f, const Event& e) noexcept {
        try {
            f(e);
        } catch (...) {
            if (logged_.test_and_set()) return;
            std::string what = "an exception not derived from std::exception";
            try {
                throw;
            } catch (const std::exception& x) {
                what = x.what();
            } catch (...) {
            }
            try {
                log_(who_ + ": worker_observer::" + hook + " threw (" + what +
                     "); the worker carries on; further exceptions from its hooks are not logged");
            } catch (...) {
            }
        }
    }

    worker_observer hooks_;
    std::function<void(std::string_view)> log_;
    std::string who_;
    std::atomic_flag logged_;
};

/// The hooks of a worker, or none when every hook is unset (then nothing is called or measured).
inline std::shared_ptr<observer_hooks> make_observer_hooks(const worker_observer& o,
                                                           const std::function<void(std::string_view)>& log,
                                                           std::string who) {
    if (o.empty()) return nullptr;
    return std::make_shared<observer_hooks>(o, log, std::move(who));
}

}  // namespace detail

}  // namespace pgflow
