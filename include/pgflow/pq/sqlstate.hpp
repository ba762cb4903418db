#pragma once
// pgflow::pq::sqlstate — the SQLSTATE codes the library acts on, by name, and the families of them
// it treats alike (a lost connection, a refused one, a transaction worth retrying, a schema that is
// not installed).
// No libpq here: error.hpp, which the DSL includes, classifies its database_error with these.

#include <string_view>

namespace pgflow::pq::sqlstate {

// Class 08 and 57P0x: the connection is gone or going.
inline constexpr std::string_view connection_exception = "08000";
inline constexpr std::string_view sqlclient_unable_to_establish_sqlconnection = "08001";
inline constexpr std::string_view connection_failure = "08006";
inline constexpr std::string_view admin_shutdown = "57P01";
inline constexpr std::string_view crash_shutdown = "57P02";
inline constexpr std::string_view cannot_connect_now = "57P03";

// Refusals of a new connection: the role, its password or the database. pq::connection reports
// these with the server's code (any other failure to connect is 08001).
inline constexpr std::string_view invalid_authorization_specification = "28000";  ///< e.g. no such role
inline constexpr std::string_view invalid_password = "28P01";
inline constexpr std::string_view invalid_catalog_name = "3D000";  ///< no such database
/// A statement's "permission denied"; when connecting, a role without CONNECT privilege on the
/// database (pq::connection reports that as a refusal too).
inline constexpr std::string_view insufficient_privilege = "42501";

// Class 23: a constraint said no (database_error::constraint_name() says which).
inline constexpr std::string_view foreign_key_violation = "23503";
inline constexpr std::string_view unique_violation = "23505";
inline constexpr std::string_view check_violation = "23514";

// Transactions that may succeed when tried again.
inline constexpr std::string_view serialization_failure = "40001";
inline constexpr std::string_view deadlock_detected = "40P01";
inline constexpr std::string_view lock_not_available = "55P03";
/// Also what pq::connection::run_pipeline reports for a statement skipped because an earlier
/// statement of its transaction failed.
inline constexpr std::string_view in_failed_sql_transaction = "25P02";
inline constexpr std::string_view read_only_sql_transaction = "25006";

// Objects the statement names but the database does not have.
inline constexpr std::string_view invalid_schema_name = "3F000";
inline constexpr std::string_view undefined_table = "42P01";
inline constexpr std::string_view undefined_function = "42883";

// What pgflow_cpp's run-control functions raise when they refuse (sql/README.md, "Run control").
inline constexpr std::string_view no_data_found = "P0002";                     ///< an unknown run
inline constexpr std::string_view object_not_in_prerequisite_state = "55000";  ///< a state that forbids it
inline constexpr std::string_view invalid_parameter_value = "22023";  ///< e.g. a signal value of the wrong shape

/// True when `code` belongs to the two-character class `sqlstate_class` ("08", "23", "40"…).
constexpr bool in_class(std::string_view code, std::string_view sqlstate_class) noexcept {
    return code.size() == 5 && code.substr(0, 2) == sqlstate_class;
}

/// The connection is lost or the server is going away; an empty code is what libpq gives for a
/// connection that broke without the server saying anything.
constexpr bool is_connection_lost(std::string_view code) noexcept {
    return code.empty() || in_class(code, "08") || code == admin_shutdown || code == crash_shutdown ||
           code == cannot_connect_now;
}

/// The server refused the connection's role, password or database (class 28, 3D000): trying again
/// with the same settings fails the same way.
constexpr bool is_connection_refused(std::string_view code) noexcept {
    return in_class(code, "28") || code == invalid_catalog_name;
}

/// The statement itself is fine; the transaction lost a race (class 40: serialization failure,
/// deadlock), a lock was not available, or it was skipped for an earlier statement's failure.
constexpr bool is_retryable_transaction(std::string_view code) noexcept {
    return in_class(code, "40") || code == lock_not_available || code == in_failed_sql_transaction;
}

/// A schema, table or function the statement names does not exist: most likely a database
/// without the pgflow schema.
constexpr bool is_undefined_object(std::string_view code) noexcept {
    return code == invalid_schema_name || code == undefined_table || code == undefined_function;
}

}  // namespace pgflow::pq::sqlstate
