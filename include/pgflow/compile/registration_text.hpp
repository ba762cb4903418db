#pragma once
// registration_sql(shape) — the one writer of a flow's registration SQL: pgflow 0.8.1's compileFlow text
// (docs/registration.md). write_registration() reads a flow through a small source interface, so the same
// code writes a run-time flow_shape (dynamic flows, the CLI, run-time registration) and, at compile time,
// a compiled flow's graph, into a buffer of registration_capacity() characters (the text with every
// option at its widest, counted by arithmetic: the size must be known from the flow's type), with no
// allocation in constant evaluation.

#include <pgflow/compile/graph.hpp>
#include <pgflow/compile/limits_text.hpp>
#include <pgflow/conditions.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail {

// The writers' words are std::string_view literals ("..."sv): a plain literal converted to a
// string_view is measured by a loop when constant-evaluated (char_traits::length), which was a
// third of the steps of writing a flow's registration text.
using namespace std::string_view_literals;

/// A literal's length as put_literal writes it: quotes around, each quote inside doubled.
constexpr std::size_t literal_length(std::string_view text) noexcept {
    const char* p = text.data();
    std::size_t size = text.size() + 2;
    for (std::size_t i = 0; i < text.size(); ++i) size += p[i] == '\'' ? 1 : 0;
    return size;
}

/// Sinks of write_registration: one counts (flow-control statements are sized with it; a flow's own
/// statements by arithmetic, registration_capacity), one fills a fixed buffer, one a string.
struct text_size {
    static constexpr bool takes_parameters = false;
    std::size_t size = 0;
    constexpr void put(std::string_view s) noexcept { size += s.size(); }
    constexpr void put(char) noexcept { ++size; }
    constexpr void literal(std::string_view s) noexcept { size += literal_length(s); }
    constexpr void integer(int value) noexcept {  // put_int's length
        long long v = value;
        if (v < 0) {
            ++size;
            v = -v;
        }
        do {
            ++size;
            v /= 10;
        } while (v > 0);
    }
    constexpr void jsonb(std::string_view s) noexcept {  // emit_jsonb's length
        literal(s);
        size += "::jsonb"sv.size();
    }
};
// text_buffer writes a flow's text at compile time, where g++ evaluates each call (std::array's
// operator[] too): a raw pointer, sizes in locals, a literal copied as its quotes are doubled.
template <std::size_t Capacity>
struct text_buffer {
    static constexpr bool takes_parameters = false;
    std::array<char, Capacity>& out;
    std::size_t size = 0;
    char* data = out.data();
    constexpr void put(std::string_view s) noexcept {
        const char* p = s.data();
        const std::size_t n = s.size();
        char* o = data + size;
        for (std::size_t i = 0; i < n; ++i) o[i] = p[i];
        size += n;
    }
    constexpr void put(char c) noexcept { data[size++] = c; }
    constexpr void literal(std::string_view s) noexcept {  // put_literal's text
        const char* p = s.data();
        const std::size_t n = s.size();
        char* o = data;
        std::size_t at = size;
        o[at++] = '\'';
        for (std::size_t i = 0; i < n; ++i) {
            if (p[i] == '\'') o[at++] = '\'';
            o[at++] = p[i];
        }
        o[at++] = '\'';
        size = at;
    }
};
struct text_string {
    static constexpr bool takes_parameters = false;
    std::string& out;
    constexpr void put(std::string_view s) { out += s; }
    constexpr void put(char c) { out += c; }
};

/// Registration as separate statements whose slugs and option values are parameters ($1, $2, …),
/// for running it from C++: values are never spliced into statement text, even validated slugs.
struct parameterized_statements {
    static constexpr bool takes_parameters = true;
    struct statement {
        std::string sql;
        std::vector<std::string> values;
    };
    std::vector<statement> statements = std::vector<statement>(1);

    void put(std::string_view s) { statements.back().sql += s; }
    void put(char c) { statements.back().sql += c; }
    void literal(std::string_view value) { placeholder(std::string(value), ""); }
    void integer(int value) { placeholder(std::to_string(value), "::int"); }
    void jsonb(std::string_view value) { placeholder(std::string(value), "::jsonb"); }
    void next_statement() { statements.emplace_back(); }

private:
    void placeholder(std::string value, std::string_view cast) {
        statement& s = statements.back();
        s.values.push_back(std::move(value));
        s.sql += '$';
        s.sql += std::to_string(s.values.size());
        s.sql += cast;
    }
};

template <class Out>
constexpr void put_int(Out& out, int value) {
    char digits[11]{};
    std::size_t n = 0;
    long long v = value;  // long long keeps INT_MIN's negation safe
    if (v < 0) {
        out.put('-');
        v = -v;
    }
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0) out.put(digits[--n]);
}

/// A slug as an SQL string literal. Valid slugs have no quote; doubling one keeps a shape built by hand
/// from writing anything but a literal.
/// (A loop over characters, not string_view::find: g++'s UBSan instrumentation of find's pointer
/// test is not a constant expression, so the ASan+UBSan build could not evaluate it.)
template <class Out>
constexpr void put_literal(Out& out, std::string_view text) {
    out.put('\'');
    const char* p = text.data();
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (p[i] != '\'') continue;
        out.put(std::string_view(p + start, i + 1 - start));
        out.put('\'');
        start = i + 1;
    }
    out.put(std::string_view(p + start, text.size() - start));
    out.put('\'');
}

/// A sink may take slugs and option values itself (parameterized_statements does, to make them
/// parameters); the text sinks write them as literals.
template <class Out>
constexpr void emit_literal(Out& out, std::string_view text) {
    if constexpr (requires { out.literal(text); }) {
        out.literal(text);
    } else {
        put_literal(out, text);
    }
}
template <class Out>
constexpr void emit_integer(Out& out, int value) {
    if constexpr (requires { out.integer(value); }) {
        out.integer(value);
    } else {
        put_int(out, value);
    }
}
/// A condition pattern (compact JSON text): a parameter cast to jsonb, or a literal cast to jsonb.
template <class Out>
constexpr void emit_jsonb(Out& out, std::string_view text) {
    if constexpr (requires { out.jsonb(text); }) {
        out.jsonb(text);
    } else {
        emit_literal(out, text);
        out.put("::jsonb"sv);
    }
}
template <class Out>
constexpr void next_statement(Out& out) {
    if constexpr (requires { out.next_statement(); }) {
        out.next_statement();
    } else {
        out.put('\n');
    }
}

template <class Out>
constexpr void put_option(Out& out, std::string_view name, const std::optional<int>& value) {
    if (!value) return;
    out.put(", "sv);
    out.put(name);
    out.put(" => "sv);
    emit_integer(out, *value);
}

/// pgflow 0.14's condition arguments of add_step, each only when stated: a flow without conditions
/// keeps pgflow 0.8.1's text.
template <class Out>
constexpr void put_conditions(Out& out, const step_condition_text& c) {
    if (c.required.empty() && c.forbidden.empty() && !c.when_unmet && !c.when_exhausted) return;  // most steps
    const auto pattern = [&](std::string_view name, std::string_view text) {
        if (text.empty()) return;
        out.put(", "sv);
        out.put(name);
        out.put(" => "sv);
        emit_jsonb(out, text);
    };
    const auto mode = [&](std::string_view name, const std::optional<condition_mode>& m) {
        if (!m) return;
        out.put(", "sv);
        out.put(name);
        out.put(" => "sv);
        emit_literal(out, to_string(*m));
    };
    pattern("required_input_pattern"sv, c.required);
    pattern("forbidden_input_pattern"sv, c.forbidden);
    mode("when_unmet"sv, c.when_unmet);
    mode("when_exhausted"sv, c.when_exhausted);
}

/// A step without a handler as pgflow_cpp.set_step_kind registers it (kind handler: nothing).
struct step_wait_text {
    step_kind kind = step_kind::handler;
    std::optional<int> signal_timeout{};
    std::string_view value_shape{};  ///< compact JSON; empty: NULL (any JSON)
    std::string_view child_flow{};   ///< empty: NULL
};

/// `SELECT pgflow_cpp.set_step_kind(flow, step, kind, signal_timeout, value_shape, child_flow);`
/// (sql/pgflow/0500_set_step_kind.sql), every argument given, NULL when unset. Written as a statement of its own
/// right after the step's add_step, only for steps without a handler: a flow of handler steps
/// keeps pgflow 0.8.1's text.
template <class Out>
constexpr void write_step_kind(Out& out, std::string_view flow_slug, std::string_view step_slug,
                               const step_wait_text& wait) {
    next_statement(out);
    out.put("SELECT pgflow_cpp.set_step_kind("sv);
    emit_literal(out, flow_slug);
    out.put(", "sv);
    emit_literal(out, step_slug);
    out.put(", "sv);
    emit_literal(out, to_string(wait.kind));
    out.put(", "sv);
    if (wait.signal_timeout)
        emit_integer(out, *wait.signal_timeout);
    else
        out.put("NULL"sv);
    out.put(", "sv);
    if (!wait.value_shape.empty())
        emit_jsonb(out, wait.value_shape);
    else
        out.put("NULL"sv);
    out.put(", "sv);
    if (!wait.child_flow.empty())
        emit_literal(out, wait.child_flow);
    else
        out.put("NULL"sv);
    out.put(");"sv);
}

/// Writes the statements, '\n'-joined, steps in the source's order. A Source has flow_slug(),
/// flow_options() (the ones to write), step_count(), and per step k: step_slug(k), type(k),
/// dependency_count(k), dependency(k, d), step_options(k), step_conditions(k), step_wait(k); and may
/// have limits() (compile/limits_text.hpp).
template <class Out, class Source>
constexpr void write_registration(Out& out, const Source& flow) {
    out.put("SELECT pgflow.create_flow("sv);
    emit_literal(out, flow.flow_slug());
    const flow_options options = flow.flow_options();
    put_option(out, "max_attempts"sv, options.max_attempts);
    put_option(out, "base_delay"sv, options.base_delay);
    put_option(out, "timeout"sv, options.timeout);
    out.put(");"sv);
    for (std::size_t k = 0; k < flow.step_count(); ++k) {
        next_statement(out);
        out.put("SELECT pgflow.add_step("sv);
        emit_literal(out, flow.flow_slug());
        out.put(", "sv);
        emit_literal(out, flow.step_slug(k));
        if (flow.dependency_count(k) > 0) {
            out.put(", ARRAY["sv);
            for (std::size_t d = 0; d < flow.dependency_count(k); ++d) {
                if (d > 0) out.put(", "sv);
                emit_literal(out, flow.dependency(k, d));
            }
            out.put(']');
        }
        const auto& step = flow.step_options(k);
        put_option(out, "max_attempts"sv, step.max_attempts);
        put_option(out, "base_delay"sv, step.base_delay);
        put_option(out, "timeout"sv, step.timeout);
        put_option(out, "start_delay"sv, step.start_delay);
        put_conditions(out, flow.step_conditions(k));
        if (flow.type(k) == step_type::map) out.put(", step_type => 'map'"sv);
        out.put(");"sv);
        if (const auto& wait = flow.step_wait(k); wait.kind != step_kind::handler)
            write_step_kind(out, flow.flow_slug(), flow.step_slug(k), wait);
    }
    if constexpr (requires { flow.limits(); }) write_limits(out, flow.flow_slug(), flow.limits());
}

/// A flow_shape as a source. compileFlow writes the flow options a definition states, even a default;
/// a shape without them (built by hand, read from a database) writes its effective values that differ
/// from create_flow's defaults.
struct shape_source {
    const flow_shape& shape;

    static constexpr std::optional<int> to_write(int effective, const std::optional<int>& stated, int default_value) {
        if (stated || effective != default_value) return effective;
        return std::nullopt;
    }
    [[nodiscard]] constexpr std::string_view flow_slug() const noexcept { return shape.slug; }
    [[nodiscard]] constexpr pgflow::flow_options flow_options() const noexcept {
        const pgflow::flow_options& stated = shape.stated_options;
        return {to_write(shape.max_attempts, stated.max_attempts, default_max_attempts),
                to_write(shape.base_delay, stated.base_delay, default_base_delay),
                to_write(shape.timeout, stated.timeout, default_timeout)};
    }
    [[nodiscard]] constexpr std::size_t step_count() const noexcept { return shape.steps.size(); }
    [[nodiscard]] constexpr std::string_view step_slug(std::size_t k) const noexcept { return shape.steps[k].slug; }
    [[nodiscard]] constexpr step_type type(std::size_t k) const noexcept { return shape.steps[k].type; }
    [[nodiscard]] constexpr std::size_t dependency_count(std::size_t k) const noexcept {
        return shape.steps[k].dependencies.size();
    }
    [[nodiscard]] constexpr std::string_view dependency(std::size_t k, std::size_t d) const noexcept {
        return shape.steps[k].dependencies[d];
    }
    [[nodiscard]] constexpr pgflow::step_options step_options(std::size_t k) const noexcept {
        const step_shape& s = shape.steps[k];
        return {s.max_attempts, s.base_delay, s.timeout, s.start_delay};
    }
    [[nodiscard]] constexpr const flow_limits_shape& limits() const noexcept { return shape.limits; }
    [[nodiscard]] constexpr step_condition_text step_conditions(std::size_t k) const noexcept {
        const step_shape& s = shape.steps[k];
        return {s.required_input_pattern, s.forbidden_input_pattern, s.when_unmet, s.when_exhausted};
    }
    [[nodiscard]] constexpr step_wait_text step_wait(std::size_t k) const noexcept {
        const step_shape& s = shape.steps[k];
        return {s.kind, s.signal_timeout, s.value_shape, s.child_flow};
    }
};

/// A compiled flow as a source: its graph (steps in topological order), step types, conditions and
/// options as declared.
template <std::size_t N, std::size_t E>
struct graph_source {
    std::string_view slug;
    const flow_graph<N, E>& graph;
    const std::array<step_type, N>& types;
    const std::array<step_condition_text, N>& conditions;
    pgflow::flow_options options;
    const std::array<pgflow::step_options, N>& steps;
    const std::array<step_wait_text, N>& waits;  ///< in declaration order, signal timeouts filled in

    [[nodiscard]] constexpr std::string_view flow_slug() const noexcept { return slug; }
    [[nodiscard]] constexpr pgflow::flow_options flow_options() const noexcept { return options; }
    [[nodiscard]] static constexpr std::size_t step_count() noexcept { return N; }
    [[nodiscard]] constexpr std::string_view step_slug(std::size_t k) const noexcept {
        return graph.slugs[graph.order[k]];
    }
    [[nodiscard]] constexpr step_type type(std::size_t k) const noexcept { return types[graph.order[k]]; }
    [[nodiscard]] constexpr std::size_t dependency_count(std::size_t k) const noexcept {
        return graph.dependency_count(graph.order[k]);
    }
    [[nodiscard]] constexpr std::string_view dependency(std::size_t k, std::size_t d) const noexcept {
        return graph.slugs[graph.dependency(graph.order[k], d)];
    }
    [[nodiscard]] constexpr const pgflow::step_options& step_options(std::size_t k) const noexcept {
        return steps[graph.order[k]];
    }
    [[nodiscard]] constexpr const step_condition_text& step_conditions(std::size_t k) const noexcept {
        return conditions[graph.order[k]];
    }
    [[nodiscard]] constexpr const step_wait_text& step_wait(std::size_t k) const noexcept {
        return waits[graph.order[k]];
    }
};

/// The longest registration text of a flow with this graph: every option at its widest value (option
/// values are not part of the flow's type; the slugs, step types and conditions are). Counted piece by
/// piece as write_registration puts them, each slug's literal measured once: running the writer
/// into a counting sink was half the cost of a 500-step flow's text (unit.registration checks the
/// two agree).
template <std::size_t N, std::size_t E>
constexpr std::size_t registration_capacity(std::string_view flow_slug, const flow_graph<N, E>& g,
                                            const std::array<step_type, N>& types,
                                            const std::array<step_condition_text, N>& conditions,
                                            const std::array<step_wait_text, N>& waits) {
    constexpr std::size_t widest_int = "-2147483648"sv.size();
    constexpr auto option = [](std::string_view name) { return ", "sv.size() + name.size() + " => "sv.size(); };
    constexpr std::size_t flow_options =
        option("max_attempts"sv) + option("base_delay"sv) + option("timeout"sv) + 3 * widest_int;
    constexpr std::size_t step_options = flow_options + option("start_delay"sv) + widest_int;
    const std::size_t flow_literal = literal_length(flow_slug);
    std::array<std::size_t, N> step_literal{};
    for (std::size_t i = 0; i < N; ++i) step_literal[i] = literal_length(g.slugs[i]);

    std::size_t size = "SELECT pgflow.create_flow("sv.size() + flow_literal + flow_options + ");"sv.size();
    for (std::size_t i = 0; i < N; ++i) {
        size += 1 + "SELECT pgflow.add_step("sv.size() + flow_literal + ", "sv.size() + step_literal[i] + step_options +
                ");"sv.size();
        if (const std::size_t count = g.dependency_count(i); count > 0) {
            size += ", ARRAY["sv.size() + "]"sv.size() + ", "sv.size() * (count - 1);
            for (std::size_t d = 0; d < count; ++d)
                if (const std::size_t dep = g.dependency(i, d); dep < N) size += step_literal[dep];
        }
        const step_condition_text& c = conditions[i];
        if (!c.required.empty())
            size += option("required_input_pattern"sv) + literal_length(c.required) + "::jsonb"sv.size();
        if (!c.forbidden.empty())
            size += option("forbidden_input_pattern"sv) + literal_length(c.forbidden) + "::jsonb"sv.size();
        if (c.when_unmet) size += option("when_unmet"sv) + literal_length(to_string(*c.when_unmet));
        if (c.when_exhausted) size += option("when_exhausted"sv) + literal_length(to_string(*c.when_exhausted));
        if (types[i] == step_type::map) size += ", step_type => 'map'"sv.size();
        if (const step_wait_text& w = waits[i]; w.kind != step_kind::handler) {  // write_step_kind
            size += 1 + "SELECT pgflow_cpp.set_step_kind("sv.size() + flow_literal + step_literal[i] +
                    literal_length(to_string(w.kind)) + 5 * ", "sv.size() + ");"sv.size();
            size += w.kind == step_kind::signal ? widest_int : "NULL"sv.size();
            size += w.value_shape.empty() ? "NULL"sv.size() : literal_length(w.value_shape) + "::jsonb"sv.size();
            size += w.child_flow.empty() ? "NULL"sv.size() : literal_length(w.child_flow);
        }
    }
    return size;
}

}  // namespace pgflow::detail

namespace pgflow {

/// `SELECT pgflow.create_flow(...);` then one `SELECT pgflow.add_step(...);` per step in the shape's
/// order, joined by '\n' without a trailing newline.
[[nodiscard]] constexpr std::string registration_sql(const flow_shape& shape) {
    std::string out;
    detail::text_string sink{out};
    detail::write_registration(sink, detail::shape_source{shape});
    return out;
}

}  // namespace pgflow
