#pragma once
// A worker's running handlers: each claimed task runs on a pool thread and posts its
// acknowledgement to a mailbox the session's loop collects. Deadlines: a handler running past its
// step's timeout has its stop token requested, and one that has still not returned a second later
// is abandoned (its thread replaced, its attempt reported as timed out).

#include <pgflow/detail/utf8.hpp>
#include <pgflow/error.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/runtime/acknowledgements.hpp>
#include <pgflow/runtime/claims.hpp>
#include <pgflow/runtime/thread_pool.hpp>
#include <pgflow/runtime/wakeup.hpp>
#include <pgflow/runtime/worker_options.hpp>
#include <pgflow/waits.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail {

using worker_clock = std::chrono::steady_clock;

// A step's timeout passed: the handler's stop token is requested. This much later, a handler that
// has not returned is abandoned. Less than the 2 s after which the database hands the task out
// again, so that the attempt is still this worker's when it is reported timed out.
inline constexpr std::chrono::seconds abandon_after{1};

// What becomes of a task a worker leaves unfinished (true whatever its run's state), for its logs.
inline constexpr std::string_view left_to_timeout =
    "; a task left unfinished can be claimed again by a worker once its timeout has passed (timeout "
    "+ 2 s after it started): as a new attempt while attempts remain, otherwise it fails as timed "
    "out; a task of a failed run is not retried";

inline void log_line(const worker_setup& w, const std::string& line) {
    w.options.log("pgflow worker " + w.flow_slug + " " + w.id.substr(0, 8) + ": " + line);
}

// What a handler thread hands back to the loop: an acknowledgement, or nothing for a task it gave
// up because the worker was stopping (its message reappears after the task's timeout).
struct finished_task {
    std::uint64_t task = 0;  ///< running_task::id
    std::optional<acknowledgement> result;
};

// What handler threads share with the loop. Shared ownership: an abandoned handler may return
// after its session (and worker) ended.
struct handler_mailbox {
    std::mutex mutex;
    std::vector<finished_task> inbox;
    int stuck_returned = 0;  ///< abandoned handlers that returned since the loop last looked
    runtime_wakeup wake;
};

// One task's handler, as its thread and the loop see it.
struct task_slot {
    std::stop_source stop;
    std::atomic<bool> timed_out{false};        ///< `stop` was requested for the deadline
    bool abandoned = false, finished = false;  ///< under handler_mailbox::mutex
};

struct running_task {
    std::uint64_t id = 0;
    claimed_task task;
    int timeout = 0;
    worker_clock::time_point deadline;  ///< claim + the step's timeout
    std::shared_ptr<task_slot> slot;
    bool stop_requested = false;          ///< for the deadline
    bool stop_requested_for_run = false;  ///< its run ended
};

// A task's failure; `attempt` only for a timed-out attempt's (see acknowledgement::attempt). The
// message (a handler's what(), any bytes) is made valid UTF-8, or the database would refuse it.
inline acknowledgement failure_of(const claimed_task& t, std::string_view message, int attempt = 0) {
    return {t.run_id, t.step_slug, t.task_index, false, valid_utf8(message), false, 0, attempt};
}

// One task's handler on a pool thread. Holds no reference to the session or the worker: it may
// outlive both.
struct handler_job {
    std::shared_ptr<handler_mailbox> box;
    std::shared_ptr<task_slot> slot;
    std::uint64_t id = 0;
    claimed_task task;
    std::shared_ptr<const dispatch_function> dispatch;
    std::string flow_slug;
    std::size_t max_output = 0;
    int timeout = 0;

    std::shared_ptr<observer_hooks> observer;  ///< null: no hooks

    // Returns whether the handler had been abandoned.
    bool operator()() {
        finished_task f{id, std::nullopt};
        const auto token = slot->stop.get_token();
        const bool observed = observer && observer->wants_task_events();
        const auto started_at = observed ? std::chrono::system_clock::now() : std::chrono::system_clock::time_point{};
        const auto started = observed ? worker_clock::now() : worker_clock::time_point{};
        if (observed) observer->task_started({flow_slug, task.step_slug, task.run_id, task.task_index, task.attempt});
        f.result = run_handler(token);
        if (observed) report_end(f.result, started_at, worker_clock::now() - started);
        std::lock_guard lock(box->mutex);
        if (slot->abandoned) {
            ++box->stuck_returned;
        } else {
            slot->finished = true;
            box->inbox.push_back(std::move(f));
        }
        box->wake.notify();
        return slot->abandoned;
    }

    // Calls the handler; its acknowledgement, or none when it was stopped.
    std::optional<acknowledgement> run_handler(const std::stop_token& token) {
        try {
            const auto input = parse_json(task.input, "the task input");
            const task_context context{flow_slug, task.run_id, task.step_slug, task.task_index, task.attempt, token};
            return completion_of(task.run_id, task.step_slug, task.task_index,
                                 boost::json::serialize((*dispatch)(task.step_slug, input, context)), max_output);
        } catch (const sleep_request& s) {
            // A sleep step: the database completes the task at `until`; no thread waits for it.
            acknowledgement sleep{task.run_id, task.step_slug, task.task_index, false, s.until_text()};
            sleep.sleep = true;
            return sleep;
        } catch (const permanent_error& e) {
            auto result = thrown(token, std::string("'s handler stopped when asked: ") + e.what(), e.what());
            if (result && result->attempt == 0) result->permanent = true;
            return result;
        } catch (const std::exception& e) {
            return thrown(token, std::string("'s handler stopped when asked: ") + e.what(), e.what());
        } catch (...) {
            return thrown(token, "'s handler stopped when asked",
                          "the handler threw an exception not derived from std::exception");
        }
    }

    void report_end(const std::optional<acknowledgement>& result, std::chrono::system_clock::time_point started_at,
                    worker_clock::duration took) const {
        auto outcome = task_outcome::stopped;
        std::string_view error;
        if (result) {
            outcome = result->completed   ? task_outcome::completed
                      : result->sleep     ? task_outcome::sleeping
                      : result->attempt   ? task_outcome::timed_out
                      : result->permanent ? task_outcome::failed_permanently
                                          : task_outcome::failed;
            if (!result->completed && !result->sleep) error = result->payload;
        }
        observer->task_ended({flow_slug, task.step_slug, task.run_id, task.task_index, task.attempt, outcome, error,
                              started_at, std::chrono::duration_cast<std::chrono::nanoseconds>(took)});
    }

    // The failure of a handler that threw: timed out, or its own error; none when it was stopped.
    std::optional<acknowledgement> thrown(const std::stop_token& token, const std::string& timed_out_suffix,
                                          std::string_view message) const {
        if (slot->timed_out)
            return failure_of(task, timed_out_message(timeout, task.attempt) + timed_out_suffix, task.attempt);
        if (token.stop_requested()) return std::nullopt;
        return failure_of(task, message);
    }
};

// The handlers of one session: owned by the loop's thread, except the mailbox.
class worker_handlers {
public:
    explicit worker_handlers(worker_setup& w) : w_(w) {}

    std::shared_ptr<handler_mailbox> box = std::make_shared<handler_mailbox>();
    runtime_thread_pool* pool = nullptr;
    std::vector<running_task> running;
    int in_flight = 0;                                      ///< running handlers not abandoned
    std::map<std::string, int, std::less<>> step_timeouts;  ///< seconds, read on each connection

    // Moves the finished handlers' acknowledgements to `pending`.
    void collect(std::deque<acknowledgement>& pending) {
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
            const int still = w_.stuck_handlers -= returned;
            log_line(w_, std::to_string(returned) + " abandoned handler(s) returned at last; " + std::to_string(still) +
                             " still stuck" + (still == 0 ? ": the worker is healthy again" : ""));
        }
    }

    // Tasks this worker may claim now: free handler threads, fewer when abandoned handlers left the
    // pool short of threads.
    [[nodiscard]] int capacity() const {
        const auto threads = std::min(static_cast<std::size_t>(w_.options.max_concurrent), pool->available());
        return std::max(0, static_cast<int>(threads) - in_flight);
    }

    void submit(claimed_task task) {
        ++in_flight;
        auto slot = std::make_shared<task_slot>();
        const auto it = step_timeouts.find(task.step_slug);
        const int timeout = it != step_timeouts.end() ? it->second : 60;  // pgflow's default
        const auto id = next_task_id_++;
        running.push_back(running_task{id, task, timeout, worker_clock::now() + std::chrono::seconds{timeout}, slot});
        pool->submit(handler_job{box, std::move(slot), id, std::move(task), w_.dispatch, w_.flow_slug,
                                 w_.options.max_output_bytes, timeout, w_.observer});
    }

    void request_stop_all() {
        for (auto& r : running) r.slot->stop.request_stop();
    }

    // The runs of handlers that have run `at_least` (those worth asking the database about: a
    // cancel of a short task is left to its refused completion). Distinct, not yet stopped.
    [[nodiscard]] std::vector<std::string> long_running_runs(worker_clock::time_point now,
                                                             worker_clock::duration at_least) const {
        std::vector<std::string> runs;
        for (const auto& r : running)
            if (!r.stop_requested && !r.stop_requested_for_run &&
                now - (r.deadline - std::chrono::seconds{r.timeout}) >= at_least &&
                std::find(runs.begin(), runs.end(), r.task.run_id) == runs.end())
                runs.push_back(r.task.run_id);
        return runs;
    }

    // When the earliest handler still watched by long_running_runs was claimed.
    [[nodiscard]] std::optional<worker_clock::time_point> oldest_watched_claim() const {
        std::optional<worker_clock::time_point> oldest;
        for (const auto& r : running)
            if (!r.stop_requested && !r.stop_requested_for_run) {
                const auto at = r.deadline - std::chrono::seconds{r.timeout};
                if (!oldest || at < *oldest) oldest = at;
            }
        return oldest;
    }

    // The run ended (cancelled, or failed by another task): its handlers' stop tokens are
    // requested; a handler that then throws reports nothing, one that returns is refused.
    int request_stop_run(std::string_view run_id) {
        int stopped = 0;
        for (auto& r : running)
            if (r.task.run_id == run_id && !r.stop_requested && !r.stop_requested_for_run) {
                r.stop_requested_for_run = true;
                r.slot->stop.request_stop();
                ++stopped;
            }
        return stopped;
    }

    // Past a task's timeout its handler's stop token is requested; a second later a handler that
    // has not returned is abandoned and its attempt reported timed out (to `pending`).
    void enforce_deadlines(worker_clock::time_point now, std::deque<acknowledgement>& pending) {
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
            log_line(w_, "the handler of task " + t.step_slug + "[" + std::to_string(t.task_index) + "] of run " +
                             t.run_id + " (attempt " + std::to_string(t.attempt) + ") has not returned " +
                             std::to_string(abandon_after.count()) + " s after its timeout of " +
                             std::to_string(r.timeout) +
                             " s: its thread is abandoned and the attempt reported timed out; the worker is "
                             "unhealthy while " +
                             std::to_string(w_.stuck_handlers.load()) + " handler(s) are stuck");
            pending.push_back(failure_of(t,
                                         timed_out_message(r.timeout, t.attempt) +
                                             "'s handler did not return; worker " + w_.id + " abandoned its thread",
                                         t.attempt));
            it = running.erase(it);
        }
    }

    // When enforce_deadlines has something to do next.
    [[nodiscard]] std::optional<worker_clock::time_point> next_deadline() const {
        std::optional<worker_clock::time_point> next;
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

private:
    // Gives up the handler of `r`, unless it has just finished. Returns whether it did.
    bool abandon(running_task& r, bool replace) {
        {
            std::lock_guard lock(box->mutex);
            if (r.slot->finished) return false;
            r.slot->abandoned = true;
        }
        pool->abandon(replace);
        --in_flight;
        ++w_.stuck_handlers;
        return true;
    }

    worker_setup& w_;
    std::uint64_t next_task_id_ = 1;
};

}  // namespace pgflow::detail
