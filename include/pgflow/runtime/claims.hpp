#pragma once
// Claimed tasks: the one claim row layout both claim statements return (runtime/statements.hpp:
// run_id, step_slug, task_index, input, attempt; the one-statement claim adds the number of
// messages read), the statements of a claim, how long to wait after it, and the claim linger.

#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/result.hpp>
#include <pgflow/runtime/statements.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pgflow::detail {

struct claimed_task {
    std::string run_id, step_slug, input;
    int task_index = 0, attempt = 1;
};

/// What a worker's claim is made of (runtime/statements.hpp): the one-statement claim, or pgflow
/// 0.8.1's read, whose tasks start in a round trip of their own (worker_session's start_tasks); then,
/// with next_visible_within, when the next message becomes visible. That question ends the claim's
/// pipeline only after a claim that drained the queue: while claims come back full (a map's tasks)
/// its answer would go unused.
struct claim_request {
    bool one_statement;
    const std::string& flow_slug;
    const std::string& worker_id;
    std::chrono::seconds visibility_timeout;  ///< the read's vt
    std::optional<std::chrono::milliseconds> next_visible_within;
};
inline void add_claim(std::vector<pq::pipelined_statement>& pipeline, const claim_request& r, int quantity) {
    const auto visibility = static_cast<long long>(r.visibility_timeout.count());
    if (r.one_statement)
        pipeline.push_back(
            {std::string(statements::claim.name), {}, pq::parameters(r.flow_slug, visibility, quantity, r.worker_id)});
    else
        pipeline.push_back({std::string(statements::read.name), {}, pq::parameters(r.flow_slug, visibility, quantity)});
    if (r.next_visible_within)
        pipeline.push_back({std::string(statements::next_visible_name),
                            {},
                            pq::parameters(static_cast<long long>(r.next_visible_within->count()))});
}

/// The tasks of a claim's rows. A row of nulls but the message count (messages read, none gave a
/// task) is skipped.
inline std::vector<claimed_task> claimed_tasks_of(const pq::result& rows) {
    std::vector<claimed_task> tasks;
    for (int r = 0; r < rows.rows(); ++r)
        if (!rows.is_null(r, 0))
            tasks.push_back(claimed_task{rows.get<std::string>(r, 0), rows.get<std::string>(r, 1),
                                         rows.get<std::string>(r, 3), rows.get<int>(r, 2), rows.get<int>(r, 4)});
    return tasks;
}

/// Messages a one-statement claim read: every row carries the count; no row, none.
inline int messages_read_of(const pq::result& rows) { return rows.empty() ? 0 : rows.get<int>(0, 5); }

/// The message ids of a read (pgflow 0.8.1's two-step claim).
inline std::vector<long long> message_ids_of(const pq::result& rows) {
    std::vector<long long> ids;
    for (int r = 0; r < rows.rows(); ++r) ids.push_back(rows.get<long long>(r, 0));
    return ids;
}

/// After a claim that drained the queue: sleep until the next message becomes visible (a retry, a
/// start delay, a timed-out task), as the next-visible question answered (milliseconds from now;
/// null: none within max_poll), bounded by poll_interval and max_poll. Unasked (`answer` null: the
/// claims before came back full): poll_interval, after which the next claim asks.
inline std::chrono::milliseconds idle_after_drain(const pq::pipelined_outcome* answer,
                                                  std::chrono::milliseconds poll_interval,
                                                  std::chrono::milliseconds max_poll) {
    if (answer == nullptr) return poll_interval;
    const auto* r = std::get_if<pq::result>(answer);
    if (r == nullptr || r->empty() || r->is_null(0, 0)) return max_poll;
    return std::clamp(std::chrono::milliseconds{r->get<long long>(0, 0) + 1}, poll_interval, max_poll);
}

/// worker_options::claim_linger: after a claim that found tasks and drained the queue, the process's
/// listener keeps the queue's notifications until the linger ends (wake_ledger), when those tasks
/// came in a stream (at least one per linger since the worker's previous claim that found tasks,
/// as this worker saw them). A linger then gathers what several claims would each have found one
/// of; after an isolated start or in a trickle it would only delay them, so no linger begins. A
/// claim that follows a linger comes more than a linger after the one before it, so it lingers
/// again only when it found two tasks or more: a linger that gathers one task is not repeated.
class claim_linger_policy {
public:
    using clock = std::chrono::steady_clock;

    explicit claim_linger_policy(std::chrono::milliseconds length) : length_(length) {}
    /// None on a schema whose completions do not say which queues they woke (an older pgflow-cpp
    /// schema: schema_capabilities::woken_queues): the worker would take the next steps its own
    /// completions queue for starts, and every other step of a chain would wait a linger.
    static claim_linger_policy for_schema(std::chrono::milliseconds length, bool completions_tell_woken_queues) {
        return claim_linger_policy{completions_tell_woken_queues ? length : std::chrono::milliseconds{0}};
    }

    /// A claim begun at `now` found `found` tasks; `drained`: fewer than it asked for. Returns the end
    /// of the linger it begins, if it begins one.
    std::optional<clock::time_point> claimed(int found, bool drained, clock::time_point now) {
        if (found <= 0) return std::nullopt;
        const bool stream = drained && last_found_at_ && now - *last_found_at_ <= found * length_;
        last_found_at_ = now;
        if (!stream || length_.count() <= 0) return std::nullopt;
        return now + length_;
    }

private:
    std::chrono::milliseconds length_;
    std::optional<clock::time_point> last_found_at_;
};

}  // namespace pgflow::detail
