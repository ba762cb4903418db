#pragma once
// The dashboard's JSON API on one connection: the reading and checking of each route's parameters
// (a bad one is a 400 naming it) and the call of its statement (dashboard/queries.hpp).

#include <pgflow/dashboard/http.hpp>
#include <pgflow/dashboard/queries.hpp>
#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/run_id.hpp>
#include <pgflow/slug.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace pgflow::dashboard::detail {

/// An integer query parameter within [low, high], or `fallback` when absent.
inline long long integer_parameter(const target& t, std::string_view name, long long low, long long high,
                                   long long fallback) {
    const auto text = t.get(name);
    if (!text) return fallback;
    long long value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size() || value < low || value > high)
        throw bad_request("parameter " + std::string(name) + " must be an integer from " + std::to_string(low) +
                          " to " + std::to_string(high) + ", not " + json_quoted(*text));
    return value;
}

inline run_id run_id_parameter(std::string_view text) {
    try {
        return run_id{text};
    } catch (const invalid_argument_error&) {
        throw bad_request(json_quoted(text) + " is not a run id (a UUID: 8-4-4-4-12 hex digits)");
    }
}

inline std::string slug_parameter(std::string_view what, std::string_view text) {
    if (!pgflow::is_valid_slug(text))
        throw bad_request(std::string(what) + " " + json_quoted(text) +
                          " is not a valid slug (a letter or _, then letters, digits or _; at most 128)");
    return std::string(text);
}

/// A timestamp parameter, checked by PostgreSQL's own reading of timestamptz.
inline std::optional<std::string> time_parameter(pq::connection& c, const target& t, std::string_view name) {
    auto text = t.get(name);
    if (!text) return std::nullopt;
    try {
        c.execute(sql::check_timestamp, *text);
    } catch (const database_error& e) {
        if (!e.sqlstate().starts_with("22")) throw;
        throw bad_request("parameter " + std::string(name) + " " + json_quoted(*text) +
                          " is not a timestamp (e.g. 2026-01-31T12:00:00Z): " + e.primary_message());
    }
    return text;
}

/// The opaque keyset cursor of the run list: "<started_at µs since the epoch>_<run id>".
struct run_cursor {
    long long micros = 0;
    run_id id;
};

inline run_cursor cursor_parameter(std::string_view text) {
    const auto underscore = text.find('_');
    run_cursor c;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.substr(0, underscore).size(), c.micros);
    if (underscore == std::string_view::npos || ec != std::errc{} || end != text.data() + underscore ||
        !pgflow::detail::is_canonical_uuid(text.substr(underscore + 1)))
        throw bad_request("parameter before " + json_quoted(text) + " is not a cursor this server returned");
    c.id = run_id{text.substr(underscore + 1)};
    return c;
}

/// The totals, and whether this server accepts actions (the pages show their buttons only then).
inline response overview(pq::connection& c, bool actions_allowed) {
    return json_response(c.execute(sql::overview(), actions_allowed).get<std::string>(0, 0));
}

inline response flows(pq::connection& c) { return json_response(c.execute(sql::flows()).get<std::string>(0, 0)); }

inline response flow(pq::connection& c, std::string_view slug_text) {
    const std::string slug = slug_parameter("flow", slug_text);
    const auto r = c.execute(sql::flow(), slug);
    if (r.empty()) throw not_found("there is no flow " + json_quoted(slug) + " in this database");
    return json_response(r.get<std::string>(0, 0));
}

/// GET /api/runs: newest first, filtered by flow, status and time, keyset-paginated.
inline response runs(pq::connection& c, const target& t) {
    const long long limit = integer_parameter(t, "limit", 1, 500, 50);
    std::vector<std::string> conditions;
    pq::parameters params;
    auto bind = [&params](const auto& value) {
        params.add(value);
        return "$" + std::to_string(params.size());
    };
    if (auto flow = t.get("flow")) conditions.push_back("r.flow_slug = " + bind(slug_parameter("flow", *flow)));
    if (auto status = t.get("status")) {
        if (*status != "started" && *status != "completed" && *status != "failed")
            throw bad_request("parameter status must be started, completed or failed, not " + json_quoted(*status));
        conditions.push_back("r.status = " + bind(*status));
    }
    if (auto since = time_parameter(c, t, "since"))
        conditions.push_back("r.started_at >= " + bind(*since) + "::timestamptz");
    if (auto until = time_parameter(c, t, "until"))
        conditions.push_back("r.started_at < " + bind(*until) + "::timestamptz");
    if (auto before = t.get("before")) {
        const run_cursor cursor = cursor_parameter(*before);
        params.add(cursor.micros);
        params.add(cursor.id);
        conditions.push_back(sql::before_cursor(params.size() - 1, params.size()));
    }
    // One row more than the page: whether there is a next page.
    const std::string statement = sql::runs_page(conditions, t.get("flow") && !t.get("status"), bind(limit + 1));
    const auto r = c.execute_with(statement, params);
    std::string body = "{\"runs\":[";
    const int shown = r.rows() > limit ? static_cast<int>(limit) : r.rows();
    for (int i = 0; i < shown; ++i) {
        if (i > 0) body += ',';
        body += r.text(i, 0);
    }
    body += "],\"next\":";
    body += r.rows() > limit ? json_quoted(r.text(shown - 1, 1)) : "null";
    body += '}';
    return json_response(std::move(body));
}

/// GET /api/runs/<id>: the run, its steps and their tasks; 404 for an unknown run.
inline response run(pq::connection& c, std::string_view id_text, bool has_run_control) {
    const run_id id = run_id_parameter(id_text);
    const auto r = c.execute(sql::run(has_run_control), id);
    if (r.empty()) throw not_found("there is no run " + id.str() + " in this database");
    const auto steps = c.execute(sql::run_steps(), id);
    return json_response("{\"run\":" + r.get<std::string>(0, 0) + ",\"steps\":" + steps.get<std::string>(0, 0) + "}");
}

/// GET /api/runs/<id>/value?of=input|output|task:<step>:<index>: a value the run page truncated.
inline response run_value(pq::connection& c, std::string_view id_text, const target& t) {
    const run_id id = run_id_parameter(id_text);
    const std::string of = t.get("of").value_or("");
    pq::result r;
    if (of == "input") {
        r = c.execute(sql::run_input, id);
    } else if (of == "output") {
        r = c.execute(sql::run_output, id);
    } else if (of.starts_with("task:")) {
        const auto colon = of.rfind(':');
        const std::string step = slug_parameter("step", std::string_view(of).substr(5, colon - 5));
        int index = -1;
        const auto [end, ec] = std::from_chars(of.data() + colon + 1, of.data() + of.size(), index);
        if (colon <= 5 || ec != std::errc{} || end != of.data() + of.size() || index < 0)
            throw bad_request("parameter of " + json_quoted(of) + " must be task:<step slug>:<task index>");
        r = c.execute(sql::task_output, id, step, index);
    } else {
        throw bad_request("parameter of must be input, output or task:<step slug>:<task index>, not " +
                          json_quoted(of));
    }
    if (r.empty()) throw not_found("run " + id.str() + " has no " + json_quoted(of));
    return json_response(r.is_null(0, 0) ? "null" : r.get<std::string>(0, 0));
}

inline response workers(pq::connection& c) { return json_response(c.execute(sql::workers).get<std::string>(0, 0)); }

inline response queues(pq::connection& c) { return json_response(c.execute(sql::queues).get<std::string>(0, 0)); }

inline response throughput(pq::connection& c, const target& t) {
    const long long minutes = integer_parameter(t, "minutes", 1, 1440, 60);
    return json_response(c.execute(sql::throughput, minutes).get<std::string>(0, 0));
}

}  // namespace pgflow::dashboard::detail
