// registration_sql(): byte for byte what pgflow 0.8.1's compileFlow emits for the equivalent
// TypeScript flow, as a constant expression. Expectations are written from compileFlow's rules and
// examples; the seed flows are pgflow's own example flows and the ex_pgflow ones.

#include <pgflow/dynamic_flow.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/task_context.hpp>

#include "registration_capacity.hpp"

#include <boost/hana/adapt_struct.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace seed {

// pgflow's pkgs/example-flows/src/example-flow.ts
struct ExampleInput {
    int value;
};
struct RootOut {
    int doubledValue;
};
struct NormalOut {
    std::vector<int> doubledValueArray;
};
struct ThirdOut {
    std::size_t finalValue;
};
}  // namespace seed
BOOST_HANA_ADAPT_STRUCT(seed::ExampleInput, value);
BOOST_HANA_ADAPT_STRUCT(seed::RootOut, doubledValue);
BOOST_HANA_ADAPT_STRUCT(seed::NormalOut, doubledValueArray);
BOOST_HANA_ADAPT_STRUCT(seed::ThirdOut, finalValue);

namespace conditional {
struct Fraud {
    bool approved;
    std::string note;
};
}  // namespace conditional
BOOST_HANA_ADAPT_STRUCT(conditional::Fraud, approved, note);

namespace seed {

constexpr auto example_flow = pgflow::flow<"example_flow", ExampleInput>(
    pgflow::flow_options{.max_attempts = 3},
    pgflow::step<"rootStep">([](const ExampleInput& in) { return RootOut{in.value * 2}; }),
    pgflow::step<"normalStep", pgflow::after<"rootStep">>(
        [](const ExampleInput&, const RootOut& root) { return NormalOut{{root.doubledValue}}; }),
    pgflow::step<"thirdStep", pgflow::after<"normalStep">>(
        [](const ExampleInput&, const NormalOut& normal) { return ThirdOut{normal.doubledValueArray.size()}; }));

constexpr std::string_view example_flow_sql =
    "SELECT pgflow.create_flow('example_flow', max_attempts => 3);\n"
    "SELECT pgflow.add_step('example_flow', 'rootStep');\n"
    "SELECT pgflow.add_step('example_flow', 'normalStep', ARRAY['rootStep']);\n"
    "SELECT pgflow.add_step('example_flow', 'thirdStep', ARRAY['normalStep']);";

// pgflow's pkgs/example-flows/src/map-flow.ts
struct Summary {
    std::size_t processed;
    std::vector<std::string> results;
};
}  // namespace seed
BOOST_HANA_ADAPT_STRUCT(seed::Summary, processed, results);

namespace seed {

constexpr auto text_processing = pgflow::flow<"text_processing", std::vector<std::string>>(
    pgflow::map<"normalize">([](const std::string& text) {
        std::string out;
        for (const char c : text)
            if (c != ' ') out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        return out;
    }),
    pgflow::map<"capitalize", pgflow::after<"normalize">>([](std::string text) {
        if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
        return text;
    }),
    pgflow::step<"summarize", pgflow::after<"capitalize">>(
        [](const std::vector<std::string>&, const std::vector<std::string>& capitalized) {
            return Summary{capitalized.size(), capitalized};
        }));

constexpr std::string_view text_processing_sql =
    "SELECT pgflow.create_flow('text_processing');\n"
    "SELECT pgflow.add_step('text_processing', 'normalize', step_type => 'map');\n"
    "SELECT pgflow.add_step('text_processing', 'capitalize', ARRAY['normalize'], step_type => 'map');\n"
    "SELECT pgflow.add_step('text_processing', 'summarize', ARRAY['capitalize']);";

// ex_pgflow's parallel DAG (fetch -> {analyze, summarize} -> save) with a delayed branch.
constexpr auto parallel_analysis = pgflow::flow<"parallel_analysis", std::string>(
    pgflow::flow_options{.base_delay = 2},
    pgflow::step<"fetch">([](const std::string& url) { return "fetched " + url; }),
    pgflow::step<"analyze", pgflow::after<"fetch">>(
        pgflow::step_options{.timeout = 30}, [](const std::string&, const std::string& page) { return page.size(); }),
    pgflow::step<"summarize", pgflow::after<"fetch">>(
        pgflow::step_options{.start_delay = 60},
        [](const std::string&, const std::string& page) { return page.substr(0, 3); }),
    pgflow::step<"save", pgflow::after<"analyze", "summarize">>(
        pgflow::step_options{.max_attempts = 1},
        [](const std::string&, std::size_t length, const std::string& summary) {
            return summary + std::to_string(length);
        }));

constexpr std::string_view parallel_analysis_sql =
    "SELECT pgflow.create_flow('parallel_analysis', base_delay => 2);\n"
    "SELECT pgflow.add_step('parallel_analysis', 'fetch');\n"
    "SELECT pgflow.add_step('parallel_analysis', 'analyze', ARRAY['fetch'], timeout => 30);\n"
    "SELECT pgflow.add_step('parallel_analysis', 'summarize', ARRAY['fetch'], start_delay => 60);\n"
    "SELECT pgflow.add_step('parallel_analysis', 'save', ARRAY['analyze', 'summarize'], max_attempts => 1);";

// ex_pgflow's AI-analysis flow: a map over a fetched data set, then a summary.
struct Dataset {
    std::string dataset_id;
};
}  // namespace seed
BOOST_HANA_ADAPT_STRUCT(seed::Dataset, dataset_id);

namespace seed {

constexpr auto ai_analysis = pgflow::flow<"ai_analysis", Dataset>(
    pgflow::flow_options{.timeout = 120}, pgflow::step<"fetch_data">([](const Dataset& d) {
        return std::vector<std::string>{d.dataset_id + "/1", d.dataset_id + "/2"};
    }),
    pgflow::map<"analyze", pgflow::after<"fetch_data">>(pgflow::step_options{.timeout = 300},
                                                        [](const std::string& row) { return row.size() > 3; }),
    pgflow::step<"summarize", pgflow::after<"analyze">>([](const Dataset&, const std::vector<bool>& verdicts) {
        int positive = 0;
        for (const bool v : verdicts) positive += v ? 1 : 0;
        return positive;
    }));

constexpr std::string_view ai_analysis_sql =
    "SELECT pgflow.create_flow('ai_analysis', timeout => 120);\n"
    "SELECT pgflow.add_step('ai_analysis', 'fetch_data');\n"
    "SELECT pgflow.add_step('ai_analysis', 'analyze', ARRAY['fetch_data'], timeout => 300, step_type => 'map');\n"
    "SELECT pgflow.add_step('ai_analysis', 'summarize', ARRAY['analyze']);";

// compileFlow's documented examples: every flow option, step options on a dependent step, a root map
// with every option but start_delay, a dependent map.
constexpr auto analyze_website = pgflow::flow<"analyze_website", std::string>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 5, .timeout = 10},
    pgflow::step<"website">([](const std::string& url) { return url; }),
    pgflow::step<"sentiment", pgflow::after<"website">>(pgflow::step_options{.max_attempts = 5, .timeout = 30},
                                                        [](const std::string&, const std::string&) { return 0.5; }),
    pgflow::step<"summary", pgflow::after<"website">>([](const std::string&, const std::string& w) { return w; }),
    pgflow::step<"saveToDb", pgflow::after<"sentiment", "summary">>(
        [](const std::string&, double, const std::string&) { return true; }));

constexpr std::string_view analyze_website_sql =
    "SELECT pgflow.create_flow('analyze_website', max_attempts => 3, base_delay => 5, timeout => 10);\n"
    "SELECT pgflow.add_step('analyze_website', 'website');\n"
    "SELECT pgflow.add_step('analyze_website', 'sentiment', ARRAY['website'], max_attempts => 5, timeout => 30);\n"
    "SELECT pgflow.add_step('analyze_website', 'summary', ARRAY['website']);\n"
    "SELECT pgflow.add_step('analyze_website', 'saveToDb', ARRAY['sentiment', 'summary']);";

constexpr auto test_flow = pgflow::flow<"test_flow", std::vector<int>>(
    pgflow::map<"process">(pgflow::step_options{.max_attempts = 5, .base_delay = 10, .timeout = 60},
                           [](int x) { return x + 1; }),
    pgflow::step<"nums">([](const std::vector<int>& in) { return in; }),
    pgflow::map<"double", pgflow::after<"nums">>([](int x) { return 2 * x; }));

constexpr std::string_view test_flow_sql =
    "SELECT pgflow.create_flow('test_flow');\n"
    "SELECT pgflow.add_step('test_flow', 'process', max_attempts => 5, base_delay => 10, timeout => 60, step_type => 'map');\n"
    "SELECT pgflow.add_step('test_flow', 'nums');\n"
    "SELECT pgflow.add_step('test_flow', 'double', ARRAY['nums'], step_type => 'map');";

// The contract: usable as a constant expression.
constexpr std::string_view example_flow_registration = pgflow::registration_sql(example_flow);
static_assert(example_flow_registration == example_flow_sql);
static_assert(pgflow::registration_sql(text_processing) == text_processing_sql);
static_assert(pgflow::registration_sql(parallel_analysis) == parallel_analysis_sql);
static_assert(pgflow::registration_sql(ai_analysis) == ai_analysis_sql);
static_assert(pgflow::registration_sql(analyze_website) == analyze_website_sql);
static_assert(pgflow::registration_sql(test_flow) == test_flow_sql);
static_assert(test_support::capacity_matches_the_writer(example_flow));
static_assert(test_support::capacity_matches_the_writer(ai_analysis));
static_assert(test_support::capacity_matches_the_writer(test_flow));

}  // namespace seed

namespace {

TEST(registration, example_flow_matches_compile_flow) {
    EXPECT_EQ(pgflow::registration_sql(seed::example_flow), seed::example_flow_sql);
}
TEST(registration, text_processing_map_flow_matches_compile_flow) {
    EXPECT_EQ(pgflow::registration_sql(seed::text_processing), seed::text_processing_sql);
}
TEST(registration, diamond_with_start_delay_matches_compile_flow) {
    EXPECT_EQ(pgflow::registration_sql(seed::parallel_analysis), seed::parallel_analysis_sql);
}
TEST(registration, ai_analysis_map_flow_matches_compile_flow) {
    EXPECT_EQ(pgflow::registration_sql(seed::ai_analysis), seed::ai_analysis_sql);
}
TEST(registration, spec_examples_match_compile_flow) {
    EXPECT_EQ(pgflow::registration_sql(seed::analyze_website), seed::analyze_website_sql);
    EXPECT_EQ(pgflow::registration_sql(seed::test_flow), seed::test_flow_sql);
}

TEST(registration, statements_are_newline_joined_without_trailing_newline) {
    const std::string_view sql = pgflow::registration_sql(seed::example_flow);
    EXPECT_FALSE(sql.ends_with('\n'));
    EXPECT_TRUE(sql.ends_with(");"));
    EXPECT_EQ(std::count(sql.begin(), sql.end(), '\n'), 3);
}

TEST(registration, dependencies_declared_later_are_registered_first) {
    constexpr auto f = pgflow::flow<"late_deps", int>(
        pgflow::step<"join", pgflow::after<"left", "right">>([](int, int l, int r) { return l + r; }),
        pgflow::step<"right", pgflow::after<"top">>([](int, int t) { return t + 2; }),
        pgflow::step<"left", pgflow::after<"top">>([](int, int t) { return t + 1; }),
        pgflow::step<"top">([](int n) { return n; }));
    EXPECT_EQ(pgflow::registration_sql(f),
              "SELECT pgflow.create_flow('late_deps');\n"
              "SELECT pgflow.add_step('late_deps', 'top');\n"
              "SELECT pgflow.add_step('late_deps', 'right', ARRAY['top']);\n"
              "SELECT pgflow.add_step('late_deps', 'left', ARRAY['top']);\n"
              "SELECT pgflow.add_step('late_deps', 'join', ARRAY['left', 'right']);");
}

TEST(registration, dependency_arrays_keep_after_order) {
    constexpr auto f = pgflow::flow<"dep_order", int>(
        pgflow::step<"a">([](int n) { return n; }), pgflow::step<"b">([](int n) { return n; }),
        pgflow::step<"c", pgflow::after<"b", "a">>([](int, int b, int a) { return b - a; }));
    EXPECT_EQ(pgflow::registration_sql(f),
              "SELECT pgflow.create_flow('dep_order');\n"
              "SELECT pgflow.add_step('dep_order', 'a');\n"
              "SELECT pgflow.add_step('dep_order', 'b');\n"
              "SELECT pgflow.add_step('dep_order', 'c', ARRAY['b', 'a']);");
}

TEST(registration, zero_and_extreme_option_values_are_written_as_given) {
    constexpr auto f = pgflow::flow<"extremes", int>(
        pgflow::flow_options{.max_attempts = 0, .base_delay = 0, .timeout = 2147483645},
        pgflow::step<"s">(
            pgflow::step_options{.max_attempts = 2147483647, .base_delay = 0, .timeout = 1, .start_delay = 0},
            [](int n) { return n; }));
    EXPECT_EQ(pgflow::registration_sql(f),
              "SELECT pgflow.create_flow('extremes', max_attempts => 0, base_delay => 0, timeout => 2147483645);\n"
              "SELECT pgflow.add_step('extremes', 's', max_attempts => 2147483647, base_delay => 0, timeout => 1, "
              "start_delay => 0);");
}

TEST(registration, a_flow_without_steps_only_creates_the_flow) {
    constexpr auto f = pgflow::flow<"empty_flow", int>();
    EXPECT_EQ(pgflow::registration_sql(f), "SELECT pgflow.create_flow('empty_flow');");
}

TEST(registration, a_flow_built_at_run_time_gives_the_same_text) {
    int timeout = 10;  // not a constant: the flow is built at run time
    const auto f = pgflow::flow<"analyze_website", std::string>(
        pgflow::flow_options{.max_attempts = 3, .base_delay = 5, .timeout = timeout},
        pgflow::step<"website">([](const std::string& url) { return url; }),
        pgflow::step<"sentiment", pgflow::after<"website">>(
            pgflow::step_options{.max_attempts = 5, .timeout = 3 * timeout},
            [](const std::string&, const std::string&) { return 0.5; }),
        pgflow::step<"summary", pgflow::after<"website">>([](const std::string&, const std::string& w) { return w; }),
        pgflow::step<"saveToDb", pgflow::after<"sentiment", "summary">>(
            [](const std::string&, double, const std::string&) { return true; }));
    EXPECT_EQ(pgflow::registration_sql(f), seed::analyze_website_sql);
}

// pgflow 0.14's conditions: add_step's named arguments after the options, each only when stated,
// patterns as compact JSON cast to jsonb, then step_type last.

TEST(registration, conditions_follow_the_options_in_add_step_order) {
    using conditional::Fraud;
    constexpr auto f = pgflow::flow<"orders", int>(
        pgflow::step<"fraud_check">([](int n) {
            return Fraud{n > 0, ""};
        }),
        pgflow::step<"charge", pgflow::after<"fraud_check">, pgflow::only_if<R"({"fraud_check": {"approved": true}})">,
                     pgflow::when_exhausted<pgflow::skip>>(pgflow::step_options{.max_attempts = 5},
                                                           [](int n, const Fraud&) { return n; }),
        pgflow::step<"notify", pgflow::after<"fraud_check">, pgflow::when_unmet<pgflow::skip_cascade>,
                     pgflow::only_if_not<R"( { "fraud_check" : { "note" : "it's \u0041" } } )">,
                     pgflow::only_if<R"({"fraud_check": {}})">, pgflow::when_exhausted<pgflow::fail>>(
            [](int n, const Fraud&) { return std::vector<int>{n}; }),
        pgflow::map<"each", pgflow::after<"notify">, pgflow::when_exhausted<pgflow::skip_cascade>>(
            pgflow::step_options{.start_delay = 1}, [](const boost::json::value& v) { return v; }));
    constexpr std::string_view expected =
        "SELECT pgflow.create_flow('orders');\n"
        "SELECT pgflow.add_step('orders', 'fraud_check');\n"
        "SELECT pgflow.add_step('orders', 'charge', ARRAY['fraud_check'], max_attempts => 5, "
        "required_input_pattern => '{\"fraud_check\":{\"approved\":true}}'::jsonb, when_exhausted => 'skip');\n"
        "SELECT pgflow.add_step('orders', 'notify', ARRAY['fraud_check'], "
        "required_input_pattern => '{\"fraud_check\":{}}'::jsonb, "
        "forbidden_input_pattern => '{\"fraud_check\":{\"note\":\"it''s A\"}}'::jsonb, "
        "when_unmet => 'skip-cascade', when_exhausted => 'fail');\n"
        "SELECT pgflow.add_step('orders', 'each', ARRAY['notify'], start_delay => 1, "
        "when_exhausted => 'skip-cascade', step_type => 'map');";
    static_assert(pgflow::registration_sql(f) == expected);
    static_assert(test_support::capacity_matches_the_writer(f));
    EXPECT_EQ(pgflow::registration_sql(f), expected);
    EXPECT_EQ(pgflow::registration_sql(pgflow::shape_of(f)), expected);
}

template <class Make>
std::string definition_error_of(Make make) {
    try {
        static_cast<void>(make());
    } catch (const pgflow::definition_error& e) {
        return e.what();
    }
    return "(no definition_error)";
}

TEST(registration, options_out_of_range_at_run_time_throw_definition_error) {
    int minus_one = -1;
    int zero = 0;
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"bad_flow", int>(pgflow::flow_options{.max_attempts = minus_one},
                                                       pgflow::step<"s">([](int n) { return n; }));
              }),
              "pgflow: flow \"bad_flow\": max_attempts must be >= 0, got -1");
    EXPECT_EQ(definition_error_of(
                  [&] { return pgflow::flow<"bad_flow", int>(pgflow::flow_options{.base_delay = minus_one}); }),
              "pgflow: flow \"bad_flow\": base_delay must be >= 0, got -1");
    EXPECT_EQ(definition_error_of([&] { return pgflow::flow<"bad_flow", int>(pgflow::flow_options{.timeout = zero}); }),
              "pgflow: flow \"bad_flow\": timeout must be > 0, got 0");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"bad_flow", int>(
                      pgflow::step<"late">(pgflow::step_options{.start_delay = minus_one}, [](int n) { return n; }));
              }),
              "pgflow: flow \"bad_flow\", step \"late\": start_delay must be >= 0, got -1");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"bad_flow", int>(
                      pgflow::step<"quick">(pgflow::step_options{.timeout = zero}, [](int n) { return n; }));
              }),
              "pgflow: flow \"bad_flow\", step \"quick\": timeout must be > 0, got 0");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"bad_flow", int>(
                      pgflow::step<"eager">(pgflow::step_options{.base_delay = minus_one}, [](int n) { return n; }));
              }),
              "pgflow: flow \"bad_flow\", step \"eager\": base_delay must be >= 0, got -1");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"bad_flow", int>(
                      pgflow::step<"again">(pgflow::step_options{.max_attempts = minus_one}, [](int n) { return n; }));
              }),
              "pgflow: flow \"bad_flow\", step \"again\": max_attempts must be >= 0, got -1");
}

// timeout + 2 is a claimed message's visibility in pgflow's SQL: it must fit a PostgreSQL integer,
// or every claim of the step fails with "integer out of range".
TEST(registration, timeout_beyond_2147483645_throws_definition_error) {
    int largest = pgflow::max_timeout;
    int too_large = pgflow::max_timeout + 1;
    EXPECT_EQ(largest, 2147483645);
    EXPECT_EQ(
        definition_error_of([&] { return pgflow::flow<"bad_flow", int>(pgflow::flow_options{.timeout = too_large}); }),
        "pgflow: flow \"bad_flow\": timeout must be <= 2147483645 (timeout + 2 must fit a PostgreSQL integer), "
        "got 2147483646");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"bad_flow", int>(
                      pgflow::step<"slow">(pgflow::step_options{.timeout = too_large}, [](int n) { return n; }));
              }),
              "pgflow: flow \"bad_flow\", step \"slow\": timeout must be <= 2147483645 (timeout + 2 must fit a "
              "PostgreSQL integer), got 2147483646");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::flow<"good_flow", int>(
                      pgflow::flow_options{.timeout = largest},
                      pgflow::step<"s">(pgflow::step_options{.timeout = largest}, [](int n) { return n; }));
              }),
              "(no definition_error)");

    const auto handler = [](const boost::json::value& v, const pgflow::task_context&) { return v; };
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::dynamic_flow{"dyn", pgflow::flow_options{.timeout = too_large}};
              }),
              "pgflow: flow \"dyn\": timeout must be <= 2147483645 (timeout + 2 must fit a PostgreSQL integer), "
              "got 2147483646");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::dynamic_flow{"dyn"}.step("slow", handler, pgflow::step_options{.timeout = too_large});
              }),
              "pgflow: flow \"dyn\", step \"slow\": timeout must be <= 2147483645 (timeout + 2 must fit a "
              "PostgreSQL integer), got 2147483646");
    EXPECT_EQ(definition_error_of([&] {
                  return pgflow::dynamic_flow{"dyn", pgflow::flow_options{.timeout = largest}}.step(
                      "slow", handler, pgflow::step_options{.timeout = largest});
              }),
              "(no definition_error)");
}

// A slug from outside (a plan in JSON may hold "\u0000") is printed escaped: a raw NUL would cut
// what() short before the problem, a newline would forge a log line.
TEST(registration, dynamic_flow_errors_print_control_characters_in_slugs_escaped) {
    using namespace std::string_literals;
    const auto handler = [](const boost::json::value& v) { return v; };
    EXPECT_EQ(definition_error_of([&] { return pgflow::dynamic_flow{"ab\0cd"s}; }),
              "pgflow: flow \"ab\\0cd\": " PGFLOW_DETAIL_INVALID_FLOW_SLUG);
    EXPECT_EQ(definition_error_of([&] { return pgflow::dynamic_flow{"f"}.step("st\0ep"s, handler); }),
              "pgflow: flow \"f\", step \"st\\0ep\": " PGFLOW_DETAIL_INVALID_STEP_SLUG);
    EXPECT_EQ(definition_error_of([&] {
                  pgflow::dynamic_flow f{"f"};
                  f.step("a", {"x\ny\0"s}, handler);
                  return f.shape();
              }),
              "pgflow: flow \"f\", step \"a\": a step depends on a step that is not declared in this flow: "
              "\"x\\ny\\0\"");
}

}  // namespace
