// The libpq layer and the connection options against a real server: parameters of every kind,
// checked results, errors with the server's message and SQLSTATE, scripts, pipelines whose
// statements fail independently, LISTEN/NOTIFY, the objects an error names, transactions.

#include "e2e_support.hpp"

#include <pgflow/runtime/time.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/sqlstate.hpp>
#include <pgflow/pq/transaction.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

using namespace e2e;

namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A server that never answers: a socket on 127.0.0.1 that listens and never reads, so that
// connections are accepted by the kernel and then wait for a startup reply that never comes.
class silent_server {
public:
    silent_server() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof a;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), size) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &size) != 0)
            throw std::runtime_error("silent_server: cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
    }
    silent_server(const silent_server&) = delete;
    silent_server& operator=(const silent_server&) = delete;
    ~silent_server() { ::close(fd_); }
    [[nodiscard]] std::string port() const { return std::to_string(port_); }

private:
    int fd_;
    unsigned short port_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(pq, parameters_of_every_kind_reach_the_server_as_values) {
    auto c = pgflow::connection_options::from_environment().connect();
    const std::vector<std::string> texts{"plain", "with,comma", "quote\"d", "back\\slash", "{brace}", "NULL", ""};
    auto r = c.execute(
        "SELECT $1::int + 1, $2::text, $3::bool, $4::jsonb ->> 'k', $5::text[] = $6::text[], "
        "array_length($5::text[], 1), $7::bigint[], $8::text IS NULL, $9::uuid",
        41, std::string_view("it's; DROP TABLE x; --"), true, boost::json::value({{"k", "v"}}), texts, texts,
        std::vector<long long>{1, -2, 3}, std::optional<int>{}, pgflow::run_id{"6f1c2a38-0b1e-4e3f-9b7a-1c2d3e4f5a6b"});
    EXPECT_EQ(r.get<int>(0, 0), 42);
    EXPECT_EQ(r.get<std::string>(0, 1), "it's; DROP TABLE x; --");
    EXPECT_TRUE(r.get<bool>(0, 2));
    EXPECT_EQ(r.get<std::string>(0, 3), "v");
    EXPECT_TRUE(r.get<bool>(0, 4));
    EXPECT_EQ(r.get<int>(0, 5), static_cast<int>(texts.size()));
    EXPECT_EQ(r.get<std::string>(0, 6), "{1,-2,3}");
    EXPECT_TRUE(r.get<bool>(0, 7));
    EXPECT_EQ(r.get<std::string>(0, 8), "6f1c2a38-0b1e-4e3f-9b7a-1c2d3e4f5a6b");
    // Each element survives the array literal unchanged.
    auto each = c.execute("SELECT x FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n", texts);
    ASSERT_EQ(each.rows(), static_cast<int>(texts.size()));
    for (int i = 0; i < each.rows(); ++i) EXPECT_EQ(each.get<std::string>(i, 0), texts[static_cast<std::size_t>(i)]);
}

TEST(pq, results_are_checked_and_typed) {
    auto c = pgflow::connection_options::from_environment().connect();
    auto r = c.execute("SELECT NULL::int AS missing, 'x'::text AS word, '{\"a\":[1,2]}'::jsonb AS doc");
    EXPECT_EQ(r.get<std::optional<int>>(0, "missing"), std::nullopt);
    EXPECT_THROW((void)r.get<int>(0, "missing"), pgflow::error);
    EXPECT_THROW((void)r.get<int>(0, "word"), pgflow::error);
    EXPECT_THROW((void)r.get<int>(1, 0), pgflow::error);
    EXPECT_THROW((void)r.column("nope"), pgflow::error);
    EXPECT_EQ(r.get<boost::json::value>(0, "doc").at("a").as_array().size(), 2U);
}

TEST(pq, server_errors_carry_message_and_sqlstate) {
    auto c = pgflow::connection_options::from_environment().connect();
    try {
        c.execute("SELECT 1 / $1::int", 0);
        FAIL() << "division by zero succeeded";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "22012");
        EXPECT_TRUE(contains(e.what(), "division by zero")) << e.what();
        EXPECT_TRUE(contains(e.what(), "SQLSTATE 22012")) << e.what();
        EXPECT_FALSE(e.is_connection_error());
    }
    EXPECT_EQ(c.execute("SELECT 2").get<int>(0, 0), 2) << "the connection stays usable after an error";
    try {
        c.execute_script("CREATE TEMP TABLE t (x int); INSERT INTO t VALUES ('x');", "my_script.sql");
        FAIL() << "the script's error was not reported";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "22P02");
        EXPECT_TRUE(contains(e.what(), "my_script.sql")) << e.what();
    }
}

TEST(pq, pipeline_statements_fail_independently_and_keep_their_order) {
    auto c = pgflow::connection_options::from_environment().connect();
    c.prepare("add_one", "SELECT $1::int + 1");
    std::vector<pgflow::pq::pipelined_statement> statements;
    statements.push_back({"add_one", {}, pgflow::pq::parameters(1)});
    statements.push_back({{}, "SELECT 1 / $1::int", pgflow::pq::parameters(0)});
    statements.push_back({"add_one", {}, pgflow::pq::parameters(41)});
    statements.push_back({{}, "SELECT $1::text", pgflow::pq::parameters("last")});
    const auto outcomes = c.run_pipeline(statements);
    ASSERT_EQ(outcomes.size(), 4U);
    EXPECT_EQ(std::get<pgflow::pq::result>(outcomes[0]).get<int>(0, 0), 2);
    EXPECT_EQ(std::get<pgflow::database_error>(outcomes[1]).sqlstate(), "22012");
    EXPECT_EQ(std::get<pgflow::pq::result>(outcomes[2]).get<int>(0, 0), 42);
    EXPECT_EQ(std::get<pgflow::pq::result>(outcomes[3]).get<std::string>(0, 0), "last");
    EXPECT_EQ(c.execute("SELECT 3").get<int>(0, 0), 3) << "the connection leaves pipeline mode";
}

TEST(pq, notifications_wake_a_waiting_connection) {
    auto listener = pgflow::connection_options::from_environment().connect();
    auto sender = pgflow::connection_options::from_environment().connect();
    listener.listen("pgflow:test:channel");
    EXPECT_FALSE(listener.next_notification().has_value());
    std::jthread notify([&] {
        std::this_thread::sleep_for(100ms);
        sender.execute("SELECT pg_notify($1, $2)", "pgflow:test:channel", "hello");
    });
    const auto started = clock::now();
    EXPECT_EQ(listener.wait_for_input(5s), pgflow::pq::wait_result::input);
    EXPECT_LT(std::chrono::duration<double>(clock::now() - started).count(), 2.0);
    const auto n = listener.next_notification();
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->channel, "pgflow:test:channel");
    EXPECT_EQ(n->payload, "hello");
    EXPECT_EQ(listener.wait_for_input(50ms), pgflow::pq::wait_result::timeout);
}

TEST(pq, terminated_backend_is_a_connection_error) {
    auto victim = pgflow::connection_options::from_environment().connect();
    auto killer = pgflow::connection_options::from_environment().connect();
    killer.execute("SELECT pg_terminate_backend($1::int)", victim.backend_pid());
    try {
        victim.execute("SELECT 1");
        FAIL() << "a terminated connection still answered";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what() << " / " << e.sqlstate();
    }
    EXPECT_FALSE(victim.is_ok());
}

TEST(connection_options, url_key_value_and_overrides) {
    const pgflow::connection_options url{"postgresql://someone@db.example:6543/app?sslmode=disable"};
    const auto other = url.with_database("other").with_application_name("tests");
    const auto k = other.keywords();
    ASSERT_GE(k.size(), 3U);
    EXPECT_EQ(k[0].first, "dbname");
    EXPECT_EQ(k[0].second, "postgresql://someone@db.example:6543/app?sslmode=disable");
    EXPECT_NE(std::find(k.begin(), k.end(), std::pair<std::string, std::string>{"dbname", "other"}), k.end());
    EXPECT_NE(std::find(k.begin(), k.end(), std::pair<std::string, std::string>{"application_name", "tests"}), k.end());
    EXPECT_NO_THROW(pgflow::connection_options{"host=localhost port=5432 dbname=x"});
    EXPECT_THROW(pgflow::connection_options{"host=localhost port"}, pgflow::error);
}

TEST(connection_options, environment_prefers_pgflow_database_url) {
    const char* saved = std::getenv("PGFLOW_DATABASE_URL");
    const std::string previous = saved ? saved : "";
    ::setenv("PGFLOW_DATABASE_URL", "postgresql://u@h:1/d", 1);
    EXPECT_EQ(pgflow::connection_options{}.conninfo(), "postgresql://u@h:1/d");
    ::unsetenv("PGFLOW_DATABASE_URL");
    EXPECT_EQ(pgflow::connection_options{}.conninfo(), "") << "empty: libpq reads PGHOST, PGPORT, … itself";
    // With only PG* variables (as psql uses them) the server is still reached.
    if (std::getenv("PGHOST") != nullptr || std::getenv("PGPORT") != nullptr) {
        EXPECT_EQ(pgflow::connection_options{}.connect().execute("SELECT 1").get<int>(0, 0), 1);
    }
    if (saved) ::setenv("PGFLOW_DATABASE_URL", previous.c_str(), 1);
}

TEST(timestamps, postgres_json_timestamps_parse) {
    using namespace std::chrono;
    const auto t = pgflow::detail::parse_timestamptz("2026-11-22T22:43:23.274628+00:00");
    EXPECT_EQ(duration_cast<microseconds>(t.time_since_epoch()).count() % 1000000, 274628);
    const auto shifted = pgflow::detail::parse_timestamptz("2026-11-22T23:43:23.274628+01:00");
    EXPECT_EQ(t, shifted);
    EXPECT_EQ(pgflow::detail::parse_timestamptz("2026-11-22T22:43:23+00:00") + microseconds{274628}, t);
    EXPECT_THROW(pgflow::detail::parse_timestamptz("yesterday"), pgflow::error);
    EXPECT_THROW(pgflow::detail::parse_timestamptz("2026-13-40T00:00:00+00:00"), pgflow::error);
}

TEST(pq, pipeline_statements_can_share_a_transaction) {
    auto c = pgflow::connection_options::from_environment().connect();
    std::vector<pgflow::pq::pipelined_statement> statements;
    // A local setting is seen by the next statement of the same transaction only.
    statements.push_back({{}, "SELECT set_config('pgflow.test_setting', 'on', true)", {}, true});
    statements.push_back({{}, "SELECT current_setting('pgflow.test_setting', true)", {}});
    statements.push_back({{}, "SELECT coalesce(current_setting('pgflow.test_setting', true), '')", {}});
    // A failure skips the rest of its transaction, not the statements after it.
    statements.push_back({{}, "SELECT 1 / $1::int", pgflow::pq::parameters(0), true});
    statements.push_back({{}, "SELECT 'skipped'", {}});
    statements.push_back({{}, "SELECT 'runs'", {}});
    const auto outcomes = c.run_pipeline(statements);
    ASSERT_EQ(outcomes.size(), 6U);
    EXPECT_EQ(std::get<pgflow::pq::result>(outcomes[1]).get<std::string>(0, 0), "on");
    EXPECT_EQ(std::get<pgflow::pq::result>(outcomes[2]).get<std::string>(0, 0), "");
    EXPECT_EQ(std::get<pgflow::database_error>(outcomes[3]).sqlstate(), "22012");
    const auto& skipped = std::get<pgflow::database_error>(outcomes[4]);
    EXPECT_EQ(skipped.sqlstate(), "25P02");
    EXPECT_TRUE(contains(skipped.what(), "skipped")) << skipped.what();
    EXPECT_EQ(std::get<pgflow::pq::result>(outcomes[5]).get<std::string>(0, 0), "runs");
    EXPECT_EQ(c.execute("SELECT 3").get<int>(0, 0), 3) << "the connection leaves pipeline mode";
}

TEST(pq, a_pipeline_broken_midway_returns_the_outcomes_the_server_confirmed) {
    auto c = pgflow::connection_options::from_environment().connect();
    std::vector<pgflow::pq::pipelined_statement> statements;
    statements.push_back({{}, "SELECT 1", {}});
    statements.push_back({{}, "SELECT 2", {}, true});  // one transaction with the next: not confirmed
    statements.push_back({{}, "SELECT pg_terminate_backend(pg_backend_pid())", {}});
    statements.push_back({{}, "SELECT 4", {}});
    try {
        (void)c.run_pipeline(statements);
        ADD_FAILURE() << "the pipeline ran through a terminated connection";
    } catch (const pgflow::pq::pipeline_interrupted& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
        ASSERT_EQ(e.confirmed.size(), 1U) << "only the first statement's sync came back";
        EXPECT_EQ(std::get<pgflow::pq::result>(e.confirmed[0]).get<int>(0, 0), 1);
    }
}

TEST(pq, a_constraint_violation_names_its_constraint_table_and_schema_from_the_servers_fields) {
    auto c = pgflow::connection_options::from_environment().connect();
    c.execute("CREATE TEMP TABLE parent (id int CONSTRAINT parent_pkey PRIMARY KEY)");
    c.execute("CREATE TEMP TABLE child (parent_id int CONSTRAINT child_parent_fkey REFERENCES parent)");
    c.execute("INSERT INTO parent VALUES (1)");
    try {
        c.execute("INSERT INTO parent VALUES ($1::int)", 1);
        FAIL() << "a duplicate key was accepted";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), pgflow::pq::sqlstate::unique_violation);
        EXPECT_EQ(e.constraint_name(), "parent_pkey");
        EXPECT_EQ(e.primary_message(), "duplicate key value violates unique constraint \"parent_pkey\"");
        EXPECT_EQ(e.table_name(), "parent");
        EXPECT_TRUE(e.schema_name().starts_with("pg_temp")) << e.schema_name();
    }
    try {
        c.execute("INSERT INTO child VALUES (2)");
        FAIL() << "a dangling reference was accepted";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), pgflow::pq::sqlstate::foreign_key_violation);
        EXPECT_EQ(e.constraint_name(), "child_parent_fkey");
        EXPECT_EQ(e.table_name(), "child");
    }
    try {
        c.execute("SELECT * FROM no_such_table");
        FAIL() << "an unknown table was found";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_undefined_object_error()) << e.sqlstate();
        EXPECT_TRUE(e.constraint_name().empty());
    }
}

namespace {

int rows_of(pgflow::pq::connection& c) { return c.execute("SELECT count(*)::int FROM t").get<int>(0, 0); }
bool idle(const pgflow::pq::connection& c) { return PQtransactionStatus(c.native()) == PQTRANS_IDLE; }

}  // namespace

TEST(pq, a_transaction_commits_when_told_and_rolls_back_otherwise) {
    auto c = pgflow::connection_options::from_environment().connect();
    c.execute("CREATE TEMP TABLE t (x int)");
    {
        pgflow::pq::transaction tx(c);
        c.execute("INSERT INTO t VALUES (1)");
        EXPECT_TRUE(tx.active());
        tx.commit();
        EXPECT_FALSE(tx.active());
    }
    EXPECT_EQ(rows_of(c), 1);
    EXPECT_THROW(
        {
            pgflow::pq::transaction tx(c);
            c.execute("INSERT INTO t VALUES (2)");
            throw std::runtime_error("the caller gives up");
        },
        std::runtime_error);
    EXPECT_TRUE(idle(c)) << "the guard ended the transaction";
    EXPECT_EQ(rows_of(c), 1) << "the uncommitted row was rolled back";
    // A failed statement leaves the transaction aborted; the guard's ROLLBACK ends it all the same,
    // and the statement's error is the one that reaches the caller.
    try {
        pgflow::pq::transaction tx(c);
        c.execute("INSERT INTO t VALUES (3)");
        c.execute("SELECT 1 / $1::int", 0);
        tx.commit();
        FAIL() << "division by zero succeeded";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "22012");
    }
    EXPECT_TRUE(idle(c));
    EXPECT_EQ(rows_of(c), 1);
    {
        pgflow::pq::transaction tx(c);
        c.execute("INSERT INTO t VALUES (4)");
        tx.rollback();
        EXPECT_TRUE(idle(c));
    }
    EXPECT_EQ(rows_of(c), 1);
}

TEST(pq, a_transaction_on_a_lost_connection_ends_without_throwing_from_its_destructor) {
    auto victim = pgflow::connection_options::from_environment().connect();
    auto killer = pgflow::connection_options::from_environment().connect();
    try {
        pgflow::pq::transaction tx(victim);
        killer.execute("SELECT pg_terminate_backend($1::int)", victim.backend_pid());
        victim.execute("SELECT 1");
        FAIL() << "a terminated connection still answered";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
    }
    EXPECT_FALSE(victim.is_ok());
}

TEST(pq, a_server_that_never_answers_fails_the_connection_after_connect_timeout) {
    silent_server silent;
    const auto start = std::chrono::steady_clock::now();
    try {
        pgflow::pq::connection c({{"host", "127.0.0.1"}, {"port", silent.port()}, {"connect_timeout", "2"}});
        FAIL() << "connected to a server that never answers";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
        EXPECT_TRUE(contains(e.what(), "port " + silent.port() + " failed: timeout expired")) << e.what();
    }
    EXPECT_GE(seconds_since(start), 1.9);
    EXPECT_LT(seconds_since(start), 3.5);
}

TEST(pq, settings_without_the_server_that_timed_out_keep_the_others_and_everything_else) {
    using verdict = pgflow::pq::detail::next_servers::verdict;
    silent_server first, second;
    // Started and not awaited: libpq is on the first server it could reach, waiting for it to answer.
    const auto without_it = [](const std::string& conninfo) {
        std::unique_ptr<PGconn, void (*)(PGconn*)> c(PQconnectStart(conninfo.c_str()), PQfinish);
        EXPECT_NE(PQstatus(c.get()), CONNECTION_BAD) << PQerrorMessage(c.get());
        return pgflow::pq::detail::settings_without_current_server(c.get());
    };
    const auto value_of = [](const pgflow::pq::detail::next_servers& n, std::string_view key) {
        std::string v = "(unset)";
        for (const auto& [name, value] : n.settings)
            if (name == key) v = value;
        return v;
    };
    // Names with addresses (entry by entry), a port each, and the rest of the settings.
    auto rest = without_it("host=first.invalid,second.invalid hostaddr=127.0.0.1,127.0.0.1 port=" + first.port() + "," +
                           second.port() + " dbname=somewhere user=someone connect_timeout=7 application_name=probe");
    EXPECT_EQ(rest.what, verdict::retry_without);
    EXPECT_EQ(rest.servers, 1U);
    EXPECT_EQ(value_of(rest, "host"), "second.invalid");
    EXPECT_EQ(value_of(rest, "hostaddr"), "127.0.0.1");
    EXPECT_EQ(value_of(rest, "port"), second.port());
    EXPECT_EQ(value_of(rest, "dbname"), "somewhere");
    EXPECT_EQ(value_of(rest, "user"), "someone");
    EXPECT_EQ(value_of(rest, "connect_timeout"), "7");
    EXPECT_EQ(value_of(rest, "application_name"), "probe");

    // One name for two addresses: the address tells them apart.
    rest = without_it("host=db.invalid,db.invalid hostaddr=127.0.0.1,127.0.0.2 port=" + first.port());
    EXPECT_EQ(rest.what, verdict::retry_without);
    EXPECT_EQ(value_of(rest, "host"), "db.invalid");
    EXPECT_EQ(value_of(rest, "hostaddr"), "127.0.0.2");

    // Host names with one port for all: the others keep it; every entry naming the server goes.
    rest = without_it("host=127.0.0.1,localhost,127.0.0.1 port=" + first.port() + " dbname=somewhere");
    EXPECT_EQ(rest.what, verdict::retry_without);
    EXPECT_EQ(value_of(rest, "host"), "localhost");
    EXPECT_EQ(value_of(rest, "port"), first.port());

    // Nothing else to try.
    EXPECT_EQ(without_it("host=127.0.0.1,127.0.0.1 port=" + first.port()).what, verdict::none_left);

    // An empty entry (the default socket directory, where nothing listens on that port, so libpq
    // went on to the silent server at once) would leave an empty host list, which libpq fills in
    // again from PGHOST: the server cannot be left out, and the caller falls back on libpq's connect.
    EXPECT_EQ(without_it("host=,127.0.0.1 port=" + first.port() + "," + second.port()).what, verdict::unknown);
}

TEST(pq, a_server_that_never_answers_costs_one_connect_timeout_before_the_next_host) {
    silent_server silent;
    auto live = pgflow::connection_options::from_environment().connect();
    const std::string host = PQhost(live.native()), port = PQport(live.native());
    const auto start = std::chrono::steady_clock::now();
    pgflow::pq::connection c({{"dbname", pgflow::connection_options::from_environment().conninfo()},
                              {"host", "127.0.0.1," + host},
                              {"port", silent.port() + "," + port},
                              {"connect_timeout", "2"}});
    EXPECT_EQ(c.execute("SELECT 1").get<int>(0, 0), 1);
    // Each server gets its own connect_timeout, once: libpq's own wait would be over after 2 s,
    // where starting again from the first server took 4.
    EXPECT_GE(seconds_since(start), 1.9);
    EXPECT_LT(seconds_since(start), 3.5);
}

TEST(pq, servers_that_never_answer_are_named_in_the_error_with_the_last_one_tried) {
    silent_server first, second;
    try {
        pgflow::pq::connection c({{"host", "127.0.0.1,127.0.0.1,127.0.0.1"},
                                  {"port", first.port() + "," + second.port() + ",1"},
                                  {"connect_timeout", "2"}});
        FAIL() << "connected to port 1";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
        EXPECT_TRUE(contains(e.what(), "port " + first.port() + " failed: timeout expired")) << e.what();
        EXPECT_TRUE(contains(e.what(), "port " + second.port() + " failed: timeout expired")) << e.what();
        EXPECT_TRUE(contains(e.what(), "port 1 failed")) << e.what();
    }
}

TEST(pq, a_silent_server_no_entry_can_be_told_to_name_falls_back_on_libpqs_own_connect) {
    silent_server silent, unused;
    // The empty entry is the default socket directory, where nothing listens on that port: libpq
    // goes on to the silent server at once, and leaving that out would leave an empty host list.
    try {
        pgflow::pq::connection c(
            {{"host", ",127.0.0.1"}, {"port", unused.port() + "," + silent.port()}, {"connect_timeout", "2"}});
        FAIL() << "connected to a server that never answers";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
        EXPECT_TRUE(contains(e.what(), "port " + silent.port() + " failed: timeout expired")) << e.what();
    }
}
