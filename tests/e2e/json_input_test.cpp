// JSON as the database holds it reaches handlers unchanged: deep nesting (PostgreSQL keeps
// thousands of levels, Boost.JSON's default parser stopped at 32) and numbers beyond a double
// (refused with their path instead of rounded). Issue 10, defects 5 and 12.

#include "e2e_support.hpp"

#include <pgflow/json_parse.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace e2e;
using boost::json::value;

namespace {

/// {"a": {"a": ... {"a": 1} ...}} nested `depth` levels.
std::string nested_objects(int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += R"({"a": )";
    text += "1";
    text += std::string(static_cast<std::size_t>(depth), '}');
    return text;
}

/// echo returns the run input, last returns echo's output: both tasks' inputs nest one level more.
pgflow::dynamic_flow echo_flow() {
    pgflow::dynamic_flow f{"e2e_json_echo", pgflow::flow_options{.max_attempts = 1}};
    f.step("echo", [](const value& input) { return input.at("run"); });
    f.step("last", {"echo"}, [](const value& input) { return input.at("echo"); });
    return f;
}

}  // namespace

TEST(json_input, a_run_whose_input_nests_1000_levels_completes) {
    database db;
    pgflow::client client{db.options()};
    const auto flow = echo_flow();
    client.ensure_registered(flow);
    worker_thread worker{db, flow};
    const std::string deep = nested_objects(1000);
    const auto id = client.start(flow, pgflow::parse_json(deep));
    value expected = boost::json::object{{"last", pgflow::parse_json(deep)}};
    EXPECT_EQ(client.wait(id, 30s), expected);
    auto c = db.connect();
    EXPECT_EQ(scalar(c,
                     "SELECT count(*) FROM pgflow.runs WHERE run_id = $1::uuid AND input = $2::jsonb "
                     "AND output = jsonb_build_object('last', $2::jsonb)",
                     id, deep),
              1);
    EXPECT_EQ(client.status(id).input, pgflow::parse_json(deep));
}

TEST(json_input, a_number_beyond_double_precision_fails_the_task_naming_its_path) {
    database db;
    pgflow::client client{db.options()};
    const auto flow = echo_flow();
    client.ensure_registered(flow);
    worker_thread worker{db, flow};
    // As another client (pgflow's TypeScript one, psql) may start it: the database keeps it exactly.
    auto c = db.connect();
    const auto id = pgflow::run_id{c.execute("SELECT run_id::text FROM pgflow.start_flow('e2e_json_echo', "
                                             "'{\"order\": {\"id\": 12345678901234567890123456789}}')")
                                       .get<std::string>(0, 0)};
    const auto e = e2e::wait_for_failure(client, id, 30s);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step_slug(), "echo");
    EXPECT_NE(e->error_message().find("cannot read the task input: at $.run.order.id: the number "
                                      "12345678901234567890123456789 cannot be held exactly"),
              std::string::npos)
        << e->error_message();
    // Reading it back would round it as well: the client says so rather than return a rounded input.
    try {
        static_cast<void>(client.status(id));
        FAIL() << "status returned a rounded input";
    } catch (const pgflow::json_parse_error& e) {
        EXPECT_NE(std::string(e.what()).find("12345678901234567890123456789"), std::string::npos) << e.what();
    }
}
