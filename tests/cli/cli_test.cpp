// The `pgflow` command line as a user runs it: a real process, a real server, a database of its
// own per test; assertions on exit status, output and database state.

#include "cli_support.hpp"

#include "flows/ai_analysis.hpp"
#include "flows/analyze_website.hpp"
#include "flows/approvals.hpp"
#include "flows/example_flow.hpp"
#include "flows/fraud_screening.hpp"
#include "flows/order_processing.hpp"
#include "flows/text_processing.hpp"

#include <pgflow/runtime/registration.hpp>
#include <pgflow/dynamic_flow.hpp>

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>

using namespace cli_test;
using testing::HasSubstr;
using testing::Not;

namespace {

const std::regex uuid_line{"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$"};

/// An order whose charge fails its first attempt (see examples/flows/order_processing.hpp).
const char* const good_order =
    R"({"order_id": 7, "customer": "ada", "lines": [{"sku": "kettle", "quantity": 2, "unit_price_cents": 1500}]})";

/// A flow whose only step always fails, after one attempt.
pgflow::dynamic_flow doomed_flow() {
    pgflow::dynamic_flow f{"cli_doomed", pgflow::flow_options{.max_attempts = 1}};
    f.step("explode", [](const boost::json::value&) -> boost::json::value {
        throw std::runtime_error("the reactor is out of coolant");
    });
    return f;
}

/// pgflow 0.14's conditions: `charge` runs only for approved orders, `notify_rejection` only for
/// rejected ones, and `enrich` fails its only attempt and is skipped (when_exhausted skip).
pgflow::dynamic_flow branching_flow() {
    const boost::json::object approved{{"check", {{"approved", true}}}};
    pgflow::dynamic_flow f{"cli_branching", pgflow::flow_options{.max_attempts = 1}};
    f.step("check",
           [](const boost::json::value& in) {
               return boost::json::value{{"approved", in.at("run").at("amount").to_number<int>() < 1000}};
           })
        .step(
            "charge", {"check"}, [](const boost::json::value&) { return boost::json::value("charged"); },
            pgflow::step_conditions{.only_if = approved})
        .step(
            "notify_rejection", {"check"}, [](const boost::json::value&) { return boost::json::value("told"); },
            pgflow::step_conditions{.only_if_not = approved})
        .step(
            "enrich", {"check"},
            [](const boost::json::value&) -> boost::json::value {
                throw std::runtime_error("enrichment service unavailable");
            },
            pgflow::step_conditions{.when_exhausted = pgflow::condition_mode::skip});
    return f;
}

pgflow::run_id start_run(const database& db, std::string_view flow, const char* json) {
    return pgflow::client{db.options()}.start(flow, boost::json::parse(json));
}

/// The text between a section title line and the next blank line.
std::string section(const std::string& output, const std::string& title) {
    const auto begin = output.find(title + "\n");
    if (begin == std::string::npos) return {};
    const auto body = begin + title.size() + 1;
    const auto end = output.find("\n\n", body);
    return output.substr(body, end == std::string::npos ? std::string::npos : end - body + 1);
}

}  // namespace

// --- usage ------------------------------------------------------------------------------------------

TEST(usage, help_lists_every_command_and_the_known_flows) {
    const auto o = pgflow_cli({"--help"});
    ASSERT_EQ(o.status, 0) << o;
    for (const char* command : {"install", "compile", "start", "status", "workers", "watch"})
        EXPECT_THAT(o.out, HasSubstr(command));
    EXPECT_THAT(
        o.out,
        HasSubstr(
            "example_flow, text_processing, order_processing, fraud_screening, payout, expense_approval, analyze_website, ai_analysis"));
    EXPECT_THAT(o.out, HasSubstr("PGFLOW_DATABASE_URL"));
}

TEST(usage, unknown_command_is_a_usage_error) {
    const auto o = pgflow_cli({"frobnicate"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("unknown command \"frobnicate\""));
}

// `pgflow schedule frob` said "A subcommand is required".
TEST(usage, unknown_or_missing_schedule_command_is_named_with_the_valid_ones) {
    const auto o = pgflow_cli({"schedule", "frob"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_EQ(o.err,
              "pgflow: unknown schedule command \"frob\" (schedule commands: add, prune, list, enable, disable, "
              "remove; see pgflow schedule --help)\n");
    const auto none = pgflow_cli({"schedule"});
    EXPECT_EQ(none.status, 2) << none;
    EXPECT_THAT(none.err, HasSubstr("schedule needs a command (schedule commands: add, prune, list, enable"));
    const auto help = pgflow_cli({"schedule", "--help"});
    EXPECT_EQ(help.status, 0) << help;
    EXPECT_THAT(help.out, HasSubstr("prune"));
}

// CLI::NonNegativeNumber printed its bound, the largest double, in 300 digits.
TEST(usage, a_negative_count_says_it_must_be_0_or_more) {
    const auto limit = pgflow_cli({"status", "--limit", "-1"});
    EXPECT_EQ(limit.status, 2) << limit;
    EXPECT_THAT(limit.err, HasSubstr("--limit: must be 0 or more (got -1)"));
    EXPECT_THAT(limit.err, Not(HasSubstr("1797693")));
    const auto task = pgflow_cli({"signal", "00000000-0000-0000-0000-000000000001", "approval", "{}", "--task", "-1"});
    EXPECT_EQ(task.status, 2) << task;
    EXPECT_THAT(task.err, HasSubstr("--task: must be 0 or more (got -1)"));
    const auto huge = pgflow_cli({"status", "--limit", "1e400"});
    EXPECT_EQ(huge.status, 2) << huge;
    EXPECT_THAT(huge.err, HasSubstr("--limit: must be an integer from 0 to 2147483647 (got 1e400)"));
    const auto help = pgflow_cli({"status", "--help"});
    EXPECT_THAT(help.out, HasSubstr("default 20"));
}

TEST(usage, missing_command_and_missing_argument_are_usage_errors) {
    const auto none = pgflow_cli({});
    EXPECT_EQ(none.status, 2) << none;
    const auto start = pgflow_cli({"start", "example_flow"});
    EXPECT_EQ(start.status, 2) << start;
    EXPECT_THAT(start.err, HasSubstr("input"));
}

// --- connection -------------------------------------------------------------------------------------

TEST(connection, unreachable_server_fails_every_command_with_status_1) {
    // Port 1 on the loopback interface: nothing listens there, the connection is refused at once.
    const std::string nowhere = "postgresql://postgres@127.0.0.1:1/pgflow";
    const std::vector<std::vector<std::string>> commands{
        {"install"}, {"start", "example_flow", R"({"value": 1})"},
        {"status"},  {"status", "00000000-0000-0000-0000-000000000001"},
        {"workers"}, {"watch", "00000000-0000-0000-0000-000000000001"}};
    for (auto command : commands) {
        command.insert(command.begin(), {"--database-url", nowhere});
        const auto o = pgflow_cli(command);
        EXPECT_EQ(o.status, 1) << command[2] << ": " << o;
        EXPECT_THAT(o.err, HasSubstr("could not connect to PostgreSQL")) << command[2];
    }
}

TEST(connection, invalid_connection_string_is_a_usage_error) {
    const auto o = pgflow_cli({"--database-url", "host", "status"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("invalid connection string"));
}

TEST(connection, pgflow_database_url_variable_names_the_database) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto id = start_run(db, "example_flow", R"({"value": 5})");
    const auto o = pgflow_cli({"status", id.str()}, {{"PGFLOW_DATABASE_URL", db.url()}, {"PGDATABASE", "postgres"}});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_THAT(o.out, HasSubstr("example_flow"));
}

TEST(connection, pg_variables_name_the_database_like_psql) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto id = start_run(db, "example_flow", R"({"value": 5})");
    const auto o = pgflow_cli({"status", id.str()}, {{"PGFLOW_DATABASE_URL", std::nullopt},
                                                     {"PGHOST", db.host()},
                                                     {"PGPORT", db.port()},
                                                     {"PGUSER", db.user()},
                                                     {"PGDATABASE", db.name()}});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_THAT(o.out, HasSubstr("example_flow"));
}

TEST(connection, database_url_option_wins_over_the_environment) {
    database db;
    const auto o = pgflow_cli({"--database-url", db.url(), "workers"},
                              {{"PGFLOW_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere"}});
    EXPECT_EQ(o.status, 0) << o;
}

// --- install ----------------------------------------------------------------------------------------

TEST(install, installs_the_schema_into_an_empty_database_and_reinstalls_without_change) {
    database db{false};
    const auto first = pgflow_cli(db, {"install"});
    ASSERT_EQ(first.status, 0) << first;
    EXPECT_THAT(first.out, HasSubstr("installed in database " + db.name()));
    auto c = db.connect();
    EXPECT_EQ(c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'pgflow'").get<int>(0, 0), 7);
    const auto version = c.execute("SELECT pgflow_cpp.installed_version()").get<std::string>(0, 0);
    EXPECT_THAT(first.out, HasSubstr("pgflow schema " + version));

    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto id = start_run(db, "example_flow", R"({"value": 1})");
    const auto second = pgflow_cli(db, {"install"});
    ASSERT_EQ(second.status, 0) << second;
    EXPECT_EQ(c.execute("SELECT count(*) FROM pgflow_cpp.schema_versions").get<int>(0, 0), 1);
    EXPECT_EQ(c.execute("SELECT count(*) FROM pgflow.runs WHERE run_id = $1::uuid", id).get<int>(0, 0), 1)
        << "reinstalling lost a run";
}

// sql/queue/choose.sql's refusal came wrapped in "invalid input syntax for type boolean: ...".
TEST(install, a_queue_that_cannot_be_installed_is_refused_in_plain_words) {
    database db;  // the built-in queue
    const auto o = pgflow_cli(db, {"install", "--queue", "extension"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_EQ(o.err,
              "pgflow install: queue=extension requested, but the built-in pgmq-compatible queue is already "
              "installed in this database\n");
}

TEST(install, queue_choice_is_checked) {
    database db{false};
    const auto bad = pgflow_cli(db, {"install", "--queue", "rabbitmq"});
    EXPECT_EQ(bad.status, 2) << bad;
    const auto builtin = pgflow_cli(db, {"install", "--queue", "builtin"});
    ASSERT_EQ(builtin.status, 0) << builtin;
    EXPECT_THAT(builtin.out, HasSubstr("built-in"));
}

// --- compile ----------------------------------------------------------------------------------------

TEST(compile, prints_the_registration_sql_of_each_compiled_flow) {
    auto expect_compiles_to = [](const char* slug, std::string_view sql) {
        const auto o = pgflow_cli({"compile", slug});
        ASSERT_EQ(o.status, 0) << o;
        EXPECT_EQ(o.out, std::string(sql) + "\n");
    };
    expect_compiles_to("example_flow", pgflow::registration_sql(examples::example_flow));
    expect_compiles_to("text_processing", pgflow::registration_sql(examples::text_processing));
    expect_compiles_to("order_processing", pgflow::registration_sql(examples::order_processing));
    expect_compiles_to("analyze_website", pgflow::registration_sql(examples::analyze_website));
    // Conditions, a signal and a subflow: their pgflow_cpp statements follow pgflow's text.
    expect_compiles_to("fraud_screening", pgflow::registration_sql(examples::fraud_screening));
    // After a comment line naming the child flows to register first.
    expect_compiles_to("expense_approval",
                       "-- expense_approval runs child flows that must be registered first: payout (pgflow compile "
                       "<child> | psql -v ON_ERROR_STOP=1 --single-transaction)\n" +
                           std::string(pgflow::registration_sql(examples::expense_approval)));
    expect_compiles_to("payout", pgflow::registration_sql(examples::payout));
}

TEST(compile, prints_pgflow_compileflow_text_for_the_example_flow) {
    const auto o = pgflow_cli({"compile", "example_flow"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(o.out,
              "SELECT pgflow.create_flow('example_flow', max_attempts => 3);\n"
              "SELECT pgflow.add_step('example_flow', 'rootStep');\n"
              "SELECT pgflow.add_step('example_flow', 'normalStep', ARRAY['rootStep']);\n"
              "SELECT pgflow.add_step('example_flow', 'thirdStep', ARRAY['normalStep']);\n");
}

TEST(compile, prints_a_dynamic_flow_from_its_plan) {
    const auto o = pgflow_cli({"compile", "ai_analysis"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(
        o.out,
        "SELECT pgflow.create_flow('ai_analysis', timeout => 120);\n"
        "SELECT pgflow.add_step('ai_analysis', 'fetch_data');\n"
        "SELECT pgflow.add_step('ai_analysis', 'analyze', ARRAY['fetch_data'], timeout => 300, step_type => 'map');\n"
        "SELECT pgflow.add_step('ai_analysis', 'summarize', ARRAY['analyze']);\n");
}

TEST(compile, output_piped_into_psql_registers_exactly_the_flow) {
    database db;
    const std::vector<std::pair<const char*, pgflow::flow_shape>> flows{
        {"example_flow", pgflow::shape_of(examples::example_flow)},
        {"text_processing", pgflow::shape_of(examples::text_processing)},
        {"order_processing", pgflow::shape_of(examples::order_processing)},
        {"analyze_website", pgflow::shape_of(examples::analyze_website)},
        {"ai_analysis", pgflow::shape_of(examples::ai_analysis())}};
    auto c = db.connect();
    for (const auto& [slug, shape] : flows) {
        // The documented way to register a flow by hand: pgflow compile <flow> | psql
        const auto o = process({"/bin/sh", "-c",
                                std::string(PGFLOW_CLI) + " compile " + slug +
                                    " | psql -X -q -v ON_ERROR_STOP=1 \"$TEST_DATABASE\""},
                               {{"TEST_DATABASE", db.url()}})
                           .wait();
        ASSERT_EQ(o.status, 0) << slug << ": " << o;
        const auto registered = pgflow::detail::read_registered_shape(c, slug);
        ASSERT_TRUE(registered.has_value()) << slug;
        EXPECT_EQ(pgflow::detail::shape_differences(*registered, shape), std::vector<std::string>{}) << slug;
    }
}

// `pgflow compile expense_approval | psql` on a fresh database registered it half-way and exited 0.
TEST(compile, a_parent_flow_registers_after_its_child_and_not_half_way_before_it) {
    database db;
    auto compile_into_psql = [&db](const char* slug) {
        return process({"/bin/sh", "-c",
                        std::string(PGFLOW_CLI) + " compile " + slug +
                            " | psql -X -q -v ON_ERROR_STOP=1 --single-transaction \"$TEST_DATABASE\""},
                       {{"TEST_DATABASE", db.url()}})
            .wait();
    };
    auto c = db.connect();
    auto flows = [&c] { return c.execute("SELECT count(*) FROM pgflow.flows").get<int>(0, 0); };
    const auto early = compile_into_psql("expense_approval");
    EXPECT_NE(early.status, 0) << early;
    EXPECT_THAT(early.err, HasSubstr("payout"));
    EXPECT_EQ(flows(), 0) << "nothing registered";
    // In the order --help lists them, children first.
    for (const char* slug : {"payout", "expense_approval"}) {
        const auto o = compile_into_psql(slug);
        ASSERT_EQ(o.status, 0) << slug << ": " << o;
    }
    const auto registered = pgflow::detail::read_registered_shape(c, "expense_approval");
    ASSERT_TRUE(registered.has_value());
    EXPECT_EQ(pgflow::detail::shape_differences(*registered, pgflow::shape_of(examples::expense_approval)),
              std::vector<std::string>{});
}

TEST(compile, a_flow_name_with_control_characters_is_printed_escaped) {
    const auto o = pgflow_cli({"compile", "ab\ncd\x01"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr(R"(unknown flow "ab\ncd\x01";)"));
}

TEST(compile, unknown_flow_is_a_usage_error_listing_the_known_flows) {
    const auto o = pgflow_cli({"compile", "exampleflow"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("unknown flow \"exampleflow\""));
    EXPECT_THAT(
        o.err,
        HasSubstr(
            "example_flow, text_processing, order_processing, fraud_screening, payout, expense_approval, analyze_website, ai_analysis"));
    EXPECT_EQ(o.out, "");
}

// --- start ------------------------------------------------------------------------------------------

TEST(start, starts_a_run_and_prints_its_id) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto o = pgflow_cli(db, {"start", "example_flow", R"({"value": 23})"});
    ASSERT_EQ(o.status, 0) << o;
    ASSERT_TRUE(std::regex_match(o.out, uuid_line)) << o;
    auto c = db.connect();
    const auto run =
        c.execute("SELECT flow_slug, status, input FROM pgflow.runs WHERE run_id = $1::uuid", o.out.substr(0, 36));
    ASSERT_EQ(run.rows(), 1);
    EXPECT_EQ(run.get<std::string>(0, 0), "example_flow");
    EXPECT_EQ(run.get<std::string>(0, 1), "started");
    EXPECT_EQ(run.get<boost::json::value>(0, 2), boost::json::parse(R"({"value": 23})"));
}

TEST(start, priority_starts_the_run_with_it) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto o = pgflow_cli(db, {"start", "example_flow", R"({"value": 23})", "--priority", "7"});
    ASSERT_EQ(o.status, 0) << o;
    ASSERT_TRUE(std::regex_match(o.out, uuid_line)) << o;
    auto c = db.connect();
    EXPECT_EQ(c.execute("SELECT priority FROM pgflow_cpp.run_priorities WHERE run_id = $1::uuid", o.out.substr(0, 36))
                  .get<int>(0, 0),
              7);
    EXPECT_NE(pgflow_cli(db, {"start", "example_flow", "{}", "--priority", "high"}).status, 0);
}

TEST(start, invalid_json_is_a_usage_error_with_its_position) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto o = pgflow_cli(db, {"start", "example_flow", R"({"value": 23,})"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("not valid JSON"));
    EXPECT_THAT(o.err, HasSubstr("syntax error at byte 14"));
    EXPECT_EQ(db.connect().execute("SELECT count(*) FROM pgflow.runs").get<int>(0, 0), 0);
}

// Issue 10 defect 5: Boost.JSON's default depth limit (32) called 33 levels "not valid JSON".
TEST(start, input_nested_1000_levels_is_stored_as_given) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(doomed_flow());  // a flow this program does not know: any JSON input
    for (const std::size_t depth : {33U, 1000U}) {
        const std::string deep = std::string(depth, '[') + "1" + std::string(depth, ']');
        const auto o = pgflow_cli(db, {"start", "cli_doomed", deep});
        ASSERT_EQ(o.status, 0) << depth << " levels: " << o.err;
        EXPECT_EQ(db.connect()
                      .execute("SELECT count(*) FROM pgflow.runs WHERE run_id = $1::uuid AND input = $2::jsonb",
                               o.out.substr(0, 36), deep)
                      .get<int>(0, 0),
                  1)
            << depth << " levels";
    }
    const std::string too_deep = std::string(10001, '[') + std::string(10001, ']');
    const auto o = pgflow_cli(db, {"start", "cli_doomed", too_deep});
    EXPECT_EQ(o.status, 2) << o.err;
    EXPECT_THAT(o.err, HasSubstr("nested deeper than 10000 levels of arrays and objects at byte 10001"));
}

// Issue 10 defect 12: 12345678901234567890123456789 was stored as 1.2345678901234568e28.
TEST(start, a_number_beyond_double_precision_is_a_usage_error_naming_its_path) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(doomed_flow());
    for (const char* input :
         {"12345678901234567890123456789", R"({"order": {"ids": [1, 12345678901234567890123456789]}})"}) {
        const auto o = pgflow_cli(db, {"start", "cli_doomed", input});
        EXPECT_EQ(o.status, 2) << o;
        EXPECT_THAT(o.err, HasSubstr("the number 12345678901234567890123456789 cannot be held exactly")) << input;
    }
    const auto o = pgflow_cli(db, {"start", "cli_doomed", R"({"order": {"ids": [1, 12345678901234567890123456789]}})"});
    EXPECT_THAT(o.err, HasSubstr("at $.order.ids[1]:"));
    const auto overflow = pgflow_cli(db, {"start", "cli_doomed", R"({"x": 1e400})"});
    EXPECT_EQ(overflow.status, 2) << overflow;
    EXPECT_THAT(overflow.err, HasSubstr("at $.x: the number 1e400 cannot be held exactly"));
    EXPECT_EQ(db.connect().execute("SELECT count(*) FROM pgflow.runs").get<int>(0, 0), 0);
    // Numbers a double holds as written go through.
    const auto fine = pgflow_cli(db, {"start", "cli_doomed", R"({"x": 9007199254740993, "y": 0.1, "z": 1e23})"});
    ASSERT_EQ(fine.status, 0) << fine;
    EXPECT_EQ(db.connect()
                  .execute("SELECT count(*) FROM pgflow.runs WHERE input = '{\"x\": 9007199254740993, \"y\": 0.1, "
                           "\"z\": 100000000000000000000000}'::jsonb")
                  .get<int>(0, 0),
              1);
}

TEST(start, invalid_utf8_is_a_usage_error_naming_its_byte) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(doomed_flow());
    const auto o = pgflow_cli(db, {"start", "cli_doomed", "{\"name\": \"caf\xe9\"}"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("the input is not valid JSON: invalid UTF-8 at byte 14"));
    EXPECT_THAT(o.err, Not(HasSubstr("syntax error")));
}

// --wait 1e300 started the run, then overflowed the milliseconds and exited 1.
TEST(start, a_wait_or_timeout_out_of_range_is_a_usage_error) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(doomed_flow());
    for (const char* seconds : {"1e300", "1e-300", "nan", "inf"}) {
        const auto o = pgflow_cli(db, {"start", "cli_doomed", "{}", "--wait", seconds});
        EXPECT_EQ(o.status, 2) << seconds << ": " << o;
        EXPECT_THAT(o.err, HasSubstr("from 0.001 to 1000000000")) << seconds;
        const auto w = pgflow_cli(db, {"watch", "00000000-0000-4000-8000-000000000000", "--timeout", seconds});
        EXPECT_EQ(w.status, 2) << seconds << ": " << w;
    }
    EXPECT_EQ(db.connect().execute("SELECT count(*) FROM pgflow.runs").get<int>(0, 0), 0);
}

TEST(start, input_that_does_not_fit_the_flow_input_type_is_a_usage_error_naming_the_path) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::order_processing);
    const auto o = pgflow_cli(
        db, {"start", "order_processing",
             R"({"order_id": 1, "customer": "x", "lines": [{"sku": "a", "quantity": "two", "unit_price_cents": 1}]})"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("does not fit flow \"order_processing\" (input type examples::Order)"));
    EXPECT_THAT(o.err, HasSubstr("$.lines[0].quantity"));
    EXPECT_EQ(db.connect().execute("SELECT count(*) FROM pgflow.runs").get<int>(0, 0), 0);
}

// An unknown flow is a usage error (2), as --help says and as for `compile` and `schedule add`; the
// hint has the same words as schedule add's.
TEST(start, unregistered_flow_is_a_usage_error_that_says_how_to_register_it) {
    database db;
    const auto o = pgflow_cli(db, {"start", "example_flow", R"({"value": 1})"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_EQ(o.err,
              "pgflow: flow \"example_flow\" is not registered in this database; register it first, e.g. by "
              "starting its worker or with `pgflow compile example_flow | psql -v ON_ERROR_STOP=1 "
              "--single-transaction`\n");
    const auto unknown = pgflow_cli(db, {"start", "no_such_flow", "{}"});
    EXPECT_EQ(unknown.status, 2) << unknown;
    EXPECT_EQ(unknown.err,
              "pgflow: flow \"no_such_flow\" is not registered in this database; register it first, e.g. by "
              "starting its worker\n");
    // A parent flow: its child first.
    const auto parent = pgflow_cli(
        db, {"start", "expense_approval", R"({"expense_id": 1, "employee": "a", "amount_cents": 1, "purpose": "p"})"});
    EXPECT_EQ(parent.status, 2) << parent;
    EXPECT_THAT(parent.err, HasSubstr("with `pgflow compile payout | psql -v ON_ERROR_STOP=1 --single-transaction` "
                                      "then `pgflow compile expense_approval | psql"));
}

// A registration that differs from the program's (e.g. left half-done by `compile | psql` without
// ON_ERROR_STOP) starts nothing: its runs would not run as declared.
TEST(start, a_flow_registered_with_another_shape_starts_nothing_and_says_how_it_differs) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    auto c = db.connect();
    c.execute("UPDATE pgflow.steps SET opt_timeout = 99 WHERE flow_slug = 'example_flow' AND step_slug = 'rootStep'");
    const auto o = pgflow_cli(db, {"start", "example_flow", R"({"value": 1})"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("pgflow: flow \"example_flow\" is registered in this database with a different "
                                 "shape than this program declares, so no run is started. Differences:\n  - "));
    EXPECT_THAT(o.err, HasSubstr("rootStep"));
    EXPECT_EQ(c.execute("SELECT count(*) FROM pgflow.runs").get<int>(0, 0), 0);
}

// The C++ spelling std::vector<std::__cxx11::basic_string<char> > was shown.
TEST(start, the_input_type_of_a_container_is_named_readably) {
    database db;
    const auto o = pgflow_cli(db, {"start", "text_processing", "7"});
    EXPECT_EQ(o.status, 2) << o;
    EXPECT_THAT(o.err, HasSubstr("(input type array of strings): at $: expected an array"));
    EXPECT_THAT(o.err, Not(HasSubstr("std::")));
}

TEST(start, a_registered_flow_the_program_does_not_know_takes_any_json) {
    database db;
    pgflow::client{db.options()}.ensure_registered(doomed_flow());
    const auto o = pgflow_cli(db, {"start", "cli_doomed", R"([1, "two", null])"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_TRUE(std::regex_match(o.out, uuid_line)) << o;
}

TEST(start, wait_prints_the_output_when_the_run_completes) {
    database db;
    worker_thread worker{db, examples::example_flow};
    const auto o = pgflow_cli(db, {"start", "example_flow", R"({"value": 4})", "--wait", "30"});
    ASSERT_EQ(o.status, 0) << o;
    const auto ls = lines(o.out);
    ASSERT_EQ(ls.size(), 2u) << o;
    EXPECT_TRUE(std::regex_match(ls[0] + "\n", uuid_line)) << o;
    EXPECT_EQ(boost::json::parse(ls[1]), boost::json::parse(R"({"thirdStep": {"finalValue": 1}})"));
}

TEST(start, wait_exits_3_when_the_run_fails) {
    database db;
    worker_thread worker{db, doomed_flow()};
    const auto o = pgflow_cli(db, {"start", "cli_doomed", "{}", "--wait", "30"});
    EXPECT_EQ(o.status, 3) << o;
    EXPECT_THAT(o.err, HasSubstr("failed in step \"explode\": the reactor is out of coolant"));
}

// --- status -----------------------------------------------------------------------------------------

TEST(status, overview_of_a_database_without_runs_says_none_three_times) {
    database db;
    const auto o = pgflow_cli(db, {"status"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(section(o.out, "Active runs per flow"), "  (none)\n");
    EXPECT_EQ(section(o.out, "Failed tasks (newest first)"), "  (none)\n");
    EXPECT_EQ(section(o.out, "Average completion time by flow"), "  (none)\n");
}

TEST(status, overview_shows_active_runs_failed_tasks_and_completion_times) {
    database db;
    pgflow::client client{db.options()};
    {
        worker_thread example_worker{db, examples::example_flow};
        worker_thread doomed_worker{db, doomed_flow()};
        for (int i = 0; i < 2; ++i) client.wait(client.start(examples::example_flow, {.value = i}), 30s);
        EXPECT_THROW(client.wait(client.start("cli_doomed", boost::json::value{}), 30s), pgflow::run_failed_error);
    }
    for (int i = 0; i < 3; ++i) client.start(examples::example_flow, {.value = i});  // no worker: they stay started

    const auto o = pgflow_cli(db, {"status"});
    ASSERT_EQ(o.status, 0) << o;
    const auto active = lines(section(o.out, "Active runs per flow"));
    ASSERT_EQ(active.size(), 2u) << o;  // header and one flow
    EXPECT_TRUE(std::regex_search(active[1], std::regex("^  example_flow +3 +20"))) << active[1];
    const auto failed = lines(section(o.out, "Failed tasks (newest first)"));
    ASSERT_EQ(failed.size(), 2u) << o;
    EXPECT_THAT(failed[1], HasSubstr("cli_doomed"));
    EXPECT_THAT(failed[1], HasSubstr("explode"));
    EXPECT_THAT(failed[1], HasSubstr("the reactor is out of coolant"));
    const auto times = lines(section(o.out, "Average completion time by flow"));
    ASSERT_EQ(times.size(), 2u) << o;
    EXPECT_TRUE(std::regex_search(times[1], std::regex("^  example_flow +2 +[0-9]+\\.[0-9]+ +[0-9]+\\.[0-9]+$")))
        << times[1];
}

TEST(status, failed_tasks_are_limited_to_the_newest) {
    database db;
    pgflow::client client{db.options()};
    {
        worker_thread doomed_worker{db, doomed_flow()};
        for (int i = 0; i < 3; ++i)
            EXPECT_THROW(client.wait(client.start("cli_doomed", boost::json::value(i)), 30s), pgflow::run_failed_error);
    }
    const auto o = pgflow_cli(db, {"status", "--limit", "1"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(lines(section(o.out, "Failed tasks (newest first)")).size(), 3u) << o;  // header, one task, "2 more"
    EXPECT_THAT(o.out, HasSubstr("… 2 more (--limit)"));
}

TEST(status, run_status_shows_the_run_and_every_step_in_order) {
    database db;
    worker_thread worker{db, examples::example_flow};
    pgflow::client client{db.options()};
    const auto id = client.start(examples::example_flow, {.value = 21});
    client.wait(id, 30s);
    const auto o = pgflow_cli(db, {"status", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_THAT(o.out, HasSubstr("run " + id.str()));
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  status +completed\n"))) << o;
    EXPECT_THAT(o.out, HasSubstr(R"({"value": 21})"));
    EXPECT_THAT(o.out, HasSubstr(R"({"thirdStep": {"finalValue": 1}})"));
    const auto ls = lines(o.out);
    const long root = find_line(ls, "  rootStep "), normal = find_line(ls, "  normalStep "),
               third = find_line(ls, "  thirdStep ");
    ASSERT_GE(root, 0) << o;
    EXPECT_GT(normal, root);
    EXPECT_GT(third, normal);
    EXPECT_TRUE(
        std::regex_search(ls[static_cast<std::size_t>(root)], std::regex("rootStep +single +completed +1/1 +1 ")))
        << o;
}

TEST(status, run_status_of_a_failed_run_shows_the_error) {
    database db;
    worker_thread worker{db, doomed_flow()};
    pgflow::client client{db.options()};
    const auto id = client.start("cli_doomed", boost::json::value{});
    EXPECT_THROW(client.wait(id, 30s), pgflow::run_failed_error);
    const auto o = pgflow_cli(db, {"status", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  status +failed\n"))) << o;
    EXPECT_TRUE(std::regex_search(o.out, std::regex("explode +single +failed +0/1 +1 .*the reactor is out of coolant")))
        << o;
}

TEST(status, run_status_shows_skipped_steps_with_their_reason_and_time) {
    database db;
    worker_thread worker{db, branching_flow()};
    pgflow::client client{db.options()};
    const auto id = client.start("cli_branching", boost::json::parse(R"({"amount": 5000})"));
    client.wait(id, 30s);
    const auto o = pgflow_cli(db, {"status", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    const std::string time = "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+[+-][0-9:]+";
    // charge: skipped by its condition, never started, skipped at a time
    EXPECT_TRUE(std::regex_search(
        o.out, std::regex("\n  charge +single +skipped \\(condition_unmet\\) +[0-9?/]+ +- +- +" + time + " *\n")))
        << o;
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  notify_rejection +single +completed +1/1 ")));
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  enrich +single +skipped \\(handler_failed\\) +0/1 +1 +" +
                                                    time + " +" + time + " +enrichment service unavailable\n")))
        << o;
}

TEST(status, unknown_run_fails_and_a_malformed_run_id_is_a_usage_error) {
    database db;
    const auto unknown = pgflow_cli(db, {"status", "00000000-0000-0000-0000-000000000001"});
    EXPECT_EQ(unknown.status, 1) << unknown;
    EXPECT_THAT(unknown.err, HasSubstr("there is no run 00000000-0000-0000-0000-000000000001"));
    const auto malformed = pgflow_cli(db, {"status", "42"});
    EXPECT_EQ(malformed.status, 2) << malformed;
    EXPECT_THAT(malformed.err, HasSubstr("\"42\" is not a run id"));
}

TEST(status, a_database_without_the_schema_gets_a_hint_to_install_it) {
    database db{false};
    const auto o = pgflow_cli(db, {"status"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("pgflow install"));
    EXPECT_EQ(o.out, "") << "no header before the error";
}

// cancel, retry, resume and signal named the statement pgflow_client_start.
TEST(run_control, a_database_without_the_schema_is_reported_for_the_command_given) {
    database db{false};
    const std::string id = "00000000-0000-0000-0000-000000000001";
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"cancel", id}, {"retry", id}, {"resume", id}, {"signal", id, "approval", "{}"}}) {
        const auto o = pgflow_cli(db, command);
        EXPECT_EQ(o.status, 1) << command[0] << ": " << o;
        EXPECT_EQ(o.err, "pgflow " + command[0] +
                             ": schema \"pgflow\" does not exist [SQLSTATE 3F000]\npgflow: is the pgflow schema "
                             "installed in this database? `pgflow install` installs it\n")
            << command[0];
        EXPECT_EQ(o.out, "");
    }
}

// --- cancel, retry, resume -------------------------------------------------------------------------

TEST(run_control, cancel_then_retry_and_resume_and_status_shows_the_lineage) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(doomed_flow());
    const auto id = client.start("cli_doomed", boost::json::value{});  // no worker: it stays started
    auto o = pgflow_cli(db, {"cancel", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(o.out, "cancelled run " + id.str() + "\n");
    o = pgflow_cli(db, {"cancel", id.str()});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_EQ(o.out, "run was already cancelled: " + id.str() + "\n");
    o = pgflow_cli(db, {"status", id.str()});
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  status +cancelled\n"))) << o;

    const auto retried = pgflow_cli(db, {"retry", id.str()});
    ASSERT_EQ(retried.status, 0) << retried;
    EXPECT_TRUE(std::regex_match(retried.out, uuid_line)) << retried;
    const std::string new_id = retried.out.substr(0, 36);
    o = pgflow_cli(db, {"status", new_id});
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  retry of +" + id.str() + "\n"))) << o;
    o = pgflow_cli(db, {"status", id.str()});
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  restarted as +" + new_id + " \\(retry\\)\n"))) << o;

    // A run is restarted once; a started run can be neither resumed nor retried.
    o = pgflow_cli(db, {"resume", id.str()});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("cannot resume run " + id.str() + ": Run " + id.str() + " was already restarted"));
    o = pgflow_cli(db, {"resume", new_id});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("is started"));
    EXPECT_EQ(pgflow_cli(db, {"cancel", new_id}).status, 0);
    const auto resumed = pgflow_cli(db, {"resume", new_id});
    ASSERT_EQ(resumed.status, 0) << resumed;
    o = pgflow_cli(db, {"status", resumed.out.substr(0, 36)});
    EXPECT_TRUE(std::regex_search(o.out, std::regex("\n  resume of +" + new_id + "\n"))) << o;
}

TEST(run_control, unknown_and_finished_runs_fail_with_status_1_naming_the_run) {
    database db;
    const auto unknown = pgflow_cli(db, {"cancel", "00000000-0000-0000-0000-000000000001"});
    EXPECT_EQ(unknown.status, 1) << unknown;
    EXPECT_THAT(unknown.err, HasSubstr("cannot cancel run 00000000-0000-0000-0000-000000000001"));
    EXPECT_THAT(unknown.err, HasSubstr("does not exist"));
    EXPECT_EQ(pgflow_cli(db, {"retry", "42"}).status, 2);
    EXPECT_EQ(pgflow_cli(db, {"resume"}).status, 2);
}

// --- signal (docs/cli.md's sample) -----------------------------------------------------------------

// docs/cli.md and README.md show this command with this message: required members are checked
// first, so the sample names them all.
TEST(signal, the_documented_wrong_shape_sample_gives_the_documented_message) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(examples::payout);
    worker_thread worker{db, examples::expense_approval};
    const auto id = client.start(examples::expense_approval, {1, "ada", 1200, "train ticket"});
    auto c = db.connect();
    ASSERT_TRUE(eventually([&] {
        return c.execute("SELECT 1 FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = 'approval'", id)
                   .rows() == 1;
    }));
    const auto o =
        pgflow_cli(db, {"signal", id.str(), "approval", R"({"approved": "yes", "approver": "bob", "note": "ok"})"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_EQ(o.err, "pgflow: cannot signal step \"approval\" of run " + id.str() + ": Signal \"approval\" of run " +
                         id.str() + " has the wrong shape: $.approved: expected boolean, got string\n");
}

// --- workers ----------------------------------------------------------------------------------------

TEST(workers, says_so_when_no_worker_runs) {
    database db;
    const auto o = pgflow_cli(db, {"workers"});
    ASSERT_EQ(o.status, 0) << o;
    EXPECT_THAT(o.out, HasSubstr("no running workers"));
}

TEST(workers, lists_a_running_worker_and_after_it_stops_only_with_all) {
    database db;
    std::string id;
    {
        worker_thread worker{db, examples::example_flow};
        id = worker.id();
        auto c = db.connect();
        ASSERT_TRUE(eventually(
            [&] { return c.execute("SELECT 1 FROM pgflow.workers WHERE worker_id = $1::uuid", id).rows() == 1; }));
        const auto o = pgflow_cli(db, {"workers"});
        ASSERT_EQ(o.status, 0) << o;
        const auto ls = lines(o.out);
        const long row = find_line(ls, id);
        ASSERT_GE(row, 1) << o;
        EXPECT_TRUE(std::regex_search(ls[static_cast<std::size_t>(row)], std::regex("example_flow .* running +0$")))
            << o;
    }
    const auto running = pgflow_cli(db, {"workers"});
    ASSERT_EQ(running.status, 0) << running;
    EXPECT_THAT(running.out, Not(HasSubstr(id)));
    const auto all = pgflow_cli(db, {"workers", "--all"});
    ASSERT_EQ(all.status, 0) << all;
    const auto ls = lines(all.out);
    const long row = find_line(ls, id);
    ASSERT_GE(row, 1) << all;
    EXPECT_THAT(ls[static_cast<std::size_t>(row)], HasSubstr(" stopped "));
}

// --- watch ------------------------------------------------------------------------------------------

TEST(watch, prints_the_events_and_retries_of_a_run_until_it_completes) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(examples::order_processing);
    const auto id = start_run(db, "order_processing", good_order);
    process watch({PGFLOW_CLI, "--database-url", db.url(), "watch", id.str()});
    ASSERT_TRUE(
        eventually([&] { return watch.output_so_far().find("of flow order_processing") != std::string::npos; }));
    worker_thread worker{db, examples::order_processing};
    const auto o = watch.wait(30s);
    ASSERT_EQ(o.status, 0) << o;
    const auto ls = lines(o.out);
    const long first =
        find_line(ls, "run " + id.str() +
                          " of flow order_processing: started (validate started, charge created, fulfill created)");
    const long validated = find_line(ls, "step validate completed, output {\"item_count\":2,\"total_cents\":3000}");
    const long charge_started = find_line(ls, "step charge started (1 task)");
    const long retried = find_line(ls, "task charge[0] attempt 1 failed: payment gateway timed out (attempt 1)");
    const long charged = find_line(ls, "step charge completed");
    const long fulfilled = find_line(ls, "step fulfill completed");
    const long completed = find_line(ls, "run completed");
    ASSERT_EQ(first, 0) << o;
    EXPECT_GT(validated, first) << o;
    EXPECT_GT(charge_started, validated) << o;
    EXPECT_GT(retried, charge_started) << o;
    EXPECT_GT(charged, retried) << o;
    EXPECT_GT(fulfilled, charged) << o;
    EXPECT_GT(completed, fulfilled) << o;
    EXPECT_EQ(ls.back().rfind("output: {\"fulfill\": {", 0), 0u) << o;
    EXPECT_THAT(ls.back(), HasSubstr("\"charge_attempts\": 2"));
}

TEST(watch, a_failed_run_exits_3_with_its_error) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(doomed_flow());
    const auto id = start_run(db, "cli_doomed", "{}");
    process watch({PGFLOW_CLI, "--database-url", db.url(), "watch", id.str()});
    ASSERT_TRUE(eventually([&] { return watch.output_so_far().find("of flow cli_doomed") != std::string::npos; }));
    worker_thread worker{db, doomed_flow()};
    const auto o = watch.wait(30s);
    EXPECT_EQ(o.status, 3) << o;
    const auto ls = lines(o.out);
    EXPECT_GT(find_line(ls, "step explode failed: the reactor is out of coolant"), 0) << o;
    EXPECT_GT(find_line(ls, "run failed"), find_line(ls, "step explode failed")) << o;
    EXPECT_EQ(ls.back(), "failed in step explode: the reactor is out of coolant") << o;
}

// A cancelled run printed its raw events, then "failed in step -: -".
TEST(watch, a_run_cancelled_while_watched_prints_its_cancel_events_and_exits_3) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(examples::example_flow);
    const auto id = start_run(db, "example_flow", R"({"value": 1})");  // no worker: it stays started
    process watch({PGFLOW_CLI, "--database-url", db.url(), "watch", id.str()});
    ASSERT_TRUE(eventually([&] { return watch.output_so_far().find("of flow example_flow") != std::string::npos; }));
    ASSERT_TRUE(client.cancel(id));
    const auto o = watch.wait(30s);
    EXPECT_EQ(o.status, 3) << o;
    const auto ls = lines(o.out);
    const long step = find_line(ls, "  step rootStep cancelled (1 task)");
    EXPECT_GT(step, 0) << o;
    EXPECT_GT(find_line(ls, "  run cancelled"), step) << o;
    EXPECT_EQ(find_line(ls, "{"), -1) << "no raw event: " << o;
    EXPECT_EQ(find_line(ls, "run failed"), -1) << o;
    EXPECT_TRUE(std::regex_match(ls.back(), std::regex("cancelled at 20[0-9-]{8} [0-9:]{8} UTC"))) << o;
}

TEST(watch, a_cancelled_run_says_so_at_once) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(examples::example_flow);
    const auto id = start_run(db, "example_flow", R"({"value": 1})");
    ASSERT_TRUE(client.cancel(id));
    const auto o = pgflow_cli(db, {"watch", id.str()}, 10s);
    EXPECT_EQ(o.status, 3) << o;
    const auto ls = lines(o.out);
    ASSERT_EQ(ls.size(), 2u) << o;
    EXPECT_THAT(ls[0], HasSubstr("of flow example_flow: cancelled ("));
    EXPECT_TRUE(std::regex_match(ls[1], std::regex("cancelled at 20[0-9-]{8} [0-9:]{8} UTC"))) << o;
}

// A run held back by flow limits showed as started.
TEST(watch, a_run_held_back_by_flow_limits_shows_as_waiting_until_admitted) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(examples::example_flow);
    db.connect().execute("SELECT pgflow_cpp.set_flow_limits('example_flow', max_concurrent_runs => 1)");
    const auto first = start_run(db, "example_flow", R"({"value": 1})");
    const auto second = start_run(db, "example_flow", R"({"value": 2})");
    process watch({PGFLOW_CLI, "--database-url", db.url(), "watch", second.str(), "--timeout", "20"});
    ASSERT_TRUE(eventually([&] { return watch.output_so_far().find("of flow example_flow") != std::string::npos; }));
    EXPECT_THAT(watch.output_so_far(), HasSubstr("of flow example_flow: waiting ("));
    ASSERT_TRUE(client.cancel(first));  // frees the slot
    ASSERT_TRUE(eventually([&] { return watch.output_so_far().find("run admitted") != std::string::npos; }))
        << watch.output_so_far();
    ASSERT_TRUE(client.cancel(second));
    const auto o = watch.wait(30s);
    EXPECT_EQ(o.status, 3) << o;
}

TEST(watch, prints_skipped_steps_with_their_reason) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(branching_flow());
    const auto id = start_run(db, "cli_branching", R"({"amount": 10})");
    process watch({PGFLOW_CLI, "--database-url", db.url(), "watch", id.str()});
    ASSERT_TRUE(eventually([&] { return watch.output_so_far().find("of flow cli_branching") != std::string::npos; }));
    worker_thread worker{db, branching_flow()};
    const auto o = watch.wait(30s);
    ASSERT_EQ(o.status, 0) << o;
    const auto ls = lines(o.out);
    const long checked = find_line(ls, "step check completed");
    EXPECT_GT(find_line(ls, "step notify_rejection skipped (condition_unmet)"), checked) << o;
    EXPECT_GT(find_line(ls, "step enrich skipped (handler_failed): enrichment service unavailable"), checked) << o;
    EXPECT_GT(find_line(ls, "step charge completed"), checked) << o;
    EXPECT_EQ(find_line(ls, "step charge skipped"), -1) << o;

    // Watched again once finished: the state line says which steps were skipped and why.
    const auto again = pgflow_cli(db, {"watch", id.str()}, 10s);
    ASSERT_EQ(again.status, 0) << again;
    EXPECT_THAT(again.out, HasSubstr(": completed (check completed, charge completed, notify_rejection skipped "
                                     "(condition_unmet), enrich skipped (handler_failed))"));
}

TEST(watch, a_finished_run_prints_its_outcome_at_once) {
    database db;
    worker_thread worker{db, examples::example_flow};
    pgflow::client client{db.options()};
    const auto id = client.start(examples::example_flow, {.value = 3});
    client.wait(id, 30s);
    const auto o = pgflow_cli(db, {"watch", id.str()}, 10s);
    ASSERT_EQ(o.status, 0) << o;
    const auto ls = lines(o.out);
    ASSERT_EQ(ls.size(), 2u) << o;
    EXPECT_THAT(ls[0], HasSubstr(": completed (rootStep completed, normalStep completed, thirdStep completed)"));
    EXPECT_EQ(ls[1], R"(output: {"thirdStep": {"finalValue": 1}})");
}

TEST(watch, gives_up_after_its_timeout_with_status_1) {
    database db;
    pgflow::client{db.options()}.ensure_registered(examples::example_flow);
    const auto id = start_run(db, "example_flow", R"({"value": 1})");  // no worker: it never ends
    const auto begin = std::chrono::steady_clock::now();
    const auto o = pgflow_cli(db, {"watch", id.str(), "--timeout", "1"}, 20s);
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("is still running after 1 s"));
    EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST(watch, unknown_run_fails) {
    database db;
    const auto o = pgflow_cli(db, {"watch", "00000000-0000-0000-0000-000000000001"});
    EXPECT_EQ(o.status, 1) << o;
    EXPECT_THAT(o.err, HasSubstr("there is no run"));
}
