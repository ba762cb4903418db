// The database-error vocabulary without a server: SQLSTATE codes by name and their families,
// the objects a database_error names, run_id's parse error in the library's hierarchy, and the
// server's code read from a failed connection's message.
// (The fields read from a real server error, and pq::transaction, are tested in tests/e2e/pq_test.cpp.)

#include <pgflow/error.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/pq/sqlstate.hpp>
#include <pgflow/run_id.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace sqlstate = pgflow::pq::sqlstate;

pgflow::database_error error_with(std::string_view code) { return {"pgflow: test", std::string(code)}; }

TEST(sqlstate, classes_are_the_first_two_characters_of_a_full_code) {
    EXPECT_TRUE(sqlstate::in_class(sqlstate::unique_violation, "23"));
    EXPECT_TRUE(sqlstate::in_class(sqlstate::deadlock_detected, "40"));
    EXPECT_FALSE(sqlstate::in_class(sqlstate::unique_violation, "40"));
    EXPECT_FALSE(sqlstate::in_class("23", "23"));
    EXPECT_FALSE(sqlstate::in_class("", "08"));
    static_assert(sqlstate::in_class(sqlstate::connection_failure, "08"));
}

TEST(sqlstate, connection_errors_are_class_08_the_shutdowns_and_no_code_at_all) {
    for (auto code : {sqlstate::connection_exception, sqlstate::sqlclient_unable_to_establish_sqlconnection,
                      sqlstate::connection_failure, sqlstate::admin_shutdown, sqlstate::crash_shutdown,
                      sqlstate::cannot_connect_now, std::string_view{}, std::string_view{"08003"}})
        EXPECT_TRUE(error_with(code).is_connection_error()) << code;
    for (auto code : {sqlstate::unique_violation, sqlstate::serialization_failure, sqlstate::undefined_table,
                      std::string_view{"57014"}})
        EXPECT_FALSE(error_with(code).is_connection_error()) << code;
}

TEST(sqlstate, refused_connections_are_class_28_and_an_unknown_database) {
    for (auto code :
         {sqlstate::invalid_authorization_specification, sqlstate::invalid_password, sqlstate::invalid_catalog_name}) {
        EXPECT_TRUE(error_with(code).is_connection_refused_error()) << code;
        EXPECT_FALSE(error_with(code).is_connection_error()) << code;
    }
    for (auto code : {sqlstate::sqlclient_unable_to_establish_sqlconnection, sqlstate::cannot_connect_now,
                      std::string_view{"53300"}, std::string_view{"42501"}, std::string_view{}})
        EXPECT_FALSE(error_with(code).is_connection_refused_error()) << code;
}

TEST(connect_failure, the_servers_code_is_read_from_a_verbose_message_and_cut_from_it) {
    const auto f = pgflow::pq::detail::parse_connect_failure(
        "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  3D000: database \"nope\" does not "
        "exist\nLOCATION:  InitPostgres, postinit.c:941\n");
    EXPECT_EQ(f.sqlstate, "3D000");
    EXPECT_EQ(f.message,
              "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"nope\" does "
              "not exist");
    // Another language's severity; two hosts tried: the last answer counts, both codes are cut.
    const auto two = pgflow::pq::detail::parse_connect_failure(
        "connection to server at \"a\" failed: FATAL:  53300: sorry, too many clients already\n"
        "connection to server at \"b\" failed: FATAL:  28P01: Passwort-Authentifizierung fehlgeschlagen\n"
        "LOCATION:  auth_failed, auth.c:326");
    EXPECT_EQ(two.sqlstate, "28P01");
    EXPECT_EQ(two.message,
              "connection to server at \"a\" failed: FATAL:  sorry, too many clients already\n"
              "connection to server at \"b\" failed: FATAL:  Passwort-Authentifizierung fehlgeschlagen");
    // No server answer (nothing listening): no code, the text unchanged.
    const auto none = pgflow::pq::detail::parse_connect_failure(
        "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running on that "
        "host and accepting TCP/IP connections?\n");
    EXPECT_EQ(none.sqlstate, "");
    EXPECT_EQ(none.message,
              "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
              "server running on that host and accepting TCP/IP connections?");
}

TEST(sqlstate, retryable_transaction_errors_are_class_40_lock_not_available_and_skipped_statements) {
    for (auto code : {sqlstate::serialization_failure, sqlstate::deadlock_detected, sqlstate::lock_not_available,
                      sqlstate::in_failed_sql_transaction, std::string_view{"40002"}})
        EXPECT_TRUE(error_with(code).is_retryable_transaction_error()) << code;
    for (auto code : {sqlstate::unique_violation, sqlstate::read_only_sql_transaction, sqlstate::connection_failure,
                      std::string_view{}})
        EXPECT_FALSE(error_with(code).is_retryable_transaction_error()) << code;
}

TEST(sqlstate, undefined_objects_are_a_missing_schema_table_or_function) {
    for (auto code : {sqlstate::invalid_schema_name, sqlstate::undefined_table, sqlstate::undefined_function})
        EXPECT_TRUE(error_with(code).is_undefined_object_error()) << code;
    for (auto code : {sqlstate::foreign_key_violation, std::string_view{"42703"}, std::string_view{}})
        EXPECT_FALSE(error_with(code).is_undefined_object_error()) << code;
}

TEST(sqlstate, codes_are_the_ones_postgresql_documents) {
    EXPECT_EQ(sqlstate::unique_violation, "23505");
    EXPECT_EQ(sqlstate::foreign_key_violation, "23503");
    EXPECT_EQ(sqlstate::lock_not_available, "55P03");
    EXPECT_EQ(sqlstate::in_failed_sql_transaction, "25P02");
    EXPECT_EQ(sqlstate::read_only_sql_transaction, "25006");
    EXPECT_EQ(sqlstate::connection_failure, "08006");
    EXPECT_EQ(sqlstate::invalid_authorization_specification, "28000");
    EXPECT_EQ(sqlstate::invalid_password, "28P01");
    EXPECT_EQ(sqlstate::invalid_catalog_name, "3D000");
    EXPECT_EQ(sqlstate::invalid_schema_name, "3F000");
}

TEST(database_error, names_the_objects_it_was_given_and_none_otherwise) {
    const pgflow::database_error bare("pgflow: no objects", std::string(sqlstate::connection_failure));
    EXPECT_EQ(bare.sqlstate(), "08006");
    EXPECT_TRUE(bare.constraint_name().empty());
    EXPECT_TRUE(bare.table_name().empty());
    EXPECT_TRUE(bare.schema_name().empty());
    EXPECT_TRUE(bare.primary_message().empty());

    const pgflow::database_error violation(
        "pgflow: duplicate key", std::string(sqlstate::unique_violation),
        {.schema_name = "pgflow",
         .table_name = "runs",
         .constraint_name = "runs_pkey",
         .primary_message = "duplicate key value violates unique constraint \"runs_pkey\""});
    EXPECT_EQ(violation.constraint_name(), "runs_pkey");
    EXPECT_EQ(violation.table_name(), "runs");
    EXPECT_EQ(violation.schema_name(), "pgflow");
    EXPECT_EQ(violation.primary_message(), "duplicate key value violates unique constraint \"runs_pkey\"");
    EXPECT_STREQ(violation.what(), "pgflow: duplicate key");
    const pgflow::error& base = violation;  // still a pgflow::error
    EXPECT_STREQ(base.what(), "pgflow: duplicate key");
}

TEST(run_id, text_that_is_not_a_uuid_is_a_pgflow_invalid_argument_error_naming_it) {
    for (const char* text : {"", "not-a-uuid", "6f1c2a38-0b1e-4e3f-9b7a-1c2d3e4f5a6",
                             "6f1c2a38x0b1e-4e3f-9b7a-1c2d3e4f5a6b", "6f1c2a38-0b1e-4e3f-9b7a-1c2d3e4f5a6g"}) {
        try {
            static_cast<void>(pgflow::run_id{text});
            ADD_FAILURE() << '"' << text << "\" was accepted";
        } catch (const pgflow::invalid_argument_error& e) {
            EXPECT_NE(std::string(e.what()).find('"' + std::string(text) + '"'), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(static_cast<void>(pgflow::run_id{"nope"}), pgflow::error);
}

TEST(run_id, a_uuid_is_held_in_lower_case) {
    EXPECT_EQ(pgflow::run_id{"6F1C2A38-0B1E-4E3F-9B7A-1C2D3E4F5A6B"}.str(), "6f1c2a38-0b1e-4e3f-9b7a-1c2d3e4f5a6b");
}

}  // namespace
