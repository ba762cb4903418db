// Flow control declarations (limits.hpp, limits_shape.hpp): the registration text of a flow with
// flow_controls<...> is pgflow 0.8.1's text followed by its pgflow_cpp statements, byte for byte, as
// a constant expression; the same text from its shape and from an equivalent dynamic flow; and the
// rules a dynamic flow's limits are held to.

#include <pgflow/dynamic_flow.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/limits.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/runtime/registration.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

constexpr auto plain = pgflow::flow<"billing", int>(
    pgflow::flow_options{.max_attempts = 5}, pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));

constexpr auto limited = pgflow::flow<"billing", int>(
    pgflow::flow_options{.max_attempts = 5},
    pgflow::flow_controls<pgflow::max_concurrent_runs<100>, pgflow::max_runs_per_key<"customer.id", 2>,
                          pgflow::rate_limit<"partner_api", 20, 1>,
                          pgflow::step_limits<"ship", pgflow::concurrency_per_key<"customer.id", 1>>,
                          pgflow::step_limits<"charge", pgflow::concurrency<5>, pgflow::rate_limited<"partner_api">>>{},
    pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));

constexpr std::string_view plain_text =
    "SELECT pgflow.create_flow('billing', max_attempts => 5);\n"
    "SELECT pgflow.add_step('billing', 'charge');\n"
    "SELECT pgflow.add_step('billing', 'ship', ARRAY['charge']);";

constexpr std::string_view limits_text =
    "\nSELECT pgflow_cpp.set_rate_limit('partner_api', 20, 1);\n"
    "SELECT pgflow_cpp.set_flow_limits('billing', max_concurrent_runs => 100, concurrency_key => "
    "'{customer,id}'::text[], max_runs_per_key => 2);\n"
    "SELECT pgflow_cpp.set_step_limits('billing', 'ship', concurrency_key => '{customer,id}'::text[], "
    "max_per_key => 1);\n"
    "SELECT pgflow_cpp.set_step_limits('billing', 'charge', max_concurrency => 5, rate_limit => 'partner_api');";

// A constant expression, and 0.8.1's text for the flow without controls.
static_assert(pgflow::registration_sql(plain) == plain_text);
static_assert(pgflow::registration_sql(limited).substr(0, plain_text.size()) == plain_text);
static_assert(pgflow::registration_sql(limited).substr(plain_text.size()) == limits_text);
static_assert(pgflow::flow_type<decltype(limited)>);

constexpr auto only_a_step_limit =
    pgflow::flow<"crawl">(pgflow::flow_controls<pgflow::step_limits<"fetch", pgflow::concurrency<1>>>{},
                          pgflow::map<"fetch">([](const boost::json::value& url) { return url; }));
static_assert(pgflow::registration_sql(only_a_step_limit) ==
              "SELECT pgflow.create_flow('crawl');\n"
              "SELECT pgflow.add_step('crawl', 'fetch', step_type => 'map');\n"
              "SELECT pgflow_cpp.set_step_limits('crawl', 'fetch', max_concurrency => 1);");

TEST(Limits, ShapeCarriesTheDeclarationsAndWritesTheSameText) {
    const pgflow::flow_shape shape = pgflow::shape_of(limited);
    ASSERT_EQ(shape.limits.steps.size(), 2U);
    EXPECT_EQ(shape.limits.steps[1].step, "charge");
    EXPECT_EQ(shape.limits.steps[1].max_concurrency, 5);
    EXPECT_EQ(shape.limits.steps[1].rate_limit, "partner_api");
    EXPECT_EQ(shape.limits.concurrency_key, "customer.id");
    EXPECT_EQ(pgflow::registration_sql(shape), pgflow::registration_sql(limited));
    EXPECT_TRUE(pgflow::shape_of(plain).limits.empty());
    EXPECT_EQ(pgflow::registration_sql(pgflow::shape_of(plain)), plain_text);
    // The flow is compared with a database's by its steps and options only: limits may change.
    EXPECT_TRUE(pgflow::detail::shape_differences(pgflow::shape_of(plain), shape).empty());
}

TEST(Limits, ParameterizedStatementsPassEveryValue) {
    pgflow::detail::parameterized_statements statements;
    pgflow::detail::write_registration(statements, pgflow::detail::shape_source{pgflow::shape_of(limited)});
    ASSERT_EQ(statements.statements.size(), 7U);
    const auto& flow_limits = statements.statements[4];
    EXPECT_EQ(flow_limits.sql,
              "SELECT pgflow_cpp.set_flow_limits($1, max_concurrent_runs => $2::int, concurrency_key => "
              "$3::text[], max_runs_per_key => $4::int);");
    EXPECT_EQ(flow_limits.values, (std::vector<std::string>{"billing", "100", "{customer,id}", "2"}));
    EXPECT_EQ(statements.statements[3].sql, "SELECT pgflow_cpp.set_rate_limit($1, $2::int, $3::int);");
}

pgflow::dynamic_flow dynamic_billing() {
    pgflow::dynamic_flow f{"billing", pgflow::flow_options{.max_attempts = 5}};
    const auto echo = [](const boost::json::value& v) { return v; };
    f.step("charge", echo).step("ship", {"charge"}, echo);
    return f;
}

TEST(Limits, DynamicFlowWritesTheCompiledFlowsText) {
    pgflow::dynamic_flow f = dynamic_billing();
    f.limits({.max_concurrent_runs = 100,
              .concurrency_key = "customer.id",
              .max_runs_per_key = 2,
              .steps = {{.step = "ship", .concurrency_key = "customer.id", .max_per_key = 1},
                        {.step = "charge", .max_concurrency = 5, .rate_limit = "partner_api"}},
              .rate_limits = {{.name = "partner_api", .max_starts = 20, .per_seconds = 1}}});
    EXPECT_EQ(pgflow::registration_sql(f.shape()), pgflow::registration_sql(limited));
}

std::string dynamic_problem(pgflow::flow_limits_shape limits) {
    pgflow::dynamic_flow f = dynamic_billing();
    f.limits(std::move(limits));
    try {
        static_cast<void>(f.shape());
    } catch (const pgflow::definition_error& e) {
        return e.what();
    }
    return "no error";
}

TEST(Limits, DynamicFlowRulesNameWhatIsWrong) {
    EXPECT_EQ(dynamic_problem({.steps = {{.step = "charge", .max_concurrency = 0}}}),
              "pgflow: flow \"billing\", step \"charge\": " PGFLOW_DETAIL_LIMIT_BELOW_ONE);
    EXPECT_EQ(dynamic_problem({.steps = {{.step = "chrage", .max_concurrency = 1}}}),
              "pgflow: flow \"billing\", step \"chrage\": limits are given for a step the flow does not have");
    EXPECT_EQ(dynamic_problem({.steps = {{.step = "ship", .concurrency_key = "customer..id", .max_per_key = 1}}}),
              "pgflow: flow \"billing\", step \"ship\": " PGFLOW_DETAIL_INVALID_KEY_PATH ", got \"customer..id\"");
    EXPECT_EQ(dynamic_problem({.steps = {{.step = "ship", .concurrency_key = "customer.id"}}}),
              "pgflow: flow \"billing\", step \"ship\": " PGFLOW_DETAIL_KEY_WITHOUT_LIMIT);
    EXPECT_EQ(dynamic_problem({.steps = {{.step = "ship", .rate_limit = "partner"}}}),
              "pgflow: flow \"billing\", step \"ship\": the step names rate limit \"partner\", which the flow does "
              "not declare: declare it with the flow");
    EXPECT_EQ(dynamic_problem({.rate_limits = {{.name = "partner", .max_starts = 0, .per_seconds = 1}}}),
              "pgflow: flow \"billing\": rate limit \"partner\": " PGFLOW_DETAIL_RATE_NOT_POSITIVE);
    EXPECT_EQ(dynamic_problem({.rate_limits = {{.name = "a b", .max_starts = 1, .per_seconds = 1}}}),
              "pgflow: flow \"billing\": " PGFLOW_DETAIL_INVALID_RATE_LIMIT_NAME ", got \"a b\"");
    EXPECT_EQ(dynamic_problem({.max_concurrent_runs = -1}), "pgflow: flow \"billing\": " PGFLOW_DETAIL_LIMIT_BELOW_ONE);
    EXPECT_EQ(dynamic_problem({.max_concurrent_runs = 3}), "no error");
}

TEST(Limits, KeyPaths) {
    static_assert(pgflow::detail::key_path_is_valid("customer.id"));
    static_assert(pgflow::detail::key_path_is_valid("items.0.sku-code"));
    static_assert(!pgflow::detail::key_path_is_valid(""));
    static_assert(!pgflow::detail::key_path_is_valid(".id"));
    static_assert(!pgflow::detail::key_path_is_valid("id."));
    static_assert(!pgflow::detail::key_path_is_valid("customer id"));
    static_assert(!pgflow::detail::key_path_is_valid("a,b"));
    SUCCEED();
}

}  // namespace
