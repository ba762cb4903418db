#pragma once
// pgflow::connection_options — where the database is. A PostgreSQL URL or key=value connection
// string, or the environment the way psql reads it: PGFLOW_DATABASE_URL first, then libpq's PGHOST,
// PGPORT, PGUSER, PGDATABASE, PGPASSWORD, … variables.

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow {

class connection_options {
public:
    /// The environment: PGFLOW_DATABASE_URL when set and non-empty, otherwise libpq's defaults
    /// (PG* variables, then the local socket).
    connection_options() : connection_options(from_environment()) {}

    /// A URL (`postgresql://user@host:5432/db?sslmode=disable`) or a key=value string
    /// (`host=localhost dbname=app`). Settings it leaves out come from the PG* environment, as in
    /// psql. Throws pgflow::error with libpq's explanation when the text does not parse.
    explicit connection_options(std::string conninfo) : conninfo_(std::move(conninfo)) {
        if (!conninfo_.empty()) {
            char* message = nullptr;
            PQconninfoOption* parsed = PQconninfoParse(conninfo_.c_str(), &message);
            if (parsed == nullptr) {
                std::string why = message ? pq::detail::trimmed(message) : "out of memory";
                if (message) PQfreemem(message);
                throw error("pgflow: invalid connection string: " + why);
            }
            PQconninfoFree(parsed);
        }
    }

    [[nodiscard]] static connection_options from_environment() {
        const char* url = std::getenv("PGFLOW_DATABASE_URL");
        connection_options options{std::string(url != nullptr ? url : "")};
        return options;
    }

    /// Overrides one libpq setting (dbname, application_name, connect_timeout, …).
    connection_options& set(std::string keyword, std::string value) & {
        for (auto& [k, v] : overrides_)
            if (k == keyword) {
                v = std::move(value);
                return *this;
            }
        overrides_.emplace_back(std::move(keyword), std::move(value));
        return *this;
    }
    connection_options&& set(std::string keyword, std::string value) && {
        set(std::move(keyword), std::move(value));
        return std::move(*this);
    }

    /// The same server and credentials, another database.
    [[nodiscard]] connection_options with_database(std::string dbname) const {
        connection_options copy = *this;
        copy.set("dbname", std::move(dbname));
        return copy;
    }

    [[nodiscard]] connection_options with_application_name(std::string name) const {
        connection_options copy = *this;
        copy.set("application_name", std::move(name));
        return copy;
    }

    [[nodiscard]] const std::string& conninfo() const noexcept { return conninfo_; }

    /// Keyword/value pairs for PQconnectdbParams: the connection string first (expanded by
    /// libpq), then the overrides, which win.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> keywords() const {
        std::vector<std::pair<std::string, std::string>> k;
        k.emplace_back("dbname", conninfo_);
        bool has_timeout = false;
        for (const auto& o : overrides_) {
            has_timeout = has_timeout || o.first == "connect_timeout";
            k.push_back(o);
        }
        // A server that does not answer must not hang a worker's reconnect loop forever.
        if (!has_timeout && std::getenv("PGCONNECT_TIMEOUT") == nullptr &&
            conninfo_.find("connect_timeout") == std::string::npos)
            k.emplace_back("connect_timeout", "10");
        return k;
    }

    /// Opens a connection with these settings.
    [[nodiscard]] pq::connection connect() const { return pq::connection(keywords()); }

private:
    std::string conninfo_;
    std::vector<std::pair<std::string, std::string>> overrides_;
};

}  // namespace pgflow
