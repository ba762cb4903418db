#pragma once
// The dashboard's routes: which path is which route and the method it takes (checked on the
// network threads, before anything waits for the database), the access checks, the embedded
// files, and the calls of the API on a pooled connection (on the database threads).

#include <pgflow/dashboard/actions.hpp>
#include <pgflow/dashboard/api.hpp>
#include <pgflow/dashboard/assets.hpp>
#include <pgflow/dashboard/auth.hpp>
#include <pgflow/dashboard/http.hpp>
#include <pgflow/dashboard/metrics.hpp>
#include <pgflow/dashboard/options.hpp>
#include <pgflow/dashboard/pool.hpp>
#include <pgflow/error.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow::dashboard::detail {

enum class route_kind {
    asset,
    overview,
    flows,
    flow,
    runs,
    run,
    run_value,
    run_events,
    action,
    workers,
    queues,
    throughput,
    metrics
};

struct route {
    route_kind kind;
    std::string argument;  ///< the flow slug or run id in the path
    std::string action;    ///< cancel, retry or resume
};

/// The route of a decoded path; a 404 naming the path when there is none.
inline route match_route(std::string_view path) {
    const auto p = path_segments(path);
    const auto n = p.size();
    auto is = [&](std::size_t i, std::string_view word) { return i < n && p[i] == word; };
    if (n == 0 || is(0, "assets")) return {route_kind::asset, {}, {}};
    if (n == 1 && is(0, "metrics")) return {route_kind::metrics, {}, {}};
    if (is(0, "api")) {
        if (n == 2 && is(1, "overview")) return {route_kind::overview, {}, {}};
        if (n == 2 && is(1, "flows")) return {route_kind::flows, {}, {}};
        if (n == 3 && is(1, "flows")) return {route_kind::flow, std::string(p[2]), {}};
        if (n == 2 && is(1, "runs")) return {route_kind::runs, {}, {}};
        if (n == 3 && is(1, "runs")) return {route_kind::run, std::string(p[2]), {}};
        if (n == 4 && is(1, "runs") && is(3, "value")) return {route_kind::run_value, std::string(p[2]), {}};
        if (n == 4 && is(1, "runs") && is(3, "events")) return {route_kind::run_events, std::string(p[2]), {}};
        if (n == 4 && is(1, "runs") && (is(3, "cancel") || is(3, "retry") || is(3, "resume")))
            return {route_kind::action, std::string(p[2]), std::string(p[3])};
        if (n == 2 && is(1, "workers")) return {route_kind::workers, {}, {}};
        if (n == 2 && is(1, "queues")) return {route_kind::queues, {}, {}};
        if (n == 2 && is(1, "throughput")) return {route_kind::throughput, {}, {}};
    }
    throw not_found("there is no route " + json_quoted(path));
}

/// What a request is, as the checks before routing see it.
struct request_facts {
    std::string_view method;  ///< "GET", "POST", …
    std::string_view host;    ///< the Host header
    std::string_view origin;  ///< the Origin header
    std::string_view authorization, cookie;
};

/// The host part of a Host header ("127.0.0.1:8080" → 127.0.0.1, "[::1]:80" → ::1).
inline std::string_view host_name(std::string_view host) {
    if (host.starts_with('[')) return host.substr(1, host.find(']') - 1);
    return host.substr(0, host.find(':'));
}

/// Access and method checks; an answer when the request ends here (an error, the token cookie's
/// redirect, an embedded file), nullopt when it goes on to the database threads.
inline std::optional<response> check_request(const options& o, const request_facts& f, const target& t,
                                             const route& r) {
    if (o.token.empty() && !f.host.empty() && !is_loopback_host(host_name(f.host)))
        // Without a token only loopback names may be used: a page of another site that resolves
        // its own name to 127.0.0.1 (DNS rebinding) must not read the dashboard.
        throw http_error(403, "this dashboard answers only to loopback host names (localhost, 127.0.0.1, [::1])");
    if (!o.token.empty() && t.path == "/" && t.get("token")) {
        if (!constant_time_equal(*t.get("token"), o.token)) throw http_error(401, "wrong token");
        response redirect;
        redirect.status = 303;
        redirect.content_type = "text/plain";
        redirect.headers = {
            {"Location", "/"},
            {"Set-Cookie", std::string(token_cookie) + "=" + o.token + "; Path=/; HttpOnly; SameSite=Strict"}};
        return redirect;
    }
    if (!authorized(o.token, f.authorization, f.cookie))
        throw http_error(401,
                         "this dashboard needs its token: open /?token=<token> or send Authorization: Bearer <token>");
    const bool post = r.kind == route_kind::action;
    if (f.method != (post ? "POST" : "GET")) {
        response refusal = error_response(405, "method " + std::string(f.method) + " is not allowed on " + t.path +
                                                   " (use " + (post ? "POST" : "GET") + ")");
        refusal.headers = {{"Allow", post ? "POST" : "GET"}};
        return refusal;
    }
    if (post) {
        if (!o.allow_actions)
            throw http_error(403, "actions are disabled: start the dashboard with --allow-actions to enable them");
        // A form on another site cannot post here on a logged-in browser's behalf.
        const auto scheme = f.origin.find("://");
        if (!f.origin.empty() && (scheme == std::string_view::npos || f.origin.substr(scheme + 3) != f.host))
            throw http_error(403, "cross-origin actions are refused (Origin " + std::string(f.origin) + ")");
    }
    if (r.kind == route_kind::asset) {
        for (const auto& a : assets)
            if (a.path == t.path) {
                response file;
                file.content_type = std::string(a.content_type);
                file.body = std::string(a.body);
                file.headers = {{"Cache-Control", "no-cache"}};
                return file;
            }
        throw not_found("there is no file " + json_quoted(t.path));
    }
    return std::nullopt;
}

/// What a missing schema, table or function most likely means.
inline constexpr std::string_view no_schema_hint =
    "; is the pgflow schema installed in this database? `pgflow install` installs it";

/// Runs a route that needs the database, on a connection of `pool`. A database failure is a 500
/// with its message, except data exceptions (SQLSTATE class 22: a value the server cannot read),
/// which are the request's fault.
inline response call_route(connection_pool& pool, const route& r, const target& t, bool actions_allowed) {
    try {
        auto lease = pool.acquire();
        auto& c = lease->connection;
        switch (r.kind) {
            case route_kind::overview: return overview(c, actions_allowed);
            case route_kind::flows: return flows(c);
            case route_kind::flow: return flow(c, r.argument);
            case route_kind::runs: return runs(c, t);
            case route_kind::run: return run(c, r.argument, lease->has_run_control());
            case route_kind::run_value: return run_value(c, r.argument, t);
            case route_kind::run_events: {
                const run_id id = run_id_parameter(r.argument);
                if (c.execute(sql::run_input, id).empty())
                    throw not_found("there is no run " + id.str() + " in this database");
                response stream;
                stream.stream_run = id.str();
                return stream;
            }
            case route_kind::action: return run_action(c, r.action, r.argument, lease->has_run_control());
            case route_kind::workers: return workers(c);
            case route_kind::queues: return queues(c);
            case route_kind::throughput: return throughput(c, t);
            case route_kind::metrics: {
                response m;
                m.content_type = "text/plain; version=0.0.4; charset=utf-8";
                write_metrics(c, m.body);
                return m;
            }
            case route_kind::asset: break;
        }
        throw not_found("there is no route " + json_quoted(t.path));
    } catch (const http_error& e) {
        return error_response(e.status(), e.what());
    } catch (const database_error& e) {
        if (e.is_undefined_object_error()) return error_response(500, e.what() + std::string(no_schema_hint));
        return error_response(e.sqlstate().starts_with("22") ? 400 : 500, e.what());
    } catch (const std::exception& e) {
        return error_response(500, e.what());
    }
}

/// Said once when the dashboard starts, in its log: a database it cannot reach, or one without
/// the pgflow schema, makes every API call answer 500 (the server keeps serving and retries).
inline void report_database_state(connection_pool& pool, const std::function<void(std::string_view)>& log) {
    try {
        auto lease = pool.acquire();
        if (lease->connection.execute("SELECT to_regclass('pgflow.flows') IS NULL").get<bool>(0, 0))
            log("pgflow dashboard: the database has no pgflow schema" + std::string(no_schema_hint) +
                " (the API answers 500 until then)");
    } catch (const std::exception& e) {
        log("pgflow dashboard: cannot reach the database (" + std::string(e.what()) +
            "); the API answers 500 until it can");
    }
}

}  // namespace pgflow::dashboard::detail
