#pragma once
// Registering a flow from its shape (its registration_sql text, in one transaction) and
// comparing a shape with the one a database already has. Shared by the client, the worker and
// dynamic flows.

#include <pgflow/compile/registration_text.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/limits_registration.hpp>
#include <pgflow/pq/transaction.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/shape.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace pgflow::detail {

inline std::optional<int> optional_int(const boost::json::value& v) {
    if (v.is_null()) return std::nullopt;
    return static_cast<int>(v.to_number<long long>());
}

inline std::optional<condition_mode> optional_mode(const boost::json::value& v) {
    if (!v.is_string()) return std::nullopt;
    const auto& text = v.as_string();
    if (text == "fail") return condition_mode::fail;
    if (text == "skip") return condition_mode::skip;
    if (text == "skip-cascade") return condition_mode::skip_cascade;
    throw error("pgflow: the database has a step mode pgflow-cpp does not know: \"" + std::string(text) + "\"");
}

inline std::string pattern_text(const boost::json::value& v) {
    return v.is_null() ? std::string() : boost::json::serialize(v);
}

inline step_kind step_kind_of(std::string_view text) {
    if (text == "signal") return step_kind::signal;
    if (text == "sleep") return step_kind::sleep;
    if (text == "subflow") return step_kind::subflow;
    throw error("pgflow: the database has a step kind pgflow-cpp does not know: \"" + std::string(text) + "\"");
}

/// The kinds of the flow's steps without handlers (pgflow_cpp.step_kinds; schemas that have them).
/// A role that may not read the table (least privilege) compares no kinds: asking would abort the
/// registration's transaction.
inline void read_step_kinds(pq::connection& conn, flow_shape& shape) {
    if (!conn.execute("SELECT has_table_privilege('pgflow_cpp.step_kinds', 'SELECT')").get<bool>(0, 0)) return;
    const auto r = conn.execute(
        "SELECT step_slug, kind, signal_timeout, value_shape::text, child_flow_slug FROM pgflow_cpp.step_kinds "
        "WHERE flow_slug = $1",
        shape.slug);
    for (int row = 0; row < r.rows(); ++row)
        for (auto& step : shape.steps) {
            if (step.slug != r.text(row, 0)) continue;
            step.kind = step_kind_of(r.text(row, 1));
            step.signal_timeout = r.get<std::optional<int>>(row, 2);
            if (!r.is_null(row, 3)) step.value_shape = std::string(r.text(row, 3));
            if (!r.is_null(row, 4)) step.child_flow = std::string(r.text(row, 4));
        }
}

/// The flow as registered in pgflow.flows/steps/deps, or nullopt when the slug is unknown.
/// Dependencies come sorted by slug (the database keeps no declaration order). The step
/// conditions are read through to_jsonb(row), so that the query works on pgflow 0.8.1's schema,
/// which has no such columns (they read as null, i.e. no condition).
inline std::optional<flow_shape> read_registered_shape(pq::connection& conn, std::string_view flow_slug) {
    auto r = conn.execute(R"(
SELECT json_build_object(
  'max_attempts', f.opt_max_attempts, 'base_delay', f.opt_base_delay, 'timeout', f.opt_timeout,
  'steps', coalesce((
    SELECT json_agg(json_build_object(
      'slug', s.step_slug, 'type', s.step_type, 'max_attempts', s.opt_max_attempts,
      'base_delay', s.opt_base_delay, 'timeout', s.opt_timeout, 'start_delay', s.opt_start_delay,
      'required', to_jsonb(s) -> 'required_input_pattern', 'forbidden', to_jsonb(s) -> 'forbidden_input_pattern',
      'when_unmet', to_jsonb(s) -> 'when_unmet', 'when_exhausted', to_jsonb(s) -> 'when_exhausted',
      'deps', coalesce((SELECT json_agg(d.dep_slug ORDER BY d.dep_slug) FROM pgflow.deps d
                        WHERE d.flow_slug = s.flow_slug AND d.step_slug = s.step_slug), '[]'::json))
      ORDER BY s.step_index)
    FROM pgflow.steps s WHERE s.flow_slug = f.flow_slug), '[]'::json))
FROM pgflow.flows f WHERE f.flow_slug = $1)",
                          flow_slug);
    if (r.empty()) return std::nullopt;
    const auto doc = r.get<boost::json::value>(0, 0);
    flow_shape shape;
    shape.slug = std::string(flow_slug);
    shape.max_attempts = static_cast<int>(doc.at("max_attempts").to_number<long long>());
    shape.base_delay = static_cast<int>(doc.at("base_delay").to_number<long long>());
    shape.timeout = static_cast<int>(doc.at("timeout").to_number<long long>());
    for (const auto& s : doc.at("steps").as_array()) {
        step_shape step;
        step.slug = std::string(s.at("slug").as_string());
        step.type = s.at("type").as_string() == "map" ? step_type::map : step_type::single;
        step.max_attempts = optional_int(s.at("max_attempts"));
        step.base_delay = optional_int(s.at("base_delay"));
        step.timeout = optional_int(s.at("timeout"));
        step.start_delay = optional_int(s.at("start_delay"));
        step.required_input_pattern = pattern_text(s.at("required"));
        step.forbidden_input_pattern = pattern_text(s.at("forbidden"));
        step.when_unmet = optional_mode(s.at("when_unmet"));
        step.when_exhausted = optional_mode(s.at("when_exhausted"));
        for (const auto& d : s.at("deps").as_array()) step.dependencies.emplace_back(d.as_string());
        shape.steps.push_back(std::move(step));
    }
    if (probe_capabilities(conn).handlerless_steps) read_step_kinds(conn, shape);
    return shape;
}

inline std::string describe_option(const std::optional<int>& v) {
    return v ? std::to_string(*v) : std::string("unset (inherits the flow's)");
}

inline std::string describe_list(std::vector<std::string> items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    return out + "]";
}

/// A pattern's text as JSON (null when none): jsonb normalises the text it stores (spaces, key
/// order), so patterns compare as parsed values.
inline boost::json::value parsed_pattern(const std::string& text) {
    return text.empty() ? boost::json::value() : boost::json::parse(text);
}

/// JSON equality as jsonb sees it: numbers by value (the database stores `1E0` or `1.0` as
/// numeric and hands back `1` or `1.0`, which Boost.JSON reads as int64 or double).
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
    if (a.is_object() && b.is_object()) {
        const auto& x = a.get_object();
        const auto& y = b.get_object();
        if (x.size() != y.size()) return false;
        for (const auto& [key, value] : x) {
            const auto* other = y.if_contains(key);
            if (other == nullptr || !same_json(value, *other)) return false;
        }
        return true;
    }
    if (a.is_array() && b.is_array()) {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!same_json(x[i], y[i])) return false;
        return true;
    }
    return a == b;
}

inline std::string describe_pattern(const std::string& text) {
    return text.empty() ? std::string("none") : boost::json::serialize(boost::json::parse(text));
}

/// The differences in one step's conditions. An unstated mode is pgflow's default (when_unmet
/// skip, when_exhausted fail), which is what the database stores for it.
inline void condition_differences(const step_shape& registered, const step_shape& defined, const std::string& name,
                                  std::vector<std::string>& diff) {
    auto pattern = [&](const char* what, const std::string& db, const std::string& here) {
        if (!same_json(parsed_pattern(db), parsed_pattern(here)))
            diff.push_back(name + what + " registered " + describe_pattern(db) + ", defined " + describe_pattern(here));
    };
    pattern("required_input_pattern (only_if)", registered.required_input_pattern, defined.required_input_pattern);
    pattern("forbidden_input_pattern (only_if_not)", registered.forbidden_input_pattern,
            defined.forbidden_input_pattern);
    auto mode = [&](const char* what, std::optional<condition_mode> db, std::optional<condition_mode> here,
                    condition_mode default_mode) {
        if (db.value_or(default_mode) != here.value_or(default_mode))
            diff.push_back(name + what + " registered " + to_string(db.value_or(default_mode)) + ", defined " +
                           to_string(here.value_or(default_mode)));
    };
    mode("when_unmet", registered.when_unmet, defined.when_unmet, condition_mode::skip);
    mode("when_exhausted", registered.when_exhausted, defined.when_exhausted, condition_mode::fail);
}

/// Human-readable differences between what the database has and what the program defines; empty
/// when they agree. Step order and dependency order are not compared (pgflow keeps neither as
/// meaning), type names are not stored in the database.
inline std::vector<std::string> shape_differences(const flow_shape& registered, const flow_shape& defined) {
    std::vector<std::string> diff;
    auto flow_option = [&](const char* name, int db, int here) {
        if (db != here)
            diff.push_back("flow option " + std::string(name) + ": registered " + std::to_string(db) + ", defined " +
                           std::to_string(here));
    };
    flow_option("max_attempts", registered.max_attempts, defined.max_attempts);
    flow_option("base_delay", registered.base_delay, defined.base_delay);
    flow_option("timeout", registered.timeout, defined.timeout);
    auto find = [](const flow_shape& f, const std::string& slug) -> const step_shape* {
        for (const auto& s : f.steps)
            if (s.slug == slug) return &s;
        return nullptr;
    };
    for (const auto& mine : defined.steps) {
        const step_shape* theirs = find(registered, mine.slug);
        const std::string name = "step \"" + mine.slug + "\": ";
        if (theirs == nullptr) {
            diff.push_back(name + "defined but not registered");
            continue;
        }
        if (theirs->type != mine.type)
            diff.push_back(name + "type registered " + to_string(theirs->type) + ", defined " + to_string(mine.type));
        auto a = theirs->dependencies, b = mine.dependencies;
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        if (a != b)
            diff.push_back(name + "dependencies registered " + describe_list(a) + ", defined " + describe_list(b));
        auto step_option = [&](const char* option, const std::optional<int>& db, const std::optional<int>& here) {
            if (db != here)
                diff.push_back(name + option + " registered " + describe_option(db) + ", defined " +
                               describe_option(here));
        };
        step_option("max_attempts", theirs->max_attempts, mine.max_attempts);
        step_option("base_delay", theirs->base_delay, mine.base_delay);
        step_option("timeout", theirs->timeout, mine.timeout);
        step_option("start_delay", theirs->start_delay, mine.start_delay);
        condition_differences(*theirs, mine, name, diff);
        if (theirs->kind != mine.kind)
            diff.push_back(name + "kind registered " + to_string(theirs->kind) + ", defined " + to_string(mine.kind));
        else if (theirs->child_flow != mine.child_flow)
            diff.push_back(name + "child flow registered \"" + theirs->child_flow + "\", defined \"" + mine.child_flow +
                           "\"");
    }
    for (const auto& theirs : registered.steps)
        if (find(defined, theirs.slug) == nullptr)
            diff.push_back("step \"" + theirs.slug + "\": registered but not defined");
    return diff;
}

/// The first condition a step states (only_if, only_if_not, when_unmet, when_exhausted), or null.
inline const char* first_stated_condition(const step_shape& s) {
    if (!s.required_input_pattern.empty()) return "only_if";
    if (!s.forbidden_input_pattern.empty()) return "only_if_not";
    if (s.when_unmet) return "when_unmet";
    if (s.when_exhausted) return "when_exhausted";
    return nullptr;
}

/// Throws, before anything is sent, when the flow uses pgflow 0.14's conditions and the database
/// (pgflow 0.8.1's own schema, say) has none: they would be lost, or fail halfway (decision 10).
inline void require_step_conditions(pq::connection& conn, const flow_shape& shape) {
    for (const auto& step : shape.steps) {
        const char* condition = first_stated_condition(step);
        if (condition == nullptr) continue;
        if (probe_capabilities(conn).step_conditions) return;
        throw error("pgflow: the database's pgflow schema has no step conditions (pgflow 0.14): step \"" + step.slug +
                    "\" of flow \"" + shape.slug + "\" uses " + condition +
                    ". Install pgflow-cpp's schema (`pgflow install` or client::install_schema) to use them");
    }
}

/// Throws, before anything is sent, when the flow has steps without handlers (signal, sleep,
/// subflow) and the database (pgflow 0.8.1's own schema, say) cannot run them.
inline void check_handlerless_steps_supported(pq::connection& conn, const flow_shape& shape) {
    for (const auto& step : shape.steps) {
        if (step.kind == step_kind::handler) continue;
        if (probe_capabilities(conn).handlerless_steps) return;
        throw error(
            "pgflow: the database's pgflow schema has no steps without handlers (capability "
            "handlerless_steps: pgflow_cpp.set_step_kind, signal, wake_due_waits): step \"" +
            step.slug + "\" of flow \"" + shape.slug + "\" is a " + to_string(step.kind) +
            " step. Install pgflow-cpp's schema (`pgflow install` or client::install_schema) to use them");
    }
}

/// A signal step's timeout and value shape may change in place (pgflow_cpp.set_step_kind updates
/// them); a changed kind or child flow is a shape difference. A role that may not call
/// set_step_kind (a least-privilege worker) leaves them as the registering role stated them.
inline void update_signal_steps(pq::connection& conn, const flow_shape& registered, const flow_shape& defined) {
    bool may_update = false, asked = false;
    for (const auto& mine : defined.steps) {
        if (mine.kind != step_kind::signal) continue;
        for (const auto& theirs : registered.steps) {
            if (theirs.slug != mine.slug || theirs.kind != step_kind::signal) continue;
            const bool same_shape = same_json(parsed_pattern(theirs.value_shape), parsed_pattern(mine.value_shape));
            if (theirs.signal_timeout == mine.signal_timeout && same_shape) continue;
            if (!asked) {
                asked = true;
                may_update = conn.execute(
                                     "SELECT coalesce(has_function_privilege(to_regprocedure("
                                     "'pgflow_cpp.set_step_kind(text,text,text,integer,jsonb,text)'), "
                                     "'EXECUTE'), false)")
                                 .get<bool>(0, 0);
            }
            if (!may_update) return;
            conn.execute("SELECT pgflow_cpp.set_step_kind($1, $2, 'signal', $3::int, $4::jsonb, NULL)", defined.slug,
                         mine.slug, mine.signal_timeout,
                         mine.value_shape.empty() ? std::optional<std::string>() : mine.value_shape);
        }
    }
}

/// Registers `shape` unless the database has it; verifies it (and states its limits again) otherwise. One transaction, with an
/// advisory lock so that concurrent registrations of one slug cannot interleave. Throws
/// shape_mismatch_error listing every difference, and pgflow::error for a flow with conditions on
/// a database without them.
inline void ensure_registered(pq::connection& conn, const flow_shape& shape) {
    require_step_conditions(conn, shape);
    check_handlerless_steps_supported(conn, shape);
    require_flow_control(conn, shape);
    pq::transaction transaction(conn);
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('pgflow-cpp register ' || $1))", shape.slug);
    if (auto registered = read_registered_shape(conn, shape.slug)) {
        auto diff = shape_differences(*registered, shape);
        if (!diff.empty()) {
            std::string message = "pgflow: flow \"" + shape.slug +
                                  "\" is registered with a different shape. pgflow flows are immutable: "
                                  "give the changed flow a new slug (or delete the old flow's data first). "
                                  "Differences:";
            for (const auto& line : diff) message += "\n  - " + line;
            throw shape_mismatch_error(message);
        }
        update_signal_steps(conn, *registered, shape);
        restate_flow_limits(conn, shape);  // limits may change without a new slug
    } else {
        parameterized_statements registration;
        write_registration(registration, shape_source{shape});
        for (const auto& statement : registration.statements) {
            pq::parameters values;
            for (const auto& value : statement.values) values.add(value);
            conn.execute_with(statement.sql, values);
        }
    }
    transaction.commit();
}

}  // namespace pgflow::detail
