#pragma once
// Acknowledgements (a task's completion or failure, reported to the database) as pure functions:
// what a handler's outcome becomes, which statements a round trip sends for the pending ones
// (plan_acknowledgements), and what their results mean (settle_acknowledgements): settled,
// retried, reported alone, or lost. No connection here; runtime/worker_session.hpp sends the plan.

#include <pgflow/error.hpp>
#include <pgflow/runtime/statements.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace pgflow::detail {

/// One task's result, waiting to be reported.
struct acknowledgement {
    std::string run_id, step_slug;
    int task_index = 0;
    bool completed = true;
    std::string payload;  ///< output JSON when completed, error message when failed
    bool alone = false;   ///< report in a transaction of its own (its batch failed)
    int retries = 0;      ///< transient failures (deadlocks) so far
    /// A timed-out attempt's failure: recorded only while the task is still this worker's
    /// attempt `attempt` (the database may have handed it out again since).
    int attempt = 0;
    /// A handler's permanent_error: the task fails with no attempt left.
    bool permanent = false;
    /// A sleep step's deadline (payload: the time, ISO 8601): the task waits until then without a
    /// worker (pgflow_cpp.sleep_task) instead of completing.
    bool sleep = false;
};

struct acknowledgement_limits {
    std::size_t max_acks = 100;  ///< results per round trip
    // Results are reported together up to this many bytes; a bigger one goes alone, so that a
    // round trip (with its heartbeat and claim) never waits on more than one big result.
    std::size_t batch_bytes = std::size_t{4} * 1024 * 1024;
    int max_retries = 10;  ///< transient failures of one result before it is given up
};

inline std::string describe(const acknowledgement& a) {
    return "task " + a.step_slug + "[" + std::to_string(a.task_index) + "] of run " + a.run_id;
}

inline std::string timed_out_message(int timeout, int attempt) {
    return "Task timed out after " + std::to_string(timeout) + " s: attempt " + std::to_string(attempt);
}

/// A handler's JSON output: its completion, or its task's failure when the output is larger than
/// max_output_bytes.
inline acknowledgement completion_of(std::string run_id, std::string step_slug, int task_index, std::string output,
                                     std::size_t max_output_bytes) {
    if (output.size() <= max_output_bytes)
        return {std::move(run_id), std::move(step_slug), task_index, true, std::move(output)};
    auto message = "pgflow worker: the output of step " + step_slug + " is " + std::to_string(output.size()) +
                   " bytes of JSON, more than worker_options::max_output_bytes (" + std::to_string(max_output_bytes) +
                   " bytes)";
    return {std::move(run_id), std::move(step_slug), task_index, false, std::move(message)};
}

// Failures that say nothing about the statement itself: trying again may succeed.
inline bool is_transient(const database_error& e) {
    // Includes 25P02: skipped because an earlier statement of its transaction failed.
    return e.is_retryable_transaction_error();
}

enum class ack_statement { defer, complete, fail, fail_attempt, fail_permanently, sleep, complete_batch, publish };

/// One statement of a round trip's acknowledgements.
struct planned_statement {
    ack_statement kind = ack_statement::complete;
    std::vector<std::size_t> acks;  ///< indices into the pending queue: one, or a batch in lock order
    bool same_transaction_as_next = false;

    [[nodiscard]] bool reports() const noexcept {
        return kind != ack_statement::defer && kind != ack_statement::publish;
    }
};

struct acknowledgement_plan {
    std::size_t taken = 0;  ///< the first `taken` pending results are in this round trip
    /// In send order: each lone result in queue order, then the batch; with deferred
    /// notifications each is preceded by its defer statement and the publication comes last.
    std::vector<planned_statement> statements;
};

inline std::string_view name_of(ack_statement kind) {
    switch (kind) {
        case ack_statement::defer: return statements::defer_notifications.name;
        case ack_statement::complete: return statements::complete.name;
        case ack_statement::fail: return statements::fail.name;
        case ack_statement::fail_attempt: return statements::fail_attempt_function.name;
        case ack_statement::fail_permanently: return statements::fail_permanently.name;
        case ack_statement::sleep: return statements::sleep_task.name;
        case ack_statement::complete_batch: return statements::complete_batch_function.name;
        default: return statements::publish_notifications.name;
    }
}

// Up to max_acks results and batch_bytes of them; one bigger result goes alone.
inline std::size_t acknowledgements_to_take(const std::deque<acknowledgement>& pending,
                                            const acknowledgement_limits& l) {
    std::size_t taken = 0;
    for (std::size_t bytes = 0; taken < std::min(pending.size(), l.max_acks); ++taken) {
        bytes += pending[taken].payload.size();
        if (bytes > l.batch_bytes && taken > 0) break;
    }
    return taken;
}

/// The statements reporting the first results of `pending`. `heartbeat`: the round trip carries a
/// heartbeat, which publishes deferred notifications even without results (those a session that
/// died between its two transactions left behind).
inline acknowledgement_plan plan_acknowledgements(const std::deque<acknowledgement>& pending,
                                                  const schema_capabilities& caps, bool heartbeat,
                                                  const acknowledgement_limits& limits = {}) {
    acknowledgement_plan plan;
    plan.taken = acknowledgements_to_take(pending, limits);
    std::vector<std::size_t> batch;
    for (std::size_t i = 0; i < plan.taken; ++i)
        if (pending[i].completed && !pending[i].alone) batch.push_back(i);
    // A lone completion goes through complete_task: the batch function only pays off for two or more.
    if (batch.size() < 2) batch.clear();
    auto add = [&](ack_statement kind, std::vector<std::size_t> acks) {
        if (caps.defer_notifications) plan.statements.push_back({ack_statement::defer, {}, true});
        plan.statements.push_back({kind, std::move(acks)});
    };
    for (std::size_t i = 0; i < plan.taken; ++i) {
        if (std::find(batch.begin(), batch.end(), i) != batch.end()) continue;
        const auto& a = pending[i];
        add(a.sleep                           ? ack_statement::sleep
            : a.attempt > 0                   ? ack_statement::fail_attempt
            : a.completed                     ? ack_statement::complete
            : a.permanent && caps.run_control ? ack_statement::fail_permanently
                                              : ack_statement::fail,
            {i});
    }
    if (!batch.empty()) {
        std::sort(batch.begin(), batch.end(), [&](std::size_t x, std::size_t y) {
            const auto& a = pending[x];
            const auto& b = pending[y];
            return std::tie(a.run_id, a.step_slug, a.task_index) < std::tie(b.run_id, b.step_slug, b.task_index);
        });
        add(ack_statement::complete_batch, std::move(batch));
    }
    if (caps.defer_notifications && (plan.taken > 0 || heartbeat))
        plan.statements.push_back({ack_statement::publish, {}});
    return plan;
}

/// What settling a round trip's acknowledgements did, for the log and for tests.
struct acknowledgement_settlement {
    std::size_t settled = 0;  ///< results the database stored
    std::size_t retried = 0;  ///< results queued again (a transient failure, or to go alone)
    std::size_t lost = 0;     ///< failures the database refused to record: given up
    std::vector<std::string> log;
};

namespace ack_settling {

// A lone result's statement failed.
inline void lone_failed(acknowledgement& a, const database_error& e, std::vector<acknowledgement>& again,
                        acknowledgement_settlement& s, const acknowledgement_limits& limits) {
    if (is_transient(e) && a.retries < limits.max_retries) {
        // A deadlock or serialization failure says nothing about the result.
        ++a.retries;
        again.push_back(std::move(a));
        ++s.retried;
    } else if (a.completed) {
        // complete_task refused the output (e.g. a \u0000 in it): fail the task so that the run
        // does not wait for a result that can never be stored.
        s.log.push_back("could not store the output of " + describe(a) + ": " + e.what() + "; failing the task");
        again.push_back(
            acknowledgement{a.run_id, a.step_slug, a.task_index, false,
                            "pgflow worker: the database rejected the step output: " + std::string(e.what()), true});
        ++s.retried;
    } else if (a.sleep) {
        // sleep_task refused (the task is no longer this attempt's, say): fail the attempt, which
        // is refused in turn when the task is not started any more.
        s.log.push_back("could not put " + describe(a) + " to sleep until " + a.payload + ": " + e.what() +
                        "; failing the task");
        again.push_back(acknowledgement{a.run_id, a.step_slug, a.task_index, false,
                                        "pgflow worker: the database refused to put the sleep step to sleep until " +
                                            a.payload + ": " + std::string(e.what()),
                                        true});
        ++s.retried;
    } else {
        s.log.push_back("could not record the failure of " + describe(a) + ": " + e.what());
        ++s.lost;
    }
}

// The batch statement failed. It is all or nothing. A deadlock or serialization failure says
// nothing about the results: send the batch again. Otherwise one output the database refuses
// sinks the batch: report each on its own, so that only that task fails.
inline void batch_failed(std::deque<acknowledgement>& pending, const std::vector<std::size_t>& batch,
                         const database_error& e, std::vector<acknowledgement>& again, acknowledgement_settlement& s,
                         const acknowledgement_limits& limits) {
    const bool retry = is_transient(e) && std::all_of(batch.begin(), batch.end(), [&](std::size_t b) {
                           return pending[b].retries < limits.max_retries;
                       });
    if (!retry)
        s.log.push_back("reporting " + std::to_string(batch.size()) + " results together failed (" + e.what() +
                        "); reporting them one by one");
    for (auto b : batch) {
        if (retry)
            ++pending[b].retries;
        else
            pending[b].alone = true;
        again.push_back(std::move(pending[b]));
        ++s.retried;
    }
}

}  // namespace ack_settling

/// Settles the plan's results given each planned statement's error (nullptr: it succeeded):
/// removes the taken results from `pending` and queues again those to retry, in statement order.
inline acknowledgement_settlement settle_acknowledgements(std::deque<acknowledgement>& pending,
                                                          const acknowledgement_plan& plan,
                                                          std::span<const database_error* const> errors,
                                                          const acknowledgement_limits& limits = {}) {
    if (errors.size() != plan.statements.size())
        throw error("pgflow: internal error: acknowledgement outcomes out of step");
    acknowledgement_settlement s;
    std::vector<acknowledgement> again;
    for (std::size_t k = 0; k < plan.statements.size(); ++k) {
        const auto& statement = plan.statements[k];
        const database_error* e = errors[k];
        if (statement.kind == ack_statement::publish && e != nullptr)
            // What failed to publish stays deferred for the next publication.
            s.log.push_back("publishing notifications failed: " + std::string(e->what()));
        if (!statement.reports()) continue;
        if (e == nullptr)
            s.settled += statement.acks.size();
        else if (statement.kind == ack_statement::complete_batch)
            ack_settling::batch_failed(pending, statement.acks, *e, again, s, limits);
        else
            ack_settling::lone_failed(pending[statement.acks.front()], *e, again, s, limits);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(plan.taken));
    for (auto& a : again) pending.push_back(std::move(a));
    return s;
}

}  // namespace pgflow::detail
