#pragma once
// pgflow::pq::transaction — BEGIN on construction, COMMIT on commit(), ROLLBACK when it goes out of
// scope uncommitted (an exception on the way), so no caller writes the three statements by hand.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>

namespace pgflow::pq {

/// One transaction on `conn`, which must outlive it:
///
///     pq::transaction tx(conn);
///     conn.execute(...);
///     tx.commit();
///
/// Not movable: the guard and the transaction it ends live in one scope.
class transaction {
public:
    /// Sends BEGIN; throws database_error when the server refuses it.
    explicit transaction(connection& conn) : conn_(conn) { conn_.execute("BEGIN"); }

    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    transaction(transaction&&) = delete;
    transaction& operator=(transaction&&) = delete;

    /// Rolls back unless committed or rolled back already. Never throws: it runs while an
    /// exception unwinds the stack, and that exception, not a failing ROLLBACK, is the one worth
    /// reporting. A broken connection needs no ROLLBACK (the server ends the transaction).
    ~transaction() {
        if (finished_ || !conn_.is_ok()) return;
        try {
            conn_.execute("ROLLBACK");
        } catch (...) {  // see above: the exception unwinding, if any, is the one to report
        }
    }

    /// Sends COMMIT; throws database_error when it fails. The transaction is over either way (a
    /// failed COMMIT ends it rolled back), so the destructor sends nothing more.
    void commit() {
        finished_ = true;
        conn_.execute("COMMIT");
    }

    /// Sends ROLLBACK now, throwing database_error when it fails.
    void rollback() {
        finished_ = true;
        conn_.execute("ROLLBACK");
    }

    /// False once commit() or rollback() was called.
    [[nodiscard]] bool active() const noexcept { return !finished_; }

private:
    connection& conn_;
    bool finished_ = false;
};

}  // namespace pgflow::pq
