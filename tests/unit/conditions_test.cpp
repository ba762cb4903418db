// Conditions in the compile-time DSL (conditions.hpp): the constexpr JSON reader and compact writer
// of patterns, pattern checks against C++ types, std::optional for skippable dependencies and leaves.
// Most checks are static_asserts (they must hold at compile time); the tests run the same functions
// at run time so that a failure there is reported with values.

#include <pgflow/compile/json_literal.hpp>
#include <pgflow/compile/pattern_types.hpp>
#include <pgflow/dispatch.hpp>
#include <pgflow/dsl.hpp>
#include <pgflow/json.hpp>

#include <boost/hana/adapt_struct.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

struct Fraud {
    bool approved;
    int score;
    std::vector<std::string> tags;
    std::optional<double> limit;
    std::map<std::string, int> counts;
};
struct Order {
    int id;
    Fraud fraud;
};

}  // namespace
BOOST_HANA_ADAPT_STRUCT(Fraud, approved, score, tags, limit, counts);
BOOST_HANA_ADAPT_STRUCT(Order, id, fraud);

namespace {

using pgflow::detail::check_pattern;
using pgflow::detail::pattern_problem;
using pgflow::detail::read_pattern;

// --- the reader -------------------------------------------------------------------------------

constexpr std::string_view problem_of(std::string_view text) { return read_pattern(text).problem; }
constexpr std::size_t problem_at(std::string_view text) { return read_pattern(text).problem_at; }

static_assert(problem_of(R"({"a": [1, -2.5e+3, true, false, null, "x\"\u00e9\/"], "b": {}})").empty());
static_assert(problem_of(" { } ").empty());
static_assert(problem_of(R"({"a" 1})") == "expected ':'");
static_assert(problem_at(R"({"a" 1})") == 5);
static_assert(problem_of(R"([1])") == "expected an object {...}");
static_assert(problem_of(R"("text")") == "expected an object {...}");
static_assert(problem_of("") == "expected an object {...}");
static_assert(problem_of(R"({"a": 1} x)") == "text after the object");
static_assert(problem_of(R"({"a": 1,})") == "expected a quoted member name");
static_assert(problem_of(R"({"a": [1 2]})") == "expected ',' or ']'");
static_assert(problem_of(R"({"a": 01})") == "a number starts with 0");
static_assert(problem_of(R"({"a": 1.})") == "expected a digit");
static_assert(problem_of(R"({"a": tru})") == "expected true, false or null");
static_assert(problem_of(R"({"a": "\x"})") == "invalid escape");
static_assert(problem_of(R"({"a": "\u12"})") == "expected 4 hex digits");
static_assert(problem_of(R"({"a": "b)") == "unterminated string");
static_assert(problem_of("{\"a\": \"\t\"}") == "unescaped control character");
static_assert(problem_of(R"({"a": })") == "expected a JSON value");
static_assert(problem_of(R"({'a': 1})") == "expected a quoted member name");

template <std::size_t N>
constexpr pgflow::detail::compact_json_text<N> compact(const char (&text)[N]) {
    pgflow::detail::compact_json_text<N> out;
    pgflow::detail::write_compact_json(out, std::string_view(text, N - 1));
    return out;
}
constexpr auto compacted = compact(R"( { "a" : [ 1 , 2.50 ] ,
    "b" : { "c d" : "x y" } } )");
static_assert(compacted.view() == R"({"a":[1,2.50],"b":{"c d":"x y"}})");
// JSON.stringify's escaping: only '"', '\\' and control characters; other \u escapes decoded.
static_assert(compact(R"({"s": "\/\u0041\u00e9\ud83d\ude00\n\u0001\"\\"})").view() ==
              "{\"s\":\"/A\xc3\xa9\xf0\x9f\x98\x80\\n\\u0001\\\"\\\\\"}");
static_assert(compact(R"({"s": "\ud800"})").view() == R"({"s":"\ud800"})");
static_assert(pgflow::detail::json_string_equals(R"(appr\u006Fved)", "approved"));
static_assert(!pgflow::detail::json_string_equals("approve", "approved"));

TEST(conditions, the_reader_names_what_failed_and_where) {
    const pgflow::detail::json_reader r = read_pattern(R"({"fraud_check": {"approved" true}})");
    EXPECT_EQ(r.problem, "expected ':'");
    EXPECT_EQ(r.problem_at, 28U);
    EXPECT_TRUE(problem_of(R"({"a": [1, {"b": null}]})").empty());
}

TEST(conditions, the_compact_text_parses_to_the_same_json) {
    constexpr std::string_view text = R"( {"a" : [1, {"b": "\u00e9\t"}], "c": null} )";
    pgflow::detail::compact_json_text<text.size()> out;
    pgflow::detail::write_compact_json(out, text);
    EXPECT_EQ(boost::json::parse(out.view()), boost::json::parse(text));
    EXPECT_EQ(out.view(), "{\"a\":[1,{\"b\":\"\xc3\xa9\\t\"}],\"c\":null}");
}

// --- patterns against types -------------------------------------------------------------------

static_assert(check_pattern<Fraud>(R"({"approved": true, "score": 1, "tags": ["a"], "limit": null})").problem ==
              pattern_problem::none);
static_assert(check_pattern<Fraud>(R"({"limit": 2.5, "counts": {"any key": 3}})").problem == pattern_problem::none);
static_assert(check_pattern<Order>(R"({"fraud": {"approved": false}})").problem == pattern_problem::none);
static_assert(check_pattern<Order>(R"({"fraud": {"aproved": false}})").problem == pattern_problem::unknown_member);
static_assert(check_pattern<Fraud>(R"({"approved": "yes"})").problem == pattern_problem::wrong_kind);
static_assert(check_pattern<Fraud>(R"({"tags": "a"})").problem == pattern_problem::wrong_kind);
static_assert(check_pattern<Fraud>(R"({"tags": ["a", 1]})").problem == pattern_problem::wrong_kind);
static_assert(check_pattern<Fraud>(R"({"counts": {"k": "v"}})").problem == pattern_problem::wrong_kind);
static_assert(check_pattern<Fraud>(R"({"score": null})").problem == pattern_problem::wrong_kind);
static_assert(check_pattern<int>(R"({"a": 1})").problem == pattern_problem::wrong_kind);
static_assert(check_pattern<boost::json::value>(R"({"a": [1, {"b": 2}]})").problem == pattern_problem::none);
static_assert(check_pattern<boost::json::object>(R"({"a": 1})").problem == pattern_problem::none);
static_assert(check_pattern<std::optional<Fraud>>(R"({"score": 2})").problem == pattern_problem::none);

constexpr pgflow::detail::pattern_check wrong_element = check_pattern<Order>(R"({"fraud": {"tags": ["a", 2]}})");
static_assert(pgflow::detail::pattern_path_text<wrong_element> == pgflow::fixed_string("fraud.tags[1]"));
static_assert(pgflow::detail::pattern_expected_text<wrong_element> == pgflow::fixed_string("string"));
static_assert(pgflow::detail::pattern_found_text<wrong_element> == pgflow::fixed_string("number"));

TEST(conditions, pattern_checks_say_where_and_what) {
    const pgflow::detail::pattern_check c = check_pattern<Order>(R"({"fraud": {"score": 1, "aproved": true}})");
    EXPECT_EQ(c.problem, pattern_problem::unknown_member);
    ASSERT_EQ(c.depth, 2U);
    EXPECT_EQ(c.path[0].member, "fraud");
    EXPECT_EQ(c.path[1].member, "aproved");
    EXPECT_EQ(c.type, pgflow::detail::type_name<Fraud>());
    const pgflow::detail::pattern_check k = check_pattern<Fraud>(R"({"score": "1"})");
    EXPECT_EQ(k.problem, pattern_problem::wrong_kind);
    EXPECT_EQ(k.expected, "number");
    EXPECT_EQ(k.found, "string");
}

// --- flows ------------------------------------------------------------------------------------

constexpr auto orders = pgflow::flow<"orders", Order>(
    pgflow::step<"fraud_check">([](const Order& o) { return o.fraud; }),
    pgflow::step<"charge", pgflow::after<"fraud_check">, pgflow::only_if<R"({"fraud_check": {"approved": true}})">,
                 pgflow::when_exhausted<pgflow::skip>>(pgflow::step_options{.max_attempts = 5},
                                                       [](const Order&, const Fraud& f) { return f.score; }),
    pgflow::step<"notify", pgflow::after<"fraud_check">, pgflow::only_if_not<R"({"fraud_check": {"approved": true}})">,
                 pgflow::when_unmet<pgflow::skip_cascade>>([](const Order& o, const Fraud&) { return o.id; }),
    pgflow::step<"audit", pgflow::after<"notify">>([](const Order&, int id) { return std::to_string(id); }),
    pgflow::step<"receipt", pgflow::after<"charge">>(
        [](const Order&, std::optional<int> charged) { return charged.has_value(); }),
    // A root step's pattern is over the flow input; no after<> needed.
    pgflow::step<"vip", pgflow::only_if<R"({"id": 1})">, pgflow::when_unmet<pgflow::fail>>(
        [](const Order& o) { return o.id; }));

using orders_output = decltype(orders)::output_type;
template <pgflow::fixed_string Slug>
using leaf_t = std::remove_cvref_t<decltype(pgflow::get<Slug>(std::declval<orders_output&>()))>;
static_assert(std::is_same_v<leaf_t<"receipt">, bool>);                      // charge skipped alone: receipt runs
static_assert(std::is_same_v<leaf_t<"audit">, std::optional<std::string>>);  // below notify's skip-cascade
static_assert(std::is_same_v<leaf_t<"vip">, int>);                           // when_unmet fail: never absent
static_assert(std::is_same_v<pgflow::step_output_t<decltype(orders), "charge">, int>);

TEST(conditions, registration_writes_the_conditions_in_add_step_order) {
    constexpr std::string_view sql = pgflow::registration_sql(orders);
    EXPECT_NE(sql.find("SELECT pgflow.add_step('orders', 'charge', ARRAY['fraud_check'], max_attempts => 5, "
                       "required_input_pattern => '{\"fraud_check\":{\"approved\":true}}'::jsonb, "
                       "when_exhausted => 'skip');"),
              std::string_view::npos)
        << sql;
    EXPECT_NE(sql.find("SELECT pgflow.add_step('orders', 'notify', ARRAY['fraud_check'], "
                       "forbidden_input_pattern => '{\"fraud_check\":{\"approved\":true}}'::jsonb, "
                       "when_unmet => 'skip-cascade');"),
              std::string_view::npos)
        << sql;
    EXPECT_NE(sql.find("SELECT pgflow.add_step('orders', 'vip', required_input_pattern => '{\"id\":1}'::jsonb, "
                       "when_unmet => 'fail');"),
              std::string_view::npos)
        << sql;
}

TEST(conditions, the_shape_carries_patterns_and_modes) {
    const pgflow::flow_shape shape = pgflow::shape_of(orders);
    const auto step = [&](std::string_view slug) {
        for (const pgflow::step_shape& s : shape.steps)
            if (s.slug == slug) return s;
        return pgflow::step_shape{};
    };
    EXPECT_EQ(step("charge").required_input_pattern, R"({"fraud_check":{"approved":true}})");
    EXPECT_EQ(step("charge").forbidden_input_pattern, "");
    EXPECT_EQ(step("charge").when_unmet, std::nullopt);
    EXPECT_EQ(step("charge").when_exhausted, pgflow::condition_mode::skip);
    EXPECT_EQ(step("notify").forbidden_input_pattern, R"({"fraud_check":{"approved":true}})");
    EXPECT_EQ(step("notify").when_unmet, pgflow::condition_mode::skip_cascade);
    EXPECT_EQ(step("receipt").input_type.find("std::optional<int>") != std::string::npos, true)
        << step("receipt").input_type;
    EXPECT_EQ(pgflow::registration_sql(shape), pgflow::registration_sql(orders));
}

// The handler takes std::optional<int> for "charge"; decoding a missing key to nullopt is dispatch's.
TEST(conditions, a_skippable_dependency_reaches_the_handler_as_an_optional) {
    const auto dispatch = pgflow::make_dispatcher(orders);
    pgflow::task_context ctx{};
    const boost::json::value with = dispatch("receipt", boost::json::parse(R"({"run": {"id": 1, "fraud":
        {"approved": true, "score": 3, "tags": [], "limit": null, "counts": {}}}, "charge": 3})"),
                                             ctx);
    EXPECT_EQ(with, boost::json::value(true));
}

TEST(conditions, skipped_leaves_read_as_nullopt) {
    const auto out = pgflow::from_json<orders_output>(boost::json::parse(R"({"receipt": true, "vip": 1})"));
    EXPECT_EQ(pgflow::get<"audit">(out), std::nullopt);
    EXPECT_TRUE(pgflow::get<"receipt">(out));
    const auto full = pgflow::from_json<orders_output>(boost::json::parse(R"({"receipt": false, "vip": 1,
        "audit": "7"})"));
    EXPECT_EQ(pgflow::get<"audit">(full), std::optional<std::string>("7"));
    EXPECT_EQ(pgflow::to_json(full), boost::json::parse(R"({"receipt": false, "vip": 1, "audit": "7"})"));
    EXPECT_EQ(pgflow::to_json(out), boost::json::parse(R"({"receipt": true, "vip": 1})"));
    EXPECT_THROW(static_cast<void>(pgflow::from_json<orders_output>(boost::json::parse(R"({"vip": 1})"))),
                 pgflow::json_decode_error);
}

constexpr auto all_skippable = pgflow::flow<"maybe">(
    pgflow::step<"only", pgflow::only_if<R"({"on": true})">>([](const boost::json::value&) { return 1; }));
TEST(conditions, a_run_whose_leaves_were_all_skipped_has_null_output) {
    using out_t = decltype(all_skippable)::output_type;
    const auto out = pgflow::from_json<out_t>(boost::json::value(nullptr));
    EXPECT_EQ(pgflow::get<"only">(out), std::nullopt);
    EXPECT_EQ(pgflow::to_json(out), boost::json::value(nullptr));
}

}  // namespace
