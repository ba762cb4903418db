#pragma once
// The dashboard's actions (POST /api/runs/<id>/cancel|retry|resume, only with allow_actions):
// pgflow-cpp's run control functions, with the database's refusal as the answer: an unknown run
// is a 404, a run in a state that forbids the action (e.g. retrying a completed run) a 409.

#include <pgflow/dashboard/api.hpp>
#include <pgflow/dashboard/http.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/sqlstate.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/runtime/run_control.hpp>

#include <string>
#include <string_view>

namespace pgflow::dashboard::detail {

/// Runs action `name` on the run `id_text`; `has_run_control` says whether the schema offers it.
inline response run_action(pq::connection& c, std::string_view name, std::string_view id_text, bool has_run_control) {
    namespace control = pgflow::detail::run_control_sql;
    const run_id id = run_id_parameter(id_text);
    std::string_view statement;
    if (name == "cancel")
        statement = control::cancel;
    else if (name == "retry")
        statement = control::retry;
    else if (name == "resume")
        statement = control::resume;
    else
        throw not_found("there is no action " + json_quoted(name) + " (actions: cancel, retry, resume)");
    if (!has_run_control)
        throw http_error(409,
                         "this database has no run control (pgflow_cpp.cancel_run, retry_run, resume_run): "
                         "its schema was installed from pgflow 0.8.1's migrations");
    try {
        const auto r = c.execute(statement, id);
        std::string body = R"({"ok":true,"run_id":)" + json_quoted(id.str());
        if (name == "cancel")
            body += std::string(",\"cancelled\":") + (r.get<bool>(0, 0) ? "true" : "false");
        else
            body += ",\"new_run_id\":" + (r.is_null(0, 0) ? std::string("null") : json_quoted(r.text(0, 0)));
        return json_response(body + "}");
    } catch (const database_error& e) {
        if (e.sqlstate() == pq::sqlstate::no_data_found) throw not_found(e.primary_message());
        if (e.sqlstate() == pq::sqlstate::object_not_in_prerequisite_state) throw http_error(409, e.primary_message());
        throw;
    }
}

}  // namespace pgflow::dashboard::detail
