#pragma once
// Registering a flow from its shape (its registration_sql text, in one transaction) and
// comparing a shape with the one a database already has. Shared by the client, the worker and
// dynamic flows.

#include <pgflow/compile/registration_text.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/transaction.hpp>
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

/// The flow as registered in pgflow.flows/steps/deps, or nullopt when the slug is unknown.
/// Dependencies come sorted by slug (the database keeps no declaration order).
inline std::optional<flow_shape> read_registered_shape(pq::connection& conn, std::string_view flow_slug) {
    auto r = conn.execute(R"(
SELECT json_build_object(
  'max_attempts', f.opt_max_attempts, 'base_delay', f.opt_base_delay, 'timeout', f.opt_timeout,
  'steps', coalesce((
    SELECT json_agg(json_build_object(
      'slug', s.step_slug, 'type', s.step_type, 'max_attempts', s.opt_max_attempts,
      'base_delay', s.opt_base_delay, 'timeout', s.opt_timeout, 'start_delay', s.opt_start_delay,
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
        for (const auto& d : s.at("deps").as_array()) step.dependencies.emplace_back(d.as_string());
        shape.steps.push_back(std::move(step));
    }
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
    }
    for (const auto& theirs : registered.steps)
        if (find(defined, theirs.slug) == nullptr)
            diff.push_back("step \"" + theirs.slug + "\": registered but not defined");
    return diff;
}

/// Registers `shape` unless the database has it; verifies it otherwise. One transaction, with an
/// advisory lock so that concurrent registrations of one slug cannot interleave. Throws
/// shape_mismatch_error listing every difference.
inline void ensure_registered(pq::connection& conn, const flow_shape& shape) {
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
