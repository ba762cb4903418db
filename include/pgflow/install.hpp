#pragma once
// pgflow::install_schema — installs (or upgrades) the pgflow schema from the SQL of sql/install.sql
// embedded in <pgflow/detail/embedded_sql.hpp>, exactly what `psql -f sql/install.sql` does, in one
// transaction.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/transaction.hpp>

#include <pgflow/detail/embedded_sql.hpp>

#include <string>
#include <string_view>

namespace pgflow {

/// Which pgmq to install: the pgmq extension when the server has it (1.5 or newer), the project's
/// built-in pgmq-compatible queue otherwise (`automatic`), or one of them by force.
enum class queue_mode { automatic, builtin, extension };

constexpr std::string_view to_string(queue_mode m) noexcept {
    switch (m) {
        case queue_mode::builtin: return "builtin";
        case queue_mode::extension: return "extension";
        default: return "auto";
    }
}

struct install_options {
    queue_mode queue = queue_mode::automatic;
    /// Install only the queue (schema pgmq), not schema pgflow: for putting another pgflow
    /// implementation (pgflow 0.8.1's own migrations) on top of the built-in queue.
    bool queue_only = false;
};

namespace detail {
/// Which queue to install. sql/queue/choose.sql refuses a queue it cannot install with its message
/// as the text of a failed boolean cast (a plain SELECT, run by psql too, cannot RAISE): that
/// message alone, with its SQLSTATE 22P02, rather than "invalid input syntax for type boolean".
inline bool install_builtin_queue(pq::connection& conn) {
    try {
        return conn.execute(embedded_sql::choose_queue_query).get<bool>(0, 0);
    } catch (const database_error& e) {
        const std::string& m = e.primary_message();
        const auto begin = m.find("\"pgflow install: ");
        if (e.sqlstate() != "22P02" || begin == std::string::npos || m.back() != '"') throw;
        throw database_error(m.substr(begin + 1, m.size() - begin - 2), e.sqlstate());
    }
}
}  // namespace detail

/// Runs the embedded installation on `conn`. Idempotent; concurrent installers are serialised
/// with an advisory lock. Throws database_error naming the file that failed, or saying why the
/// queue asked for cannot be installed ("pgflow install: queue=extension requested, but …").
inline void install_schema(pq::connection& conn, install_options options = {}) {
    namespace sql = detail::embedded_sql;
    pq::transaction tx(conn);
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('pgflow-cpp install'))");
    conn.execute("SELECT set_config('pgflow.install_queue', $1, true)", to_string(options.queue));
    const bool builtin = detail::install_builtin_queue(conn);
    for (const auto& file : sql::files) {
        const bool wanted = file.section == sql::part::common ? !options.queue_only
                                                              : (file.section == sql::part::builtin_queue) == builtin;
        if (wanted) conn.execute_script(file.text, "installing sql/" + std::string(file.path));
    }
    tx.commit();
}

}  // namespace pgflow
