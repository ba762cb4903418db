// Bad input of every kind gets a clear error naming what was wrong: inputs that do not decode,
// outputs the database refuses, unknown steps and flows, changed flow shapes, invalid dynamic
// flows, unreachable servers, a database or role the server does not know.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <exception>

using namespace e2e;
using boost::json::value;
namespace flows = e2e::flows;

namespace {

std::string failure_of(pgflow::client& client, const pgflow::run_id& id, std::string* step = nullptr) {
    const auto e = e2e::wait_for_failure(client, id);
    if (e && step) *step = e->step_slug();
    return e ? e->error_message() : std::string{};
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(bad_input, run_input_of_the_wrong_type_fails_the_task_naming_step_and_path) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    worker_thread worker{db, flows::chain};
    // The flow's input is an int; send a string through the JSON-level API.
    const auto id = client.start("e2e_chain", value("forty-two"));
    std::string step;
    const auto message = failure_of(client, id, &step);
    EXPECT_EQ(step, "a");
    EXPECT_TRUE(contains(message, "e2e_chain")) << message;
    EXPECT_TRUE(contains(message, "\"a\"") || contains(message, " a")) << message;
    EXPECT_TRUE(contains(message, "$.run")) << message;
}

TEST(bad_input, map_element_of_the_wrong_type_names_its_path) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::squares);
    worker_thread worker{db, flows::squares};
    const auto id = client.start("e2e_squares", boost::json::parse(R"([1, 2, {"three": 3}])"));
    std::string step;
    const auto message = failure_of(client, id, &step);
    EXPECT_EQ(step, "square");
    EXPECT_TRUE(contains(message, "square")) << message;
    EXPECT_TRUE(contains(message, "$")) << message;
}

TEST(bad_input, non_array_input_to_a_root_map_is_refused_by_start) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::squares);
    try {
        client.start("e2e_squares", boost::json::parse(R"({"not":"an array"})"));
        FAIL() << "start accepted an object for a root map";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "P0001");
        EXPECT_TRUE(contains(e.what(), "Flow e2e_squares has root map steps but input is not an array (got object)"))
            << e.what();
    }
}

TEST(bad_input, starting_an_unregistered_flow_says_so) {
    database db;
    pgflow::client client{db.options()};
    try {
        client.start("no_such_flow", value(1));
        FAIL() << "started a flow that does not exist";
    } catch (const pgflow::database_error&) {
        FAIL() << "expected pgflow::error naming the flow, not a raw database error";
    } catch (const pgflow::error& e) {
        EXPECT_TRUE(contains(e.what(), "\"no_such_flow\"")) << e.what();
        EXPECT_TRUE(contains(e.what(), "not registered")) << e.what();
    }
}

TEST(bad_input, a_changed_flow_shape_is_refused_with_a_readable_diff) {
    database db;
    pgflow::client client{db.options()};
    pgflow::dynamic_flow original{"e2e_shape", pgflow::flow_options{.max_attempts = 2}};
    original.step("a", [](const value& v) { return v; }).step("b", {"a"}, [](const value& v) { return v; });
    client.ensure_registered(original);

    pgflow::dynamic_flow changed{"e2e_shape", pgflow::flow_options{.max_attempts = 4}};
    changed.step("a", [](const value& v) { return v; })
        .step("z", [](const value& v) { return v; })
        .map(
            "b", "z", [](const value& v) { return v; }, pgflow::step_options{.timeout = 9});
    try {
        client.ensure_registered(changed);
        FAIL() << "a changed shape was accepted";
    } catch (const pgflow::shape_mismatch_error& e) {
        const std::string m = e.what();
        EXPECT_TRUE(contains(m, "\"e2e_shape\"")) << m;
        EXPECT_TRUE(contains(m, "new slug")) << m;
        EXPECT_TRUE(contains(m, "flow option max_attempts: registered 2, defined 4")) << m;
        EXPECT_TRUE(contains(m, "step \"b\": type registered single, defined map")) << m;
        EXPECT_TRUE(contains(m, "step \"b\": dependencies registered [a], defined [z]")) << m;
        EXPECT_TRUE(contains(m, "step \"b\": timeout registered unset")) << m;
        EXPECT_TRUE(contains(m, "step \"z\": defined but not registered")) << m;
    }
    // Nothing of the changed flow reached the database.
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.steps WHERE flow_slug = 'e2e_shape'"), 2);
}

TEST(bad_input, output_the_database_cannot_store_fails_the_task) {
    database db;
    pgflow::dynamic_flow flow{"e2e_bad_output", pgflow::flow_options{.max_attempts = 1}};
    // jsonb refuses \u0000.
    flow.step("nul", [](const value&) -> value { return value(std::string("a\0b", 3)); });
    pgflow::client client{db.options()};
    client.ensure_registered(flow);
    worker_thread worker{db, flow};
    const auto message = failure_of(client, client.start(flow, value(1)));
    EXPECT_TRUE(contains(message, "rejected the step output")) << message;
}

TEST(bad_input, a_task_for_a_step_the_worker_does_not_know_fails_with_unknown_step) {
    database db;
    pgflow::dynamic_flow registered{"e2e_unknown_step", pgflow::flow_options{.max_attempts = 1}};
    registered.step("known", [](const value& v) { return v; }).step("ghost", {"known"}, [](const value& v) {
        return v;
    });
    pgflow::client client{db.options()};
    client.ensure_registered(registered);
    pgflow::dynamic_flow partial{"e2e_unknown_step"};
    partial.step("known", [](const value& v) { return v; });
    auto options = quiet_options();
    options.ensure_registered = false;
    worker_thread worker{db, partial, options};
    std::string step;
    const auto message = failure_of(client, client.start(registered, value(1)), &step);
    EXPECT_EQ(step, "ghost");
    EXPECT_TRUE(contains(message, "has no step \"ghost\"")) << message;
}

TEST(bad_input, worker_for_an_unregistered_flow_refuses_to_start) {
    database db;
    pgflow::worker worker{db.options(), "e2e_nowhere",
                          [](std::string_view, const value& v, const pgflow::task_context&) { return v; },
                          quiet_options()};
    try {
        worker.run();
        FAIL() << "the worker ran a flow that is not registered";
    } catch (const pgflow::error& e) {
        EXPECT_TRUE(contains(e.what(), "\"e2e_nowhere\" is not registered")) << e.what();
    }
}

TEST(bad_input, database_without_the_schema_gives_the_server_error) {
    database db{false};
    pgflow::client client{db.options()};
    try {
        client.start("anything", value(1));
        FAIL() << "started a run without a schema";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "3F000") << e.what();  // schema "pgflow" does not exist
        EXPECT_FALSE(e.is_connection_error());
    }
}

TEST(bad_input, unreachable_server_is_a_connection_error) {
    pgflow::connection_options nowhere{"postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2"};
    pgflow::client client{nowhere};
    try {
        client.start("anything", value(1));
        FAIL() << "connected to port 1";
    } catch (const pgflow::database_error& e) {
        EXPECT_TRUE(e.is_connection_error()) << e.what();
        EXPECT_TRUE(contains(e.what(), "could not connect")) << e.what();
    }
}

TEST(bad_input, malformed_connection_string_is_refused_at_once) {
    try {
        pgflow::connection_options bad{"host='unterminated"};
        FAIL() << "accepted a malformed connection string";
    } catch (const pgflow::error& e) {
        EXPECT_TRUE(contains(e.what(), "invalid connection string")) << e.what();
    }
}

TEST(bad_input, worker_keeps_retrying_an_unreachable_server_until_stopped) {
    std::atomic<int> complaints{0};
    auto options = quiet_options();
    options.reconnect_delay = 20ms;
    options.max_reconnect_delay = 100ms;
    options.log = [&](std::string_view line) {
        if (line.find("cannot reach the database") != std::string_view::npos) ++complaints;
    };
    pgflow::worker worker{pgflow::connection_options{"postgresql://postgres@127.0.0.1:1/nothing"}, flows::echo,
                          options};
    std::stop_source stop;
    std::jthread stopper([&] {
        std::this_thread::sleep_for(600ms);
        stop.request_stop();
    });
    const auto started = clock::now();
    worker.run(stop.get_token());
    EXPECT_LT(std::chrono::duration<double>(clock::now() - started).count(), 3.0);
    EXPECT_GE(complaints.load(), 3);
}

TEST(bad_input, unknown_database_and_role_are_refusals_with_the_servers_code) {
    const auto server = pgflow::connection_options::from_environment();
    auto refusal_of = [](const pgflow::connection_options& options) {
        try {
            pgflow::client{options}.start("anything", value(1));
        } catch (const pgflow::database_error& e) {
            return e;
        }
        ADD_FAILURE() << "connected and started a run";
        return pgflow::database_error{"", ""};
    };
    const auto database = refusal_of(server.with_database("e2e_no_such_database"));
    EXPECT_EQ(database.sqlstate(), "3D000") << database.what();
    EXPECT_TRUE(database.is_connection_refused_error());
    EXPECT_FALSE(database.is_connection_error());
    const std::string message = database.what();
    EXPECT_TRUE(contains(message, "could not connect to PostgreSQL")) << message;
    EXPECT_TRUE(contains(message, "database \"e2e_no_such_database\" does not exist")) << message;
    EXPECT_FALSE(contains(message, "3D000")) << message;  // the code is sqlstate(), not text
    EXPECT_FALSE(contains(message, "LOCATION")) << message;

    // Under trust authentication 28000 "role ... does not exist"; a server that asks for a password
    // says 28P01 instead (it does not tell whether the role exists).
    const auto role = refusal_of(pgflow::connection_options{server}.set("user", "e2e_no_such_role"));
    EXPECT_TRUE(role.is_connection_refused_error()) << role.what();
    if (role.sqlstate() == "28000") {
        EXPECT_TRUE(contains(role.what(), "role \"e2e_no_such_role\" does not exist")) << role.what();
    }
}

TEST(bad_input, a_role_without_connect_privilege_is_refused_with_42501) {
    database db{false};
    auto admin = pgflow::connection_options::from_environment().connect();
    // Roles are the cluster's: one named after this test's database, dropped whatever happens.
    const std::string role = "r_" + db.name().substr(0, 60);
    struct role_guard {
        pgflow::pq::connection& admin;
        std::string drop;
        ~role_guard() {
            try {
                admin.execute(drop);
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        }
    } guard{admin, "DROP ROLE IF EXISTS " + admin.quote_identifier(role)};
    admin.execute(guard.drop);
    admin.execute("CREATE ROLE " + admin.quote_identifier(role) + " LOGIN PASSWORD 'e2e'");
    admin.execute("REVOKE CONNECT ON DATABASE " + admin.quote_identifier(db.name()) + " FROM PUBLIC");
    auto options = db.options();
    options.set("user", role).set("password", "e2e");

    try {
        pgflow::client{options}.start("anything", value(1));
        ADD_FAILURE() << "connected without CONNECT privilege";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "42501") << e.what();
        EXPECT_TRUE(e.is_connection_refused_error()) << e.what();
        EXPECT_FALSE(e.is_connection_error()) << e.what();
        EXPECT_TRUE(contains(e.what(), "permission denied for database")) << e.what();
    }
    // A worker started with these settings ends with the reason instead of retrying for ever.
    pgflow::worker worker{options, flows::echo, quiet_options()};
    const auto ended = database_error_ending(worker);
    ASSERT_TRUE(ended) << "the worker ran without CONNECT privilege until it was stopped";
    EXPECT_EQ(ended->sqlstate(), "42501") << ended->what();
}

TEST(bad_input, worker_refused_by_the_server_at_its_start_ends_with_the_reason) {
    std::atomic<int> complaints{0};
    auto options = quiet_options();
    options.log = [&](std::string_view line) {
        if (line.find("cannot reach the database") != std::string_view::npos) ++complaints;
    };
    pgflow::worker worker{pgflow::connection_options::from_environment().with_database("e2e_no_such_database"),
                          flows::echo, options};
    const auto started = clock::now();
    const auto ended = database_error_ending(worker);
    ASSERT_TRUE(ended) << "the worker ran against a database that does not exist until it was stopped";
    EXPECT_EQ(ended->sqlstate(), "3D000") << ended->what();
    EXPECT_TRUE(contains(ended->what(), "\"e2e_no_such_database\" does not exist")) << ended->what();
    EXPECT_LT(std::chrono::duration<double>(clock::now() - started).count(), 3.0);
    EXPECT_EQ(complaints.load(), 0);
}

TEST(bad_input, worker_waits_out_a_refusal_once_it_has_been_connected) {
    database db;
    std::atomic<int> refusals{0};
    auto options = quiet_options();
    options.reconnect_delay = 20ms;
    options.max_reconnect_delay = 100ms;
    options.log = [&](std::string_view line) {
        if (line.find("cannot reach the database") != std::string_view::npos &&
            line.find("does not exist") != std::string_view::npos)
            ++refusals;
    };
    pgflow::worker worker{db.options(), flows::echo, options};
    std::stop_source stop;
    std::exception_ptr failure;
    std::jthread runner([&] {
        try {
            worker.run(stop.get_token());
        } catch (...) {
            failure = std::current_exception();
        }
    });
    auto c = db.connect();
    ASSERT_TRUE(eventually([&] { return c.execute("SELECT count(*) FROM pgflow.workers").get<int>(0, 0) > 0; }));
    auto admin = pgflow::connection_options::from_environment().connect();
    admin.execute("DROP DATABASE " + admin.quote_identifier(db.name()) + " WITH (FORCE)");
    EXPECT_TRUE(eventually([&] { return refusals.load() >= 3; }, 10s)) << refusals.load();
    stop.request_stop();
    runner.join();
    EXPECT_FALSE(failure) << "the worker ended instead of waiting for its database";
}

TEST(bad_input, invalid_dynamic_flows_are_refused_with_the_reason) {
    auto handler = [](const value& v) { return v; };
    auto message_of = [](auto&& build) -> std::string {
        try {
            build();
        } catch (const pgflow::definition_error& e) {
            return e.what();
        }
        return "(no error)";
    };
    EXPECT_TRUE(contains(message_of([] { pgflow::dynamic_flow{"bad-slug"}; }), "\"bad-slug\""));
    EXPECT_TRUE(contains(message_of([] { pgflow::dynamic_flow{std::string(48, 'x')}; }), "47 characters"));
    EXPECT_TRUE(contains(message_of([&] { pgflow::dynamic_flow{"f"}.step("run", handler); }), "reserved"));
    EXPECT_TRUE(contains(message_of([&] { pgflow::dynamic_flow{"f"}.step("1st", handler); }), "invalid step slug"));
    EXPECT_TRUE(contains(message_of([&] { pgflow::dynamic_flow{"f"}.step("a", handler).step("a", handler); }),
                         "step \"a\": two steps of this flow have the same slug"));
    EXPECT_TRUE(contains(message_of([&] {
                             pgflow::dynamic_flow{"f"}.add(
                                 {"m",
                                  pgflow::step_type::map,
                                  {"a", "b"},
                                  [](const value& v, const pgflow::task_context&) { return v; },
                                  {}});
                         }),
                         "at most one dependency, the step whose array output it maps over; it lists 2: \"a\", \"b\""));
    EXPECT_TRUE(contains(message_of([&] { pgflow::dynamic_flow{"f"}.step("a", {"a"}, handler); }),
                         "step \"a\": a step cannot depend on itself"));
    EXPECT_TRUE(
        contains(message_of([&] { pgflow::dynamic_flow{"f"}.step("a", handler, pgflow::step_options{.timeout = 0}); }),
                 "step \"a\": timeout must be > 0, got 0"));
    EXPECT_TRUE(contains(message_of([&] {
                             pgflow::dynamic_flow f{"f"};
                             f.step("a", {"missing"}, handler);
                             (void)f.shape();
                         }),
                         "step \"a\": a step depends on a step that is not declared in this flow: \"missing\""));
    EXPECT_TRUE(contains(message_of([&] {
                             pgflow::dynamic_flow f{"f"};
                             f.step("root", handler)
                                 .step("a", {"root", "c"}, handler)
                                 .step("b", {"a"}, handler)
                                 .step("c", {"b"}, handler);
                             (void)f.shape();
                         }),
                         "remove one of the dependencies on the cycle: a -> c -> b -> a"));
    // Steps may come before their dependencies; the shape lists dependencies first.
    pgflow::dynamic_flow f{"f"};
    f.step("late", {"early"}, handler).step("early", handler);
    const auto shape = f.shape();
    ASSERT_EQ(shape.steps.size(), 2U);
    EXPECT_EQ(shape.steps[0].slug, "early");
    EXPECT_EQ(shape.steps[1].slug, "late");
}
