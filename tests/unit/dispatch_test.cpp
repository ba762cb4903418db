// The dispatcher: typed handler calls with decoded task inputs (docs/registration.md), map elements, the
// task_context, unknown steps, and decode errors that name flow, step and JSON path.

#include <pgflow/dispatch.hpp>
#include <pgflow/flow.hpp>

#include <boost/hana/adapt_struct.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace shop {
struct Order {
    int id;
    double amount;
    std::vector<std::string> items;
};
struct Validated {
    bool ok;
};
struct Charge {
    std::string charge_id;
    std::vector<std::string> items;
};
}  // namespace shop
BOOST_HANA_ADAPT_STRUCT(shop::Order, id, amount, items);
BOOST_HANA_ADAPT_STRUCT(shop::Validated, ok);
BOOST_HANA_ADAPT_STRUCT(shop::Charge, charge_id, items);

namespace {

using boost::json::parse;
using boost::json::value;
using shop::Charge;
using shop::Order;
using shop::Validated;

constexpr auto order_processing = pgflow::flow<"order_processing", Order>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 5, .timeout = 60},
    pgflow::step<"validate">([](const Order& o) { return Validated{o.amount > 0}; }),
    pgflow::step<"charge", pgflow::after<"validate">>(
        pgflow::step_options{.timeout = 30, .start_delay = 10},
        [](Order o, const Validated& v) {
            if (!v.ok) throw std::runtime_error("order " + std::to_string(o.id) + " is not valid");
            return Charge{"c-" + std::to_string(o.id), std::move(o.items)};
        }),
    pgflow::step<"pick_items", pgflow::after<"charge">>([](const Order&, const Charge& c) { return c.items; }),
    pgflow::map<"ship_items", pgflow::after<"pick_items">>(
        [](const std::string& item, const pgflow::task_context& ctx) {
            return item + "@" + std::string(ctx.run_id) + "#" + std::to_string(ctx.task_index) + "/" +
                   std::to_string(ctx.attempt);
        }),
    pgflow::step<"notify", pgflow::after<"ship_items", "validate">>(
        [](const Order&, const std::vector<std::string>& shipped, Validated v) { return v.ok && !shipped.empty(); }),
    pgflow::step<"audit", pgflow::after<"charge">>([](const Order&, const Charge&) {}));

constexpr auto squares = pgflow::flow<"squares", std::vector<int>>(pgflow::map<"square">([](int x) { return x * x; }));

pgflow::task_context context(std::string_view step, int index = 0, int attempt = 1) {
    return pgflow::task_context{.flow_slug = "order_processing",
                                .run_id = "6f1b8c7e-2d4a-4f3b-9c1d-0e5a6b7c8d9e",
                                .step_slug = step,
                                .task_index = index,
                                .attempt = attempt,
                                .stop_token = {}};
}

std::string error_of(const auto& dispatch, std::string_view step, const value& input) {
    try {
        static_cast<void>(dispatch(step, input, context(step, 2)));
    } catch (const pgflow::json_decode_error& e) {
        return e.path() + " | " + e.what();
    } catch (const pgflow::error& e) {
        return e.what();
    }
    return "(no error)";
}

const value run = parse(R"({"id":7,"amount":12.5,"items":["book","lamp"]})");

TEST(dispatch, root_step_gets_the_flow_input) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(dispatch("validate", value{{"run", run}}, context("validate")), parse(R"({"ok":true})"));
    value negative = run;
    negative.as_object()["amount"] = -1;
    EXPECT_EQ(dispatch("validate", value{{"run", negative}}, context("validate")), parse(R"({"ok":false})"));
}

TEST(dispatch, dependent_step_gets_flow_input_then_dependencies_in_after_order) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(dispatch("charge", value{{"run", run}, {"validate", {{"ok", true}}}}, context("charge")),
              parse(R"({"charge_id":"c-7","items":["book","lamp"]})"));
    EXPECT_EQ(dispatch("notify", value{{"run", run}, {"validate", {{"ok", true}}}, {"ship_items", {"x", "y"}}},
                       context("notify")),
              value(true));
    EXPECT_EQ(
        dispatch("notify", value{{"run", run}, {"validate", {{"ok", true}}}, {"ship_items", boost::json::array{}}},
                 context("notify")),
        value(false));
}

TEST(dispatch, map_task_gets_its_element_and_the_context) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(dispatch("ship_items", value("lamp"), context("ship_items", 1, 2)),
              value("lamp@6f1b8c7e-2d4a-4f3b-9c1d-0e5a6b7c8d9e#1/2"));
    const auto square = pgflow::make_dispatcher(squares);
    EXPECT_EQ(square("square", value(12), context("square", 4)), value(144));
}

TEST(dispatch, void_handlers_output_null) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(dispatch("audit", value{{"run", run}, {"charge", {{"charge_id", "c"}, {"items", boost::json::array{}}}}},
                       context("audit")),
              value(nullptr));
}

TEST(dispatch, handler_exceptions_propagate_unchanged) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    try {
        static_cast<void>(dispatch("charge", value{{"run", run}, {"validate", {{"ok", false}}}}, context("charge")));
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "order 7 is not valid");
    }
}

TEST(dispatch, unknown_step_names_the_flow_and_its_steps) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_THROW(static_cast<void>(dispatch("refund", value{{"run", run}}, context("refund"))),
                 pgflow::unknown_step_error);
    EXPECT_EQ(
        error_of(dispatch, "refund", value{{"run", run}}),
        "pgflow: flow \"order_processing\" has no step \"refund\" (its steps: validate charge pick_items ship_items notify audit)");
    EXPECT_TRUE(dispatch.contains("charge"));
    EXPECT_FALSE(dispatch.contains("Charge"));
    EXPECT_EQ(dispatch.flow_slug(), "order_processing");
}

TEST(dispatch, decode_errors_name_flow_step_and_path_in_the_run_input) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(
        error_of(dispatch, "charge", parse(R"({"run":{"id":7,"amount":"lots","items":[]},"validate":{"ok":true}})")),
        "$.run.amount | pgflow: flow \"order_processing\", step \"charge\": cannot decode the task input at "
        "$.run.amount: expected a number, got a string (\"lots\")");
    EXPECT_EQ(
        error_of(dispatch, "charge", parse(R"({"run":{"id":7,"amount":1,"items":["ok",3]},"validate":{"ok":true}})")),
        "$.run.items[1] | pgflow: flow \"order_processing\", step \"charge\": cannot decode the task input at "
        "$.run.items[1]: expected a string, got a number (3)");
}

TEST(dispatch, decode_errors_name_the_dependency_path) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(error_of(dispatch, "charge", value{{"run", run}, {"validate", {{"ok", "yes"}}}}),
              "$.validate.ok | pgflow: flow \"order_processing\", step \"charge\": cannot decode the task input at "
              "$.validate.ok: expected a boolean, got a string (\"yes\")");
    EXPECT_EQ(error_of(dispatch, "validate", value{{"input", run}}),
              "$.run | pgflow: flow \"order_processing\", step \"validate\": cannot decode the task input at $.run: "
              "missing member \"run\" (the flow input)");
    EXPECT_EQ(error_of(dispatch, "validate", value(3)),
              "$ | pgflow: flow \"order_processing\", step \"validate\": cannot decode the task input at $: expected "
              "an object with the flow input under \"run\", got a number (3)");
}

TEST(dispatch, decode_errors_report_the_first_bad_member_in_parameter_order) {
    // The run input and the dependency are both bad: the run input (parameter 0) is reported, on
    // every compiler (the members are decoded in order, not in unspecified argument order).
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(
        error_of(dispatch, "charge", parse(R"({"run":{"id":7,"amount":"lots","items":[]},"validate":{"ok":"yes"}})")),
        "$.run.amount | pgflow: flow \"order_processing\", step \"charge\": cannot decode the task input at "
        "$.run.amount: expected a number, got a string (\"lots\")");
}

TEST(dispatch, map_decode_errors_name_the_task) {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    EXPECT_EQ(
        error_of(dispatch, "ship_items", value(5)),
        "$ | pgflow: flow \"order_processing\", step \"ship_items\" (map task 2): cannot decode the task input at "
        "$: expected a string, got a number (5)");
}

TEST(dispatch, handler_json_errors_are_not_mistaken_for_input_errors) {
    constexpr auto f = pgflow::flow<"inner", value>(pgflow::step<"parse">([](const value& in) {
        return pgflow::from_json<int>(in.at("n"));  // the handler's own decode: its message stays as is
    }));
    const auto dispatch = pgflow::make_dispatcher(f);
    EXPECT_EQ(dispatch("parse", value{{"run", {{"n", 4}}}}, context("parse")), value(4));
    try {
        static_cast<void>(dispatch("parse", value{{"run", {{"n", "four"}}}}, context("parse")));
        FAIL() << "no exception";
    } catch (const pgflow::json_decode_error& e) {
        EXPECT_STREQ(e.what(), "at $: expected an integer, got a string (\"four\")");
    }
}

TEST(dispatch, handlers_may_be_function_pointers_and_generic_lambdas) {
    struct functions {
        static int twice(int n) { return 2 * n; }
    };
    constexpr auto f = pgflow::flow<"callables", int>(
        pgflow::step<"twice">(&functions::twice),
        pgflow::step<"sum", pgflow::after<"twice">>([](auto n, const auto& t) { return n + t; }));
    const auto dispatch = pgflow::make_dispatcher(f);
    EXPECT_EQ(dispatch("twice", value{{"run", 5}}, context("twice")), value(10));
    EXPECT_EQ(dispatch("sum", value{{"run", 5}, {"twice", 10}}, context("sum")), value(15));
}

TEST(dispatch, string_literals_and_views_are_stored_as_strings) {
    constexpr auto f =
        pgflow::flow<"texts", int>(pgflow::step<"literal">([](int n) { return n > 0 ? "positive" : "not positive"; }),
                                   pgflow::step<"view", pgflow::after<"literal">>(
                                       [](int, const std::string& s) { return std::string_view(s).substr(0, 3); }));
    static_assert(std::is_same_v<pgflow::step_output_t<decltype(f), "literal">, std::string>);
    static_assert(std::is_same_v<pgflow::step_output_t<decltype(f), "view">, std::string>);
    const auto dispatch = pgflow::make_dispatcher(f);
    EXPECT_EQ(dispatch("literal", value{{"run", 2}}, context("literal")), value("positive"));
    EXPECT_EQ(dispatch("view", value{{"run", 2}, {"literal", "positive"}}, context("view")), value("pos"));
}

TEST(dispatch, variadic_generic_handlers_get_no_context) {
    constexpr auto f = pgflow::flow<"sums", int>(
        pgflow::step<"a">([](int n) { return n; }), pgflow::step<"b">([](int n) { return 2 * n; }),
        pgflow::step<"total", pgflow::after<"a", "b">>([](auto... xs) { return (0 + ... + xs); }));
    const auto dispatch = pgflow::make_dispatcher(f);
    EXPECT_EQ(dispatch("total", value{{"run", 1}, {"a", 2}, {"b", 3}}, context("total")), value(6));
}

TEST(dispatch, handlers_may_capture_in_flows_built_at_run_time) {
    const std::string greeting = "hello ";
    const auto f = pgflow::flow<"greeter", std::string>(
        pgflow::step<"greet">([greeting](const std::string& name) { return greeting + name; }));
    const auto dispatch = pgflow::make_dispatcher(f);
    EXPECT_EQ(dispatch("greet", value{{"run", "ada"}}, context("greet")), value("hello ada"));
}

// pgflow 0.14 leaves a skipped dependency out of the task input (no key, not null).
constexpr auto fraud_review = pgflow::flow<"fraud_review", int>(
    pgflow::step<"fraud_check">([](int amount) { return Validated{amount < 100}; }),
    pgflow::step<"charge", pgflow::after<"fraud_check">>([](int amount, const Validated&) { return amount; }),
    pgflow::step<"notify_rejection", pgflow::after<"fraud_check">>([](int, Validated) { return std::string("no"); }),
    pgflow::step<"summary", pgflow::after<"charge", "notify_rejection">>(
        [](int, std::optional<int> charged, const std::optional<std::string>& rejection) {
            return (charged ? "charged " + std::to_string(*charged) : std::string("not charged")) + ", " +
                   rejection.value_or("no rejection");
        }),
    pgflow::step<"audit", pgflow::after<"charge">>(
        [](int, const std::optional<int>& charged, const pgflow::task_context& ctx) {
            return std::string(ctx.step_slug) + (charged ? ": charged" : ": skipped");
        }));

TEST(dispatch, a_skipped_dependency_is_nullopt_for_an_optional_parameter) {
    const auto dispatch = pgflow::make_dispatcher(fraud_review);
    EXPECT_EQ(dispatch("summary", value{{"run", 20}, {"charge", 20}}, context("summary")),
              value("charged 20, no rejection"));
    EXPECT_EQ(dispatch("summary", value{{"run", 200}, {"notify_rejection", "no"}}, context("summary")),
              value("not charged, no"));
    EXPECT_EQ(dispatch("summary", value{{"run", 200}}, context("summary")), value("not charged, no rejection"));
    EXPECT_EQ(dispatch("audit", value{{"run", 200}}, context("audit")), value("audit: skipped"));
    EXPECT_EQ(dispatch("audit", value{{"run", 20}, {"charge", 20}}, context("audit")), value("audit: charged"));
}

TEST(dispatch, a_skipped_dependency_of_a_plain_parameter_fails_the_task_for_good) {
    const auto dispatch = pgflow::make_dispatcher(fraud_review);
    EXPECT_THROW(static_cast<void>(dispatch("charge", value{{"run", 20}}, context("charge"))), pgflow::permanent_error);
    EXPECT_EQ(error_of(dispatch, "charge", value{{"run", 20}}),
              "pgflow: flow \"fraud_review\", step \"charge\": its dependency \"fraud_check\" was skipped (pgflow "
              "0.14 conditions leave a skipped step's output out of the task input), but the handler takes it as a "
              "plain value; take it as std::optional to run without it");
    // The same for a dependency taken by reference.
    const auto orders = pgflow::make_dispatcher(order_processing);
    EXPECT_THROW(static_cast<void>(orders("notify", value{{"run", run}, {"ship_items", {"x"}}}, context("notify"))),
                 pgflow::permanent_error);
}

TEST(dispatch, a_present_dependency_still_decodes_with_its_path_for_an_optional_parameter) {
    const auto dispatch = pgflow::make_dispatcher(fraud_review);
    EXPECT_EQ(error_of(dispatch, "summary", value{{"run", 20}, {"charge", "twenty"}}),
              "$.charge | pgflow: flow \"fraud_review\", step \"summary\": cannot decode the task input at "
              "$.charge: expected an integer, got a string (\"twenty\")");
    // A null output of a completed dependency is nullopt too (JSON null decodes so).
    EXPECT_EQ(
        dispatch("summary", value{{"run", 1}, {"charge", nullptr}, {"notify_rejection", nullptr}}, context("summary")),
        value("not charged, no rejection"));
}

TEST(dispatch, generic_handlers_cannot_take_a_skipped_dependency) {
    constexpr auto f = pgflow::flow<"generic", int>(
        pgflow::step<"a">([](int n) { return n; }),
        pgflow::step<"b", pgflow::after<"a">>([](auto n, const auto& a) { return n + a; }));
    const auto dispatch = pgflow::make_dispatcher(f);
    EXPECT_THROW(static_cast<void>(dispatch("b", value{{"run", 1}}, context("b"))), pgflow::permanent_error);
}

TEST(dispatch, handler_parameters_are_read_from_lambdas_function_objects_and_pointers) {
    using pgflow::detail::decoded_dependencies_t;
    using pgflow::detail::type_list;
    // A dependency is decoded as std::optional where the handler's parameter is one.
    auto lambda = [](int, std::optional<int>, const std::optional<std::string>&, int) { return 0; };
    static_assert(std::is_same_v<decoded_dependencies_t<decltype(lambda), type_list<int, int, std::string, int>>,
                                 type_list<std::optional<int>, std::optional<std::string>, int>>);
    struct functions {
        static int pick(int, std::optional<double>) noexcept { return 0; }
    };
    static_assert(std::is_same_v<decoded_dependencies_t<decltype(&functions::pick), type_list<int, double>>,
                                 type_list<std::optional<double>>>);
    // A trailing task_context is not a dependency's parameter.
    auto with_context = [](int, std::optional<int>, const pgflow::task_context&) { return 0; };
    static_assert(std::is_same_v<decoded_dependencies_t<decltype(with_context), type_list<int, int>>,
                                 type_list<std::optional<int>>>);
    // A generic handler declares no parameter list: dependencies are decoded as they are.
    auto generic = [](auto, auto) { return 0; };
    static_assert(std::is_same_v<decoded_dependencies_t<decltype(generic), type_list<int, int>>, type_list<int>>);
    const std::function<int(int, std::optional<int>)> wrapped;
    static_assert(std::is_same_v<decoded_dependencies_t<std::remove_const_t<decltype(wrapped)>, type_list<int, int>>,
                                 type_list<std::optional<int>>>);
    // A map handler takes its element only.
    auto element = [](const std::string&) { return 0; };
    static_assert(std::is_same_v<decoded_dependencies_t<decltype(element), type_list<std::string>>, type_list<>>);
}

}  // namespace
