#pragma once
// The flow-control statements a flow's registration ends with (docs/flow_control.md), written by
// write_registration (compile/registration_text.hpp) through the same sinks as the rest of the
// text: rate limits first (steps name them), then the flow's run limits, then each limited step.
//   SELECT pgflow_cpp.set_rate_limit('partner_api', 20, 1);
//   SELECT pgflow_cpp.set_flow_limits('billing', max_concurrent_runs => 10);
//   SELECT pgflow_cpp.set_step_limits('billing', 'charge', max_concurrency => 5, rate_limit => 'partner_api');
// A flow without limits writes nothing, so its text stays pgflow 0.8.1's.
//
// `Limits` is flow_limits_shape or the compile-time view of a flow_controls<...> (limits.hpp): both
// have the same members, ranges of steps and rate limits with string or string_view fields.
// emit_integer, emit_literal and put_option (", name => value" when set) are registration_text.hpp's,
// which includes this header: the calls depend on `Out`, so they are found when instantiated.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pgflow::detail {

using namespace std::string_view_literals;  // see compile/registration_text.hpp

// Defined in compile/registration_text.hpp, which includes this header first.
template <class Out>
constexpr void emit_literal(Out& out, std::string_view text);
template <class Out>
constexpr void emit_integer(Out& out, int value);
template <class Out>
constexpr void next_statement(Out& out);

/// A dotted key path as a text[] literal: "customer.id" -> '{customer,id}'::text[]. The parts are
/// letters, digits, '_' and '-' (checked before), so they need no quoting inside the array.
template <class Out>
constexpr void emit_key_path(Out& out, std::string_view dotted) {
    if constexpr (Out::takes_parameters) {  // a parameter: the array's text as its value
        std::string array = "{";
        for (const char c : dotted) array += c == '.' ? ',' : c;
        emit_literal(out, array + "}");
    } else {
        out.put("'{"sv);
        for (const char c : dotted) out.put(c == '.' ? ',' : c);
        out.put("}'"sv);
    }
    out.put("::text[]"sv);
}

template <class Out>
constexpr void put_key_path(Out& out, std::string_view dotted) {
    if (dotted.empty()) return;
    out.put(", concurrency_key => "sv);
    emit_key_path(out, dotted);
}

template <class Out, class Limits>
constexpr void write_limits(Out& out, std::string_view flow_slug, const Limits& limits) {
    for (const auto& rate : limits.rate_limits) {
        next_statement(out);
        out.put("SELECT pgflow_cpp.set_rate_limit("sv);
        emit_literal(out, rate.name);
        out.put(", "sv);
        emit_integer(out, rate.max_starts);
        out.put(", "sv);
        emit_integer(out, rate.per_seconds);
        out.put(");"sv);
    }
    if (limits.max_concurrent_runs || !std::string_view(limits.concurrency_key).empty()) {
        next_statement(out);
        out.put("SELECT pgflow_cpp.set_flow_limits("sv);
        emit_literal(out, flow_slug);
        put_option(out, "max_concurrent_runs"sv, limits.max_concurrent_runs);
        put_key_path(out, limits.concurrency_key);
        put_option(out, "max_runs_per_key"sv, limits.max_runs_per_key);
        out.put(");"sv);
    }
    for (const auto& step : limits.steps) {
        next_statement(out);
        out.put("SELECT pgflow_cpp.set_step_limits("sv);
        emit_literal(out, flow_slug);
        out.put(", "sv);
        emit_literal(out, step.step);
        put_option(out, "max_concurrency"sv, step.max_concurrency);
        put_key_path(out, step.concurrency_key);
        put_option(out, "max_per_key"sv, step.max_per_key);
        if (!std::string_view(step.rate_limit).empty()) {
            out.put(", rate_limit => "sv);
            emit_literal(out, step.rate_limit);
        }
        out.put(");"sv);
    }
}

}  // namespace pgflow::detail
