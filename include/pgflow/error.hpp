#pragma once
// The exceptions pgflow-cpp throws. Every message names what was wrong (flow, step, JSON path,
// SQLSTATE…) so that a log line alone is enough to act on.

#include <pgflow/pq/sqlstate.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow {

/// Base of every pgflow-cpp exception.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// JSON that does not fit the C++ type it is decoded into. `path()` is a JSON path such as
/// `$.items[3].price`; `what()` also names the flow and step when known.
class json_decode_error : public error {
public:
    json_decode_error(std::string message, std::string path) : error(std::move(message)), path_(std::move(path)) {}
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

/// A task for a step the flow (or the dynamic flow's handler table) does not have.
class unknown_step_error : public error {
public:
    using error::error;
};

/// The database objects a server error names (libpq's PG_DIAG_SCHEMA_NAME, PG_DIAG_TABLE_NAME and
/// PG_DIAG_CONSTRAINT_NAME fields) and its primary message (PG_DIAG_MESSAGE_PRIMARY); empty where
/// the error has none. `refused_connection`: the server refused a new connection with this code
/// (42501, a missing CONNECT privilege, means that only when connecting).
struct database_error_objects {
    std::string schema_name;
    std::string table_name;
    std::string constraint_name;
    std::string primary_message;
    bool refused_connection = false;
};

/// A statement the server rejected, or a connection problem. `sqlstate()` is the five-character
/// SQLSTATE ("08006" and friends for connection failures), empty when libpq gave none; the codes
/// and their families are named in <pgflow/pq/sqlstate.hpp>.
class database_error : public error {
public:
    database_error(std::string message, std::string sqlstate, database_error_objects objects = {})
        : error(std::move(message)), sqlstate_(std::move(sqlstate)), objects_(std::move(objects)) {}
    [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
    /// The constraint a violation (SQLSTATE class 23) names, e.g. "runs_pkey"; from the server's
    /// error field, not from the message text.
    [[nodiscard]] const std::string& constraint_name() const noexcept { return objects_.constraint_name; }
    [[nodiscard]] const std::string& table_name() const noexcept { return objects_.table_name; }
    [[nodiscard]] const std::string& schema_name() const noexcept { return objects_.schema_name; }
    /// The server's message alone ("Run <id> is completed: ..."), without the statement, detail,
    /// hint and SQLSTATE that what() adds; empty for errors the server did not send.
    [[nodiscard]] const std::string& primary_message() const noexcept { return objects_.primary_message; }
    /// True for connection-class errors (SQLSTATE class 08, 57P01-57P03) and a lost connection.
    [[nodiscard]] bool is_connection_error() const noexcept { return pq::sqlstate::is_connection_lost(sqlstate_); }
    /// True when the server refused a new connection's role, password or database (class 28,
    /// 3D000, or 42501 for a role without CONNECT privilege): a setting to fix, not a connection
    /// to try again.
    [[nodiscard]] bool is_connection_refused_error() const noexcept {
        return objects_.refused_connection || pq::sqlstate::is_connection_refused(sqlstate_);
    }
    /// True for a transaction that may succeed when tried again (class 40, 55P03, 25P02).
    [[nodiscard]] bool is_retryable_transaction_error() const noexcept {
        return pq::sqlstate::is_retryable_transaction(sqlstate_);
    }
    /// True for a schema, table or function that does not exist (3F000, 42P01, 42883).
    [[nodiscard]] bool is_undefined_object_error() const noexcept {
        return pq::sqlstate::is_undefined_object(sqlstate_);
    }

private:
    std::string sqlstate_;
    database_error_objects objects_;
};

/// An argument the library refuses, e.g. text given to pgflow::run_id that is not a UUID.
class invalid_argument_error : public error {
public:
    using error::error;
};

namespace detail {

/// Refuses a setting of an options struct: "pgflow: <options>.<name> must be <rule> (got <got>)".
[[noreturn]] inline void refuse_option(std::string_view options, std::string_view name, const std::string& rule,
                                       const std::string& got) {
    throw invalid_argument_error("pgflow: " + std::string(options) + "." + std::string(name) + " must be " + rule +
                                 " (got " + got + ")");
}

/// Whether a loop that runs for a long time (worker, scheduler) waits `e` out and connects again:
/// a lost or unreachable server always; a refused role, password or database only once the loop
/// has been connected (the server's settings may be changing), not at its start, where the error
/// is a setting to fix and run() ends with it.
[[nodiscard]] inline bool reconnecting_waits_out(const database_error& e, bool has_connected) noexcept {
    return e.is_connection_error() || (has_connected && e.is_connection_refused_error());
}

}  // namespace detail

/// A run that ended in status 'failed'; carries the failing step and its error message.
class run_failed_error : public error {
public:
    run_failed_error(std::string run_id, std::string step_slug, std::string error_message)
        : error("pgflow run " + run_id + " failed" +
                (step_slug.empty() ? std::string{} : " in step \"" + step_slug + "\"") +
                (error_message.empty() ? std::string{} : ": " + error_message)),
          run_id_(std::move(run_id)), step_slug_(std::move(step_slug)), error_message_(std::move(error_message)) {}
    [[nodiscard]] const std::string& run_id() const noexcept { return run_id_; }
    [[nodiscard]] const std::string& step_slug() const noexcept { return step_slug_; }
    [[nodiscard]] const std::string& error_message() const noexcept { return error_message_; }

private:
    std::string run_id_, step_slug_, error_message_;
};

/// A wait that ran out of time; the run goes on in the database.
class timeout_error : public error {
public:
    using error::error;
};

/// The flow registered in the database differs from the one compiled into the program.
class shape_mismatch_error : public error {
public:
    using error::error;
};

/// A dynamic flow definition that cannot be registered (unknown dependency, cycle, bad slug…).
class definition_error : public error {
public:
    using error::error;
};

/// Thrown by a handler for a failure no retry can fix (an invalid order, say): its task fails at
/// once, whatever attempts remain, with this message as its error. On a database installed from
/// pgflow 0.8.1's migrations (no pgflow_cpp.fail_task_permanently) it is an ordinary failure.
class permanent_error : public error {
public:
    using error::error;
};

}  // namespace pgflow
