#pragma once
// Registering a flow's flow control (docs/flow_control.md). A new flow's registration statements
// already end with its limits (compile/limits_text.hpp); a flow registered before gets them again,
// every step's and the flow's, so that limits changed or removed in the code take effect without a
// new slug (they are not part of the immutable shape), when the registering role may state them.
// Nothing is written on a database without pgflow-cpp's flow-control functions (pgflow 0.8.1's
// own schema).

#include <pgflow/checks.hpp>
#include <pgflow/compile/registration_text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/limits_shape.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/shape.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace pgflow::detail {

inline bool has_flow_control(pq::connection& conn) {
    return conn
        .execute(
            "SELECT to_regprocedure('pgflow_cpp.set_step_limits(text,text,integer,text[],integer,text)') "
            "IS NOT NULL")
        .get<bool>(0, 0);
}

/// Throws, before anything is sent, for limits that break a rule (definition_error naming it) or
/// that the database cannot store (pgflow::error).
inline void require_flow_control(pq::connection& conn, const flow_shape& shape) {
    if (shape.limits.empty()) return;
    std::vector<std::string_view> slugs;
    for (const step_shape& s : shape.steps) slugs.emplace_back(s.slug);
    if (const limits_problem broken = find_limits_problem(shape.limits, slugs); !broken.problem.empty())
        throw flow_definition_error(shape.slug, broken.step, broken.problem);
    if (!has_flow_control(conn))
        throw error("pgflow: the database has no flow control (pgflow_cpp.set_step_limits): flow \"" + shape.slug +
                    "\" declares limits. Install pgflow-cpp's schema (`pgflow install` or client::install_schema) "
                    "to use them");
}

/// Every limit of the flow, stated or cleared: the flow's run limits and each step's (all NULL =
/// none), after its rate limits.
inline flow_limits_shape limits_to_restate(const flow_shape& shape) {
    flow_limits_shape all = shape.limits;
    all.steps.clear();
    for (const step_shape& s : shape.steps) {
        step_limits_shape limits{.step = s.slug};
        for (const step_limits_shape& stated : shape.limits.steps)
            if (stated.step == s.slug) limits = stated;
        all.steps.push_back(std::move(limits));
    }
    return all;
}

inline void run_statements(pq::connection& conn, const parameterized_statements& statements) {
    for (const auto& statement : statements.statements) {
        if (statement.sql.empty()) continue;
        pq::parameters values;
        for (const auto& value : statement.values) values.add(value);
        conn.execute_with(statement.sql, values);
    }
}

/// Whether this role may state limits: the set_* functions are the schema owner's unless granted
/// (0950_privileges.sql), and a least-privilege worker only verifies a flow the owner registered.
inline bool may_set_limits(pq::connection& conn) {
    return conn
        .execute(
            "SELECT coalesce(has_function_privilege(to_regprocedure('pgflow_cpp.set_step_limits(text,text,"
            "integer,text[],integer,text)'), 'EXECUTE'), false)")
        .get<bool>(0, 0);
}

/// For a flow registered already (call inside its registration transaction). A role that may not
/// state limits leaves them as the registering role stated them.
inline void restate_flow_limits(pq::connection& conn, const flow_shape& shape) {
    if (!may_set_limits(conn)) return;
    const flow_limits_shape all = limits_to_restate(shape);
    parameterized_statements statements;
    write_limits(statements, shape.slug, all);
    if (!all.has_run_limits()) {  // write_limits leaves out a flow without run limits: clear them
        next_statement(statements);
        statements.put("SELECT pgflow_cpp.set_flow_limits(");
        emit_literal(statements, shape.slug);
        statements.put(");");
    }
    run_statements(conn, statements);
}

}  // namespace pgflow::detail
