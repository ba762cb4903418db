#pragma once
// A deliberately small libpq wrapper for the benchmark drivers. The baselines (pgflow 0.8.1's edge
// worker protocol and the bare SKIP LOCKED queue) must not depend on pgflow-cpp's own client
// code: they measure the server-side SQL, so they speak libpq directly, always with parameters
// and prepared statements, synchronously or with one statement in flight per connection.

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgflow_bench {

struct pg_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// An owned PGresult; rows and columns by index, text format.
class result {
public:
    result() = default;
    explicit result(PGresult* r) : r_(r, &PQclear) {}
    [[nodiscard]] int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
    [[nodiscard]] bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    [[nodiscard]] std::string_view get(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    [[nodiscard]] long long get_int(int row, int col) const { return std::stoll(std::string(get(row, col))); }
    [[nodiscard]] double get_double(int row, int col) const { return std::stod(std::string(get(row, col))); }

private:
    std::shared_ptr<PGresult> r_;
};

using params = std::vector<std::string>;

class connection {
public:
    explicit connection(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str()), &PQfinish) {
        if (!c_ || PQstatus(c_.get()) != CONNECTION_OK)
            throw pg_error("cannot connect to '" + conninfo +
                           "': " + (c_ ? PQerrorMessage(c_.get()) : "out of memory"));
        PQsetNoticeProcessor(
            c_.get(), [](void*, const char*) {}, nullptr);
        cancel_.reset(PQgetCancel(c_.get()));
    }

    PGconn* raw() const { return c_.get(); }
    int socket() const { return PQsocket(c_.get()); }
    int backend_pid() const { return PQbackendPID(c_.get()); }

    /// One statement with $n parameters (text), result checked.
    result exec(const std::string& sql, const params& p = {}) {
        auto v = values(p);
        return checked(
            PQexecParams(c_.get(), sql.c_str(), static_cast<int>(p.size()), nullptr, v.data(), nullptr, nullptr, 0),
            sql);
    }

    /// A script of statements without parameters (schema installation).
    void exec_script(const std::string& sql, std::string_view what) {
        PGresult* r = PQexec(c_.get(), sql.c_str());
        checked(r, std::string(what));
    }

    void prepare(const std::string& name, const std::string& sql) {
        checked(PQprepare(c_.get(), name.c_str(), sql.c_str(), 0, nullptr), "prepare " + name);
    }

    result exec_prepared(const std::string& name, const params& p = {}) {
        auto v = values(p);
        return checked(
            PQexecPrepared(c_.get(), name.c_str(), static_cast<int>(p.size()), v.data(), nullptr, nullptr, 0), name);
    }

    /// Asynchronous form: send now, collect with finish() once the socket is readable.
    void send_prepared(const std::string& name, const params& p) {
        auto v = values(p);
        if (PQsendQueryPrepared(c_.get(), name.c_str(), static_cast<int>(p.size()), v.data(), nullptr, nullptr, 0) == 0)
            throw pg_error(name + ": " + PQerrorMessage(c_.get()));
        pending_ = name;
    }
    /// Reads what arrived; true when the statement sent with send_prepared has fully answered.
    bool consume() {
        if (PQconsumeInput(c_.get()) == 0) throw pg_error(pending_ + ": " + PQerrorMessage(c_.get()));
        return PQisBusy(c_.get()) == 0;
    }
    result finish() {
        result last;
        std::string error;
        while (PGresult* r = PQgetResult(c_.get())) {
            auto status = PQresultStatus(r);
            if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && error.empty())
                error = PQresultErrorMessage(r);
            last = result(r);
        }
        if (!error.empty()) throw pg_error(pending_ + ": " + error);
        return last;
    }

    /// Asks the server to cancel whatever this connection is running (e.g. a long read_with_poll).
    /// Safe to call from another thread than the one using the connection.
    void cancel() const {
        char buf[256];
        if (cancel_) PQcancel(cancel_.get(), buf, sizeof buf);
    }

private:
    static std::vector<const char*> values(const params& p) {
        std::vector<const char*> v;
        v.reserve(p.size());
        for (const auto& s : p) v.push_back(s.c_str());
        return v;
    }
    result checked(PGresult* r, const std::string& what) {
        result owned(r);
        if (!r) throw pg_error(what + ": " + PQerrorMessage(c_.get()));
        auto status = PQresultStatus(r);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
            throw pg_error(what + ": " + PQresultErrorMessage(r));
        return owned;
    }

    std::unique_ptr<PGconn, decltype(&PQfinish)> c_;
    std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel_{nullptr, &PQfreeCancel};
    std::string pending_;
};

}  // namespace pgflow_bench
