#pragma once
// pgflow::pq::connection — one libpq connection: parameterized and prepared statements with checked
// results, multi-statement scripts, LISTEN/NOTIFY with a pollable socket, and pipelines that send
// many statements in one round trip. Not thread-safe: one connection belongs to one thread at a time.

#include <pgflow/error.hpp>
#include <pgflow/pq/connect.hpp>
#include <pgflow/pq/parameters.hpp>
#include <pgflow/pq/result.hpp>
#include <pgflow/pq/sqlstate.hpp>

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pgflow::pq {

/// A NOTIFY received on a channel this connection LISTENs to.
struct notification {
    std::string channel;
    std::string payload;
    int backend_pid = 0;
};

/// One statement of a pipeline: a prepared statement's name or SQL text, and its parameters.
struct pipelined_statement {
    std::string prepared_name;  ///< non-empty: run this prepared statement
    std::string sql;            ///< otherwise: this single statement
    parameters params;
    /// Runs in one transaction with the next statement (no sync in between): if it fails, the
    /// rest of that transaction is skipped and reports a database_error saying so.
    bool same_transaction_as_next = false;
};

/// What one pipelined statement produced: its result, or the error the server answered with.
using pipelined_outcome = std::variant<result, database_error>;

/// run_pipeline's connection error, with the outcomes of the first statements whose transactions
/// the server confirmed (their sync came back) before the connection broke: those committed.
class pipeline_interrupted : public database_error {
public:
    pipeline_interrupted(const database_error& cause, std::vector<pipelined_outcome> confirmed)
        : database_error(cause), confirmed(std::move(confirmed)) {}
    std::vector<pipelined_outcome> confirmed;
};

namespace detail {
struct connection_deleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct freemem_deleter {
    void operator()(void* p) const noexcept { PQfreemem(p); }
};

}  // namespace detail

/// Why wait_for_input() returned.
enum class wait_result { input, wake, timeout };

class connection {
public:
    /// Connects with libpq keyword/value pairs; a "dbname" value may itself be a connection
    /// string or URL (expand_dbname), and later pairs override what it sets. Throws
    /// database_error with libpq's message when it cannot connect: SQLSTATE 08001 (a connection
    /// error, worth trying again: no server, too many connections, starting up, timed out), or the
    /// server's own code when it refused the role, the password or the database (class 28,
    /// 3D000, 42501 for a missing CONNECT privilege: is_connection_refused_error()).
    explicit connection(const detail::connection_keywords& keywords) {
        // libpq gives no SQLSTATE for a failed connection, but with verbose errors its message
        // carries the server's; PQconnectdbParams cannot be told so, so the connection is started
        // here and awaited as PQconnectdb would (detail::await_connection).
        std::string failure;    // what ended the last wait early ("" when libpq finished it)
        std::string timed_out;  // the servers left out because they did not answer in time
        detail::connection_keywords settings = keywords;
        bool expand_dbname = true;
        for (auto servers = std::numeric_limits<std::size_t>::max();;) {
            start(settings, expand_dbname, false);
            failure.clear();
            if (PQstatus(conn_.get()) == CONNECTION_BAD) break;  // refused at once: libpq's message says why
            PQsetErrorVerbosity(conn_.get(), PQERRORS_VERBOSE);
            auto wait = detail::await_connection(conn_.get());
            failure = std::move(wait.failure);
            // A server that did not answer in time ends the wait, where PQconnectdb would go on
            // to the settings' other servers: when they name several, they are tried without it.
            if (!wait.timed_out || !detail::names_several_hosts(conn_.get())) break;
            auto next = detail::settings_without_current_server(conn_.get());
            if (next.what == detail::next_servers::verdict::none_left) break;
            if (next.what == detail::next_servers::verdict::unknown || next.servers >= servers) {
                // No entry can be told to name it (or leaving it out did not shorten the list):
                // libpq's own connect tries them all, that one again too (up to twice
                // connect_timeout), and its message says how each failed.
                start(settings, expand_dbname, true);
                failure.clear();
                break;
            }
            timed_out += failure + '\n';
            settings = std::move(next.settings);
            expand_dbname = false;
            servers = next.servers;
        }
        std::string code;
        if (failure.empty() && PQstatus(conn_.get()) != CONNECTION_OK) {
            auto f = detail::parse_connect_failure(pq::detail::trimmed(PQerrorMessage(conn_.get())));
            failure = std::move(f.message);
            code = std::move(f.sqlstate);
            // A password the server asked for and the settings lack is as refused as a wrong one.
            if (code.empty() && PQconnectionNeedsPassword(conn_.get()) != 0) code = sqlstate::invalid_password;
        }
        if (!failure.empty()) {
            failure.insert(0, timed_out);
            // When connecting, 42501 can only mean a missing CONNECT privilege: refused too.
            database_error_objects refusal;
            refusal.refused_connection =
                sqlstate::is_connection_refused(code) || code == sqlstate::insufficient_privilege;
            throw database_error(
                "pgflow: could not connect to PostgreSQL: " + failure,
                refusal.refused_connection ? code : std::string(sqlstate::sqlclient_unable_to_establish_sqlconnection),
                std::move(refusal));
        }
        PQsetErrorVerbosity(conn_.get(), PQERRORS_DEFAULT);
        // Server messages (NOTICE) would otherwise go to stderr; the library stays quiet.
        PQsetNoticeProcessor(
            conn_.get(), [](void*, const char*) {}, nullptr);
    }

    /// Connects with a connection string ("host=… dbname=…" or "postgresql://…"); an empty string
    /// means libpq's defaults (PGHOST, PGPORT, PGUSER, PGDATABASE, … environment variables).
    explicit connection(std::string_view conninfo)
        : connection(std::vector<std::pair<std::string, std::string>>{{"dbname", std::string(conninfo)}}) {}

    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;

    /// False once the connection is known to be broken (a statement failed with a connection error).
    [[nodiscard]] bool is_ok() const noexcept { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

    /// Runs one statement with parameters ($1, $2, …) and returns its checked result.
    template <class... Args>
    result execute(std::string_view sql, const Args&... args) {
        if constexpr (sizeof...(Args) == 1 && (std::is_same_v<Args, parameters> && ...)) {
            return execute_with(sql, args...);
        } else {
            return execute_with(sql, parameters(args...));
        }
    }

    result execute_with(std::string_view sql, const parameters& params) {
        std::string text(sql);
        auto pointers = params.pointers();
        return checked(
            PQexecParams(conn_.get(), text.c_str(), params.size(), nullptr, pointers.data(), nullptr, nullptr, 0),
            conn_.get(), context_of(sql));
    }

    /// Prepares `sql` under `name` unless this connection already has it.
    void prepare(const std::string& name, std::string_view sql) {
        if (prepared_.contains(name)) return;
        std::string text(sql);
        checked(PQprepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr), conn_.get(),
                "preparing statement " + name);
        prepared_.insert(name);
    }

    template <class... Args>
    result execute_prepared(const std::string& name, const Args&... args) {
        if constexpr (sizeof...(Args) == 1 && (std::is_same_v<Args, parameters> && ...)) {
            return execute_prepared_with(name, args...);
        } else {
            return execute_prepared_with(name, parameters(args...));
        }
    }

    result execute_prepared_with(const std::string& name, const parameters& params) {
        auto pointers = params.pointers();
        return checked(PQexecPrepared(conn_.get(), name.c_str(), params.size(), pointers.data(), nullptr, nullptr, 0),
                       conn_.get(), "statement " + name);
    }

    /// Runs a script of several statements without parameters (installation files). Stops at,
    /// and throws, the first error; `what` names the script in the message.
    void execute_script(std::string_view script, std::string_view what) {
        std::string text(script);
        if (PQsendQuery(conn_.get(), text.c_str()) == 0) throw pq::detail::make_error(nullptr, conn_.get(), what);
        std::optional<database_error> first_error;
        while (PGresult* r = PQgetResult(conn_.get())) {
            result owned{r};
            const auto status = PQresultStatus(r);
            if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY && !first_error)
                first_error = pq::detail::make_error(r, conn_.get(), what);
        }
        if (first_error) throw *first_error;
        if (!is_ok()) throw pq::detail::make_error(nullptr, conn_.get(), what);
    }

    /// Quotes an identifier (channel names contain ':' so they always need it).
    [[nodiscard]] std::string quote_identifier(std::string_view name) const {
        std::unique_ptr<char, detail::freemem_deleter> quoted(
            PQescapeIdentifier(conn_.get(), name.data(), name.size()));
        if (!quoted) throw pq::detail::make_error(nullptr, conn_.get(), "quoting an identifier");
        return quoted.get();
    }

    /// LISTEN has no parameter form; the channel name is quoted as an identifier instead.
    void listen(std::string_view channel) { execute("LISTEN " + quote_identifier(channel)); }
    void unlisten(std::string_view channel) { execute("UNLISTEN " + quote_identifier(channel)); }

    /// Reads whatever the server has sent (without blocking) and returns the next notification.
    /// Throws a connection database_error when the connection turns out to be broken.
    std::optional<notification> next_notification() {
        if (PQconsumeInput(conn_.get()) == 0)
            throw pq::detail::make_error(nullptr, conn_.get(), "reading notifications");
        return pop_notification();
    }

    /// The next notification libpq has already received, without reading the socket.
    std::optional<notification> pop_notification() {
        std::unique_ptr<PGnotify, detail::freemem_deleter> n(PQnotifies(conn_.get()));
        if (!n) return std::nullopt;
        return notification{n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid};
    }

    /// Blocks until the server sends something, `wake_fd` (if ≥ 0) becomes readable, or the
    /// timeout passes. Used between statements to sleep until a NOTIFY arrives.
    wait_result wait_for_input(std::chrono::milliseconds timeout, int wake_fd = -1) {
        pollfd fds[2] = {{PQsocket(conn_.get()), POLLIN, 0}, {wake_fd, POLLIN, 0}};
        if (fds[0].fd < 0) throw pq::detail::make_error(nullptr, conn_.get(), "waiting for the server");
        const int count = wake_fd >= 0 ? 2 : 1;
        const int ms = static_cast<int>(std::clamp<long long>(timeout.count(), 0, 24LL * 3600 * 1000));
        int n;
        do {
            n = ::poll(fds, static_cast<nfds_t>(count), ms);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) return wait_result::timeout;
        if (count == 2 && (fds[1].revents & POLLIN) != 0) return wait_result::wake;
        return wait_result::input;
    }

    /// Sends every statement in one round trip, each in its own implicit transaction (a sync
    /// after each, so one failing statement does not abort the others) unless it is marked
    /// same_transaction_as_next, and returns one outcome per statement in order. A broken
    /// connection throws pipeline_interrupted, holding the outcomes of the statements confirmed
    /// before it broke (a claim that committed must not be forgotten); of the rest the caller
    /// cannot know which the server committed.
    std::vector<pipelined_outcome> run_pipeline(const std::vector<pipelined_statement>& statements) {
        std::vector<pipelined_outcome> outcomes;
        if (statements.empty()) return outcomes;
        outcomes.reserve(statements.size());
        if (PQenterPipelineMode(conn_.get()) == 0)
            throw pq::detail::make_error(nullptr, conn_.get(), "entering pipeline mode");
        struct exit_guard {
            PGconn* c;
            // Only reached with every result read, or with a broken connection that is discarded.
            ~exit_guard() { PQexitPipelineMode(c); }
        } guard{conn_.get()};
        for (const auto& s : statements) {
            auto pointers = s.params.pointers();
            int ok = s.prepared_name.empty()
                         ? PQsendQueryParams(conn_.get(), s.sql.c_str(), s.params.size(), nullptr, pointers.data(),
                                             nullptr, nullptr, 0)
                         : PQsendQueryPrepared(conn_.get(), s.prepared_name.c_str(), s.params.size(), pointers.data(),
                                               nullptr, nullptr, 0);
            const bool last = &s == &statements.back();
            if (ok == 0 || ((!s.same_transaction_as_next || last) && PQpipelineSync(conn_.get()) == 0))
                throw pq::detail::make_error(nullptr, conn_.get(), "sending a pipeline");
        }
        std::size_t confirmed = 0;
        try {
            read_pipeline(statements, outcomes, confirmed);
        } catch (const database_error& e) {
            if (!e.is_connection_error()) throw;
            outcomes.resize(confirmed);
            throw pipeline_interrupted(e, std::move(outcomes));
        }
        return outcomes;
    }

    [[nodiscard]] int backend_pid() const noexcept { return PQbackendPID(conn_.get()); }
    [[nodiscard]] PGconn* native() const noexcept { return conn_.get(); }

private:
    // Starts connecting with `settings` (libpq keyword/value pairs; a "dbname" value is itself
    // expanded as a connection string or URL when `expand_dbname`), or connects (`blocking`).
    void start(const detail::connection_keywords& settings, bool expand_dbname, bool blocking) {
        std::vector<const char*> keys, values;
        for (const auto& [k, v] : settings) {
            keys.push_back(k.c_str());
            values.push_back(v.c_str());
        }
        keys.push_back(nullptr);
        values.push_back(nullptr);
        const int expand = expand_dbname ? 1 : 0;
        conn_.reset(blocking ? PQconnectdbParams(keys.data(), values.data(), expand)
                             : PQconnectStartParams(keys.data(), values.data(), expand));
        if (!conn_)
            throw database_error("pgflow: could not allocate a libpq connection",
                                 std::string(sqlstate::sqlclient_unable_to_establish_sqlconnection));
    }

    // run_pipeline's reading half; `confirmed` counts the outcomes whose sync has come back.
    void read_pipeline(const std::vector<pipelined_statement>& statements, std::vector<pipelined_outcome>& outcomes,
                       std::size_t& confirmed) {
        for (const auto& s : statements) {
            std::optional<pipelined_outcome> outcome;
            // The statement's results up to the null that ends them, then, where a sync followed
            // it, the sync's PGRES_PIPELINE_SYNC.
            for (;;) {
                PGresult* r = PQgetResult(conn_.get());
                if (r == nullptr) {
                    if (!is_ok()) throw pq::detail::make_error(nullptr, conn_.get(), "reading a pipeline");
                    if (outcome) break;
                    // libpq ends each statement's results with one null and sends none after a
                    // sync: a null where a result is due means it has nothing left queued for this
                    // pipeline, and asking again would spin forever (the fail-over test's client
                    // once did, on its connection to the killed primary). The caller reconnects.
                    throw database_error("pgflow: reading a pipeline: libpq has no result for statement " +
                                             std::to_string(&s - statements.data() + 1) + " of " +
                                             std::to_string(statements.size()) + " (" +
                                             pq::detail::trimmed(PQerrorMessage(conn_.get())) + ")",
                                         std::string(sqlstate::connection_failure));
                }
                const auto status = PQresultStatus(r);
                if (outcome) {
                    PQclear(r);
                    continue;
                }
                if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
                    outcome.emplace(result{r});
                } else if (status == PGRES_PIPELINE_ABORTED) {
                    PQclear(r);
                    outcome.emplace(database_error(
                        "pgflow: " + (s.prepared_name.empty() ? context_of(s.sql) : "statement " + s.prepared_name) +
                            " was skipped: an earlier statement of its transaction failed",
                        std::string(sqlstate::in_failed_sql_transaction)));
                } else {
                    auto e = pq::detail::make_error(
                        r, conn_.get(), s.prepared_name.empty() ? context_of(s.sql) : "statement " + s.prepared_name);
                    PQclear(r);
                    if (e.is_connection_error() && !is_ok()) throw e;
                    outcome.emplace(std::move(e));
                }
            }
            const bool syncs = !s.same_transaction_as_next || &s == &statements.back();
            if (syncs) {
                PGresult* r = PQgetResult(conn_.get());
                const bool synced = r != nullptr && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
                PQclear(r);
                if (!synced) throw pq::detail::make_error(nullptr, conn_.get(), "reading a pipeline");
            }
            outcomes.push_back(std::move(*outcome));
            if (syncs) confirmed = outcomes.size();
        }
    }

    static std::string context_of(std::string_view sql) {
        constexpr std::size_t limit = 60;
        std::string s(sql.substr(0, std::min(sql.size(), limit)));
        std::replace(s.begin(), s.end(), '\n', ' ');
        return "statement \"" + s + (sql.size() > limit ? "…\"" : "\"");
    }

    std::unique_ptr<PGconn, detail::connection_deleter> conn_;
    std::set<std::string> prepared_;
};

}  // namespace pgflow::pq
