#pragma once
// Flow control as data (docs/flow_control.md): the concurrency limits, rate limits and run limits of
// a flow, as a compiled flow declares them (pgflow::flow_controls, limits.hpp), as a dynamic flow
// holds them, and as registration writes them (pgflow_cpp.set_rate_limit / set_flow_limits /
// set_step_limits). The rules every limit obeys are here, shared by the compile-time checks and the
// definition_error a dynamic flow throws, so both say the same words.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow {

/// The limits of one step. A key path ("customer.id") reads a value from the run input; at most
/// max_per_key tasks of the step run at once per value.
struct step_limits_shape {
    std::string step{};
    std::optional<int> max_concurrency{};  ///< tasks of the step started at once, across all workers
    std::string concurrency_key{};         ///< dotted path into the run input, empty: none
    std::optional<int> max_per_key{};      ///< with concurrency_key
    std::string rate_limit{};              ///< a rate limit every task start counts against, empty: none

    friend bool operator==(const step_limits_shape&, const step_limits_shape&) = default;
};

/// A named rate limit: at most max_starts task starts per window of per_seconds (shared by every
/// step, of any flow, that names it; the last registration's numbers hold).
struct rate_limit_shape {
    std::string name{};
    int max_starts = 0;
    int per_seconds = 0;

    friend bool operator==(const rate_limit_shape&, const rate_limit_shape&) = default;
};

/// Everything a flow declares about flow control; empty for most flows, which then register with
/// pgflow 0.8.1's text exactly.
struct flow_limits_shape {
    std::optional<int> max_concurrent_runs{};  ///< runs of the flow in progress at once; later ones wait
    std::string concurrency_key{};             ///< dotted path into the run input, empty: none
    std::optional<int> max_runs_per_key{};     ///< with concurrency_key
    std::vector<step_limits_shape> steps{};    ///< only steps that have limits
    std::vector<rate_limit_shape> rate_limits{};

    [[nodiscard]] bool has_run_limits() const noexcept {
        return max_concurrent_runs.has_value() || !concurrency_key.empty() || max_runs_per_key.has_value();
    }
    [[nodiscard]] bool empty() const noexcept { return !has_run_limits() && steps.empty() && rate_limits.empty(); }

    friend bool operator==(const flow_limits_shape&, const flow_limits_shape&) = default;
};

namespace detail {

#define PGFLOW_DETAIL_LIMIT_BELOW_ONE "a concurrency limit must be at least 1 (leave it out for no limit)"
#define PGFLOW_DETAIL_RATE_NOT_POSITIVE "a rate limit needs max_starts >= 1 and per_seconds >= 1"
#define PGFLOW_DETAIL_INVALID_KEY_PATH                                                                      \
    "a concurrency key is a dotted path into the run input (\"customer.id\"): non-empty parts of letters, " \
    "digits, '_' and '-', separated by '.'"
#define PGFLOW_DETAIL_INVALID_RATE_LIMIT_NAME "a rate limit name has 1 to 63 letters, digits, '_' or '-'"
#define PGFLOW_DETAIL_KEY_WITHOUT_LIMIT "a concurrency key needs its per-key limit, and a per-key limit its key"

constexpr bool is_limit_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/// True for "customer.id", "items.0.sku"; false for "", ".id", "customer..id", "a b".
constexpr bool key_path_is_valid(std::string_view path) noexcept {
    if (path.empty()) return false;
    bool part_empty = true;
    for (const char c : path) {
        if (c == '.') {
            if (part_empty) return false;
            part_empty = true;
        } else if (is_limit_name_char(c)) {
            part_empty = false;
        } else {
            return false;
        }
    }
    return !part_empty;
}

constexpr bool rate_limit_name_is_valid(std::string_view name) noexcept {
    if (name.empty() || name.size() > 63) return false;
    for (const char c : name)
        if (!is_limit_name_char(c)) return false;
    return true;
}

/// The first rule `limits` breaks for a flow whose steps are `step_slugs`, as {step, problem}
/// (step empty for a flow-level problem), or an empty problem. Used by dynamic flows and before
/// a hand-built shape is registered; compiled flows check the same rules at compile time.
struct limits_problem {
    std::string step{};
    std::string problem{};
};
inline limits_problem find_limits_problem(const flow_limits_shape& limits,
                                          const std::vector<std::string_view>& step_slugs) {
    const auto key_rules = [](const std::string& key, const std::optional<int>& per_key) -> std::string {
        if (key.empty() != !per_key.has_value()) return PGFLOW_DETAIL_KEY_WITHOUT_LIMIT;
        if (!key.empty() && !key_path_is_valid(key)) return PGFLOW_DETAIL_INVALID_KEY_PATH ", got \"" + key + "\"";
        if (per_key && *per_key < 1) return PGFLOW_DETAIL_LIMIT_BELOW_ONE;
        return {};
    };
    for (const rate_limit_shape& r : limits.rate_limits) {
        if (!rate_limit_name_is_valid(r.name))
            return {{}, PGFLOW_DETAIL_INVALID_RATE_LIMIT_NAME ", got \"" + r.name + "\""};
        if (r.max_starts < 1 || r.per_seconds < 1)
            return {{}, "rate limit \"" + r.name + "\": " PGFLOW_DETAIL_RATE_NOT_POSITIVE};
    }
    if (limits.max_concurrent_runs && *limits.max_concurrent_runs < 1) return {{}, PGFLOW_DETAIL_LIMIT_BELOW_ONE};
    if (std::string p = key_rules(limits.concurrency_key, limits.max_runs_per_key); !p.empty()) return {{}, p};
    for (std::size_t i = 0; i < limits.steps.size(); ++i) {
        const step_limits_shape& s = limits.steps[i];
        bool declared = false;
        for (const std::string_view slug : step_slugs) declared = declared || slug == s.step;
        if (!declared) return {s.step, "limits are given for a step the flow does not have"};
        for (std::size_t j = 0; j < i; ++j)
            if (limits.steps[j].step == s.step) return {s.step, "the step's limits are given twice: give them once"};
        if (s.max_concurrency && *s.max_concurrency < 1) return {s.step, PGFLOW_DETAIL_LIMIT_BELOW_ONE};
        if (std::string p = key_rules(s.concurrency_key, s.max_per_key); !p.empty()) return {s.step, p};
        if (s.rate_limit.empty()) continue;
        bool defined = false;
        for (const rate_limit_shape& r : limits.rate_limits) defined = defined || r.name == s.rate_limit;
        if (!defined)
            return {s.step, "the step names rate limit \"" + s.rate_limit +
                                "\", which the flow does not declare: declare it with the flow"};
    }
    return {};
}

}  // namespace detail
}  // namespace pgflow
