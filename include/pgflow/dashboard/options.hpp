#pragma once
// pgflow::dashboard::options — where the dashboard listens, who may use it, what it may do, and
// the threads and connections it uses. check_options() refuses what would be unsafe: a listen
// address other than loopback without a token.

#include <pgflow/connection_options.hpp>
#include <pgflow/dashboard/auth.hpp>
#include <pgflow/error.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace pgflow::dashboard {

struct options {
    /// host:port to listen on ("[::1]:8080" for IPv6); port 0 picks a free port (see on_listening).
    std::string listen = "127.0.0.1:8080";
    /// Required for a non-loopback listen address: every request must then carry it (Authorization:
    /// Bearer <token>, or the cookie `/?token=<token>` sets). Empty: no token.
    std::string token;
    /// Enables POST /api/runs/<id>/cancel|retry|resume; without it they answer 403.
    bool allow_actions = false;
    /// The database to show (default: PGFLOW_DATABASE_URL, else the PG* variables).
    connection_options database;
    int io_threads = 2;            ///< threads serving the sockets (requests never block them)
    int database_connections = 4;  ///< threads running queries, one connection each at most
    std::chrono::milliseconds statement_timeout{10000};
    std::size_t max_event_streams = 256;  ///< concurrent live run streams (more get 503)
    std::size_t max_connections = 1024;   ///< concurrent HTTP connections (more are closed)
    /// Diagnostics (a lost events connection, …); default: stderr.
    std::function<void(std::string_view)> log;
    /// Called once listening, with the dashboard's URL (e.g. to print it).
    std::function<void(std::string_view url)> on_listening;
};

namespace detail {

/// The host and port of options::listen.
struct listen_address {
    std::string host;
    unsigned short port = 0;
};

inline listen_address parse_listen(std::string_view text) {
    const auto colon = text.rfind(':');
    auto fail = [&] {
        return error("pgflow dashboard: --listen " + std::string(text) +
                     " is not host:port (e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)");
    };
    if (colon == std::string_view::npos || colon == 0) throw fail();
    listen_address a;
    a.host = std::string(text.substr(0, colon));
    if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
        a.host = a.host.substr(1, a.host.size() - 2);
    const auto port = text.substr(colon + 1);
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size()) throw fail();
    return a;
}

/// Throws pgflow::error explaining what is wrong with `o`.
inline void check_options(const options& o) {
    const auto address = parse_listen(o.listen);
    if (o.token.empty() && !is_loopback_host(address.host))
        throw error("pgflow dashboard: listening on " + o.listen +
                    " (not a loopback address) needs a token: pass --token (or set PGFLOW_DASHBOARD_TOKEN) and "
                    "open the dashboard at /?token=<token>");
    for (char c : o.token)
        if (c <= ' ' || c > '~' || c == ';' || c == ',' || c == '"' || c == '\\')
            throw error("pgflow dashboard: the token may contain only visible ASCII characters other than ; , \" \\");
    if (o.io_threads < 1 || o.database_connections < 1 || o.statement_timeout.count() <= 0)
        throw error("pgflow dashboard: io_threads, database_connections and statement_timeout must be positive");
}

}  // namespace detail

}  // namespace pgflow::dashboard
