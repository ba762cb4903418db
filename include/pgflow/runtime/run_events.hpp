#pragma once
// What pgflow::client does around one statement or one wait: a statement whose NOTIFYs are deferred
// to a second transaction of the same round trip (start_flow, start_many), and waiting on a run's
// channel for the event that says it ended.

#include <pgflow/error.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/statements.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pgflow::detail {

/// Runs `statement` with its NOTIFYs deferred (pgflow_cpp.defer_notifications), then publishes them
/// from a transaction of its own, in one round trip: the statement's transaction then holds no
/// lock through a WAL flush for the notification queue (runtime/statements.hpp says more). Throws
/// the statement's error. A failed publication leaves the notifications deferred: the next one
/// (any client's or worker's; workers publish on every heartbeat) sends them.
inline void run_with_deferred_notifications(pq::connection& c, pq::pipelined_statement statement) {
    std::vector<pq::pipelined_statement> statements;
    statements.push_back({std::string(statements::defer_notifications.name), {}, {}, true});
    statements.push_back(std::move(statement));
    statements.push_back({std::string(statements::publish_notifications.name), {}, {}});
    auto outcomes = c.run_pipeline(statements);
    for (std::size_t i = 0; i < 2; ++i)
        if (auto* e = std::get_if<database_error>(&outcomes[i])) throw std::move(*e);
}

/// Whether a notification's payload on a run's channel may say that the run ended (run:completed,
/// run:failed, run:cancelled, or a payload it cannot tell from: trimmed, not JSON).
inline bool is_final_run_event(std::string_view payload) {
    boost::json::value v;
    try {
        v = parse_json(payload, "a run event");
    } catch (const json_parse_error&) {
        return true;  // cannot tell: re-read the row
    }
    if (!v.is_object()) return true;
    const auto& o = v.as_object();
    if (const auto* t = o.if_contains("trimmed"); t && t->is_bool() && t->as_bool()) return true;
    for (const char* key : {"event_type", "event"})
        if (const auto* e = o.if_contains(key); e && e->is_string())
            if (e->as_string() == "run:completed" || e->as_string() == "run:failed" ||
                e->as_string() == "run:cancelled")
                return true;
    return false;
}

/// Waits for a run-level event on `channel` until `until`. Returns whether one came.
inline bool wait_for_run_event(pq::connection& c, const std::string& channel,
                               std::chrono::steady_clock::time_point until) {
    for (;;) {
        while (auto n = c.next_notification())
            if (n->channel == channel && is_final_run_event(n->payload)) return true;
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) return false;
        c.wait_for_input(std::chrono::ceil<std::chrono::milliseconds>(until - now));
    }
}

/// LISTENs on a channel for its lifetime (UNLISTEN at the end, unless the connection is gone).
class listening {
public:
    listening(pq::connection& c, std::string channel) : c_(c), channel_(std::move(channel)) { c_.listen(channel_); }
    listening(const listening&) = delete;
    listening& operator=(const listening&) = delete;
    ~listening() {
        try {
            if (c_.is_ok()) c_.unlisten(channel_);
        } catch (const database_error&) {  // the connection is gone; so is the LISTEN
        }
    }

private:
    pq::connection& c_;
    std::string channel_;
};

}  // namespace pgflow::detail
