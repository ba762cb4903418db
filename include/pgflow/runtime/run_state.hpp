#pragma once
// A run's state as pgflow::client::status reports it (pgflow.get_run_with_states's document,
// parsed), and the parser. Public types; include <pgflow/client.hpp>.

#include <pgflow/run_id.hpp>
#include <pgflow/runtime/run_control.hpp>
#include <pgflow/runtime/time.hpp>
#include <pgflow/runtime/waiting.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow {

/// `cancelled`: ended by client::cancel (pgflow.runs says `failed`; pgflow_cpp.run_status tells).
/// `waiting`: held back by its flow's run limits, no step started yet (pgflow.runs says `started`;
/// docs/flow_control.md).
enum class run_status { started, completed, failed, cancelled, waiting };
/// `skipped`: pgflow 0.14's conditions or when_exhausted left the step out (see step_state::skip_reason).
enum class step_status { created, started, completed, failed, skipped };

constexpr std::string_view to_string(run_status s) noexcept {
    switch (s) {
        case run_status::completed: return "completed";
        case run_status::failed: return "failed";
        case run_status::cancelled: return "cancelled";
        case run_status::waiting: return "waiting";
        case run_status::started: break;
    }
    return "started";
}
constexpr std::string_view to_string(step_status s) noexcept {
    switch (s) {
        case step_status::started: return "started";
        case step_status::completed: return "completed";
        case step_status::failed: return "failed";
        case step_status::skipped: return "skipped";
        default: return "created";
    }
}

/// One row of pgflow.step_states.
struct step_state {
    std::string step_slug;
    step_status status = step_status::created;
    std::optional<int> initial_tasks;    ///< unknown for a dependent map until its dependency completes
    std::optional<int> remaining_tasks;  ///< unset while created
    int remaining_deps = 0;
    std::optional<std::string> error_message;  ///< also the handler's error of a step skipped as handler_failed
    /// Why a skipped step was: condition_unmet (its condition), dependency_skipped (a skip-cascade
    /// from a step it depends on) or handler_failed (its task used up its attempts and its
    /// when_exhausted says skip). Unset unless skipped (and on schemas without conditions).
    std::optional<std::string> skip_reason;
    std::chrono::system_clock::time_point created_at;
    std::optional<std::chrono::system_clock::time_point> started_at, completed_at, failed_at, skipped_at;
};

/// A run and its steps, as pgflow.get_run_with_states reports them; steps in step_index order.
struct run_state {
    pgflow::run_id run_id;
    std::string flow_slug;
    run_status status = run_status::started;
    boost::json::value input;
    boost::json::value output;  ///< null until completed
    int remaining_steps = 0;
    std::chrono::system_clock::time_point started_at;
    std::optional<std::chrono::system_clock::time_point> completed_at, failed_at;
    std::vector<step_state> steps;
    run_lineage lineage;  ///< cancellation, restart of / restarted as (pgflow-cpp's schema only)
    /// Tasks waiting without a worker: signals, sleeps, subflows (pgflow-cpp's schema only).
    std::vector<waiting_task> waiting;

    /// The step with that slug, or nullptr.
    [[nodiscard]] const step_state* step(std::string_view slug) const {
        for (const auto& s : steps)
            if (s.step_slug == slug) return &s;
        return nullptr;
    }
};

}  // namespace pgflow

namespace pgflow::detail {

inline std::optional<std::chrono::system_clock::time_point> optional_time(const boost::json::object& o,
                                                                          const char* key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return detail::parse_timestamptz(v->as_string());
}

inline std::optional<int> optional_int(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    return static_cast<int>(v->to_number<long long>());
}

inline run_state parse_run_state(const boost::json::value& doc, const boost::json::value& order) {
    const auto& run = doc.at("run").as_object();
    run_state state;
    state.run_id = pgflow::run_id{std::string_view(run.at("run_id").as_string())};
    state.flow_slug = run.at("flow_slug").as_string();
    const auto status = run.at("status").as_string();
    state.status = status == "completed" ? run_status::completed
                   : status == "failed"  ? run_status::failed
                                         : run_status::started;
    state.input = run.at("input");
    if (const auto* out = run.if_contains("output")) state.output = *out;
    state.remaining_steps = optional_int(run, "remaining_steps").value_or(0);
    state.started_at = optional_time(run, "started_at").value_or(std::chrono::system_clock::time_point{});
    state.completed_at = optional_time(run, "completed_at");
    state.failed_at = optional_time(run, "failed_at");
    if (const auto* steps = doc.as_object().if_contains("steps"); steps && steps->is_array()) {
        for (const auto& sv : steps->as_array()) {
            const auto& s = sv.as_object();
            step_state step;
            step.step_slug = s.at("step_slug").as_string();
            const auto st = s.at("status").as_string();
            step.status = st == "started"     ? step_status::started
                          : st == "completed" ? step_status::completed
                          : st == "failed"    ? step_status::failed
                          : st == "skipped"   ? step_status::skipped
                                              : step_status::created;
            step.initial_tasks = optional_int(s, "initial_tasks");
            step.remaining_tasks = optional_int(s, "remaining_tasks");
            step.remaining_deps = optional_int(s, "remaining_deps").value_or(0);
            if (const auto* m = s.if_contains("error_message"); m && m->is_string())
                step.error_message = std::string(m->as_string());
            if (const auto* r = s.if_contains("skip_reason"); r && r->is_string())
                step.skip_reason = std::string(r->as_string());
            step.created_at = optional_time(s, "created_at").value_or(std::chrono::system_clock::time_point{});
            step.started_at = optional_time(s, "started_at");
            step.completed_at = optional_time(s, "completed_at");
            step.failed_at = optional_time(s, "failed_at");
            step.skipped_at = optional_time(s, "skipped_at");
            state.steps.push_back(std::move(step));
        }
    }
    if (order.is_array()) {
        auto rank = [&](const std::string& slug) {
            const auto& a = order.as_array();
            for (std::size_t i = 0; i < a.size(); ++i)
                if (a[i].is_string() && a[i].as_string() == slug) return i;
            return a.size();
        };
        std::stable_sort(state.steps.begin(), state.steps.end(), [&](const step_state& a, const step_state& b) {
            return rank(a.step_slug) < rank(b.step_slug);
        });
    }
    return state;
}

}  // namespace pgflow::detail
