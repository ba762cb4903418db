#pragma once
// pgflow::pq::result — an owned PGresult with checked, typed access to its text-format values,
// and the conversion of libpq failures into pgflow::database_error.

#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/sqlstate.hpp>

#include <libpq-fe.h>

#include <boost/json/value.hpp>

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace pgflow::pq {

namespace detail {

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};

inline std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

inline std::string error_field(const PGresult* r, int field) {
    const char* value = PQresultErrorField(r, field);
    return value != nullptr ? value : "";
}

/// The objects a server error names, from libpq's own fields (the message text is translated and
/// may change between server versions; these do not).
inline database_error_objects error_objects(const PGresult* r) {
    return {error_field(r, PG_DIAG_SCHEMA_NAME), error_field(r, PG_DIAG_TABLE_NAME),
            error_field(r, PG_DIAG_CONSTRAINT_NAME), error_field(r, PG_DIAG_MESSAGE_PRIMARY)};
}

/// The error a failed result (or a null result, meaning the connection failed) stands for.
/// `context` says what was being done ("preparing statement complete_task", …).
inline database_error make_error(const PGresult* r, const PGconn* conn, std::string_view context) {
    std::string message = "pgflow: ";
    if (!context.empty()) {
        message.append(context);
        message.append(": ");
    }
    std::string sqlstate;
    database_error_objects objects;
    if (r != nullptr && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) != nullptr) {
        message.append(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
        if (const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) {
            message.append(" (detail: ");
            message.append(detail);
            message.push_back(')');
        }
        if (const char* hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT)) {
            message.append(" (hint: ");
            message.append(hint);
            message.push_back(')');
        }
        if (const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) sqlstate = state;
        objects = error_objects(r);
    } else if (r != nullptr && *PQresultErrorMessage(r) != '\0') {
        message.append(trimmed(PQresultErrorMessage(r)));
    } else {
        std::string text = conn != nullptr ? trimmed(PQerrorMessage(conn)) : std::string{};
        message.append(text.empty() ? "lost the connection to the server" : text);
    }
    // A connection that broke while the statement ran reports SQLSTATE 08006 where the server could
    // not say anything itself; callers decide on reconnecting from is_connection_error().
    if (sqlstate.empty() && conn != nullptr && PQstatus(conn) == CONNECTION_BAD)
        sqlstate = sqlstate::connection_failure;
    if (!sqlstate.empty()) {
        message.append(" [SQLSTATE ");
        message.append(sqlstate);
        message.push_back(']');
    }
    return {std::move(message), std::move(sqlstate), std::move(objects)};
}

template <class T>
inline constexpr bool always_false = false;

}  // namespace detail

/// The outcome of one statement. Values are read in libpq's text format.
class result {
public:
    result() = default;
    explicit result(PGresult* r) noexcept : handle_(r) {}

    [[nodiscard]] int rows() const noexcept { return handle_ ? PQntuples(handle_.get()) : 0; }
    [[nodiscard]] int columns() const noexcept { return handle_ ? PQnfields(handle_.get()) : 0; }
    [[nodiscard]] bool empty() const noexcept { return rows() == 0; }
    /// Rows changed by an INSERT/UPDATE/DELETE, 0 for other statements.
    [[nodiscard]] long affected_rows() const {
        const char* n = handle_ ? PQcmdTuples(handle_.get()) : "";
        return *n == '\0' ? 0 : std::stol(n);
    }

    /// Index of the column with that name; throws pgflow::error naming it when absent.
    [[nodiscard]] int column(std::string_view name) const {
        for (int c = 0; c < columns(); ++c)
            if (name == PQfname(handle_.get(), c)) return c;
        throw error("pgflow: result has no column \"" + std::string(name) + "\"");
    }

    [[nodiscard]] bool is_null(int row, int col) const {
        check_cell(row, col);
        return PQgetisnull(handle_.get(), row, col) != 0;
    }

    /// The text value of a cell ("" for NULL); valid while this result lives.
    [[nodiscard]] std::string_view text(int row, int col) const {
        check_cell(row, col);
        return {PQgetvalue(handle_.get(), row, col), static_cast<std::size_t>(PQgetlength(handle_.get(), row, col))};
    }

    /// A cell converted to T: std::string, std::string_view, bool, an integer, double,
    /// boost::json::value (json/jsonb), or std::optional of those (NULL → nullopt).
    /// A NULL read as a non-optional T throws pgflow::error.
    template <class T>
    [[nodiscard]] T get(int row, int col) const {
        if constexpr (is_optional<T>::value) {
            if (is_null(row, col)) return std::nullopt;
            return get<typename T::value_type>(row, col);
        } else {
            if (is_null(row, col))
                throw error("pgflow: column \"" + std::string(PQfname(handle_.get(), col)) +
                            "\" is NULL where a value was expected");
            return convert<T>(text(row, col), col);
        }
    }

    template <class T>
    [[nodiscard]] T get(int row, std::string_view column_name) const {
        return get<T>(row, column(column_name));
    }

    [[nodiscard]] PGresult* native() const noexcept { return handle_.get(); }
    [[nodiscard]] explicit operator bool() const noexcept { return handle_ != nullptr; }

private:
    template <class T>
    struct is_optional : std::false_type {};
    template <class T>
    struct is_optional<std::optional<T>> : std::true_type {};

    void check_cell(int row, int col) const {
        if (row < 0 || row >= rows() || col < 0 || col >= columns())
            throw error("pgflow: cell (" + std::to_string(row) + ", " + std::to_string(col) +
                        ") is outside a result of " + std::to_string(rows()) + " rows and " +
                        std::to_string(columns()) + " columns");
    }

    template <class T>
    T convert(std::string_view s, int col) const {
        if constexpr (std::is_same_v<T, std::string>) {
            return std::string(s);
        } else if constexpr (std::is_same_v<T, std::string_view>) {
            return s;
        } else if constexpr (std::is_same_v<T, bool>) {
            if (s == "t" || s == "true") return true;
            if (s == "f" || s == "false") return false;
            throw conversion_error(s, col, "a boolean");
        } else if constexpr (std::is_integral_v<T>) {
            T value{};
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
            if (ec != std::errc{} || end != s.data() + s.size()) throw conversion_error(s, col, "an integer");
            return value;
        } else if constexpr (std::is_same_v<T, double>) {
            return std::stod(std::string(s));
        } else if constexpr (std::is_same_v<T, boost::json::value>) {
            try {
                return pgflow::parse_json(s);
            } catch (const json_parse_error& e) {  // the column's name only on the error path
                throw json_parse_error(
                    pgflow::detail::concat({"the JSON of column \"", PQfname(handle_.get(), col), "\""}), e.problem(),
                    e.path(), e.offset());
            }
        } else {
            static_assert(detail::always_false<T>, "pgflow::pq::result::get: unsupported type");
        }
    }

    [[nodiscard]] error conversion_error(std::string_view s, int col, const std::string& what) const {
        return error("pgflow: column \"" + std::string(PQfname(handle_.get(), col)) + "\" value \"" + std::string(s) +
                     "\" is not " + what);
    }

    std::unique_ptr<PGresult, detail::result_deleter> handle_;
};

/// Throws the matching database_error unless `r` is a successful result; returns it owned.
inline result checked(PGresult* r, const PGconn* conn, std::string_view context) {
    result owned{r};
    if (r == nullptr) throw detail::make_error(nullptr, conn, context);
    switch (PQresultStatus(r)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
        case PGRES_PIPELINE_SYNC: return owned;
        default: throw detail::make_error(r, conn, context);
    }
}

}  // namespace pgflow::pq
