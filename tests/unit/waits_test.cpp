// Steps without handlers (issue 15), the DSL side: signal<>, sleep<>, subflow<>/subflow_map<>.
// Their registration text (byte for byte: pgflow.add_step as for any step, then
// pgflow_cpp.set_step_kind), value shapes generated from C++ types, output types, the dispatch of
// a sleep (pgflow::sleep_request, the worker's hook), the typed signal's compile-time lookup,
// registration order of child flows, and dynamic flows declaring all three.

#include <pgflow/dispatch.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/wait_steps.hpp>

#include "registration_capacity.hpp"

#include <boost/hana/adapt_struct.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace waits {
struct Approval {
    bool approved;
    std::string by;
    std::optional<std::string> note;
};
struct Order {
    int id;
    std::vector<int> items;
};
struct Shipped {
    long long shipped_at;  // seconds since the epoch
};
struct Nested {
    std::vector<Approval> approvals;
    std::map<std::string, double> scores;
    std::optional<std::vector<bool>> flags;
    boost::json::value anything;
};
}  // namespace waits
BOOST_HANA_ADAPT_STRUCT(waits::Approval, approved, by, note);
BOOST_HANA_ADAPT_STRUCT(waits::Order, id, items);
BOOST_HANA_ADAPT_STRUCT(waits::Shipped, shipped_at);
BOOST_HANA_ADAPT_STRUCT(waits::Nested, approvals, scores, flags, anything);

namespace waits {

using namespace std::chrono_literals;

constexpr auto charge_item =
    pgflow::flow<"charge_item", int>(pgflow::step<"charge">([](int item) { return item * 2; }));
constexpr auto charge_order =
    pgflow::flow<"charge_order", Order>(pgflow::step<"total">([](const Order& o) { return o.id; }));

constexpr auto order_flow = pgflow::flow<"order_flow", Order>(
    pgflow::step<"draft">([](const Order& o) { return o.items; }),
    pgflow::signal<"approval", pgflow::after<"draft">, Approval>(
        pgflow::signal_options{.timeout = 3600, .max_attempts = 2}),
    pgflow::step<"ship", pgflow::after<"approval">>(
        [](const Order&, const Approval& a) { return Shipped{a.approved ? 1000 : 0}; }),
    pgflow::sleep<"cool_off", pgflow::after<"ship">>([](const Order&, const Shipped& s) {
        return std::chrono::system_clock::time_point(std::chrono::seconds(s.shipped_at)) + 24h;
    }),
    pgflow::subflow<"charge">(charge_order), pgflow::subflow_map<"charge_items", pgflow::after<"draft">>(charge_item),
    pgflow::step<"done", pgflow::after<"cool_off", "charge", "charge_items">>(
        [](const Order&, const std::string& woke, const pgflow::flow_output<pgflow::output_field<"total", int>>& c,
           const std::vector<pgflow::flow_output<pgflow::output_field<"charge", int>>>& items) {
            return woke.size() + static_cast<std::size_t>(pgflow::get<"total">(c)) + items.size();
        }));

constexpr std::string_view order_flow_sql =
    "SELECT pgflow.create_flow('order_flow');\n"
    "SELECT pgflow.add_step('order_flow', 'draft');\n"
    "SELECT pgflow.add_step('order_flow', 'approval', ARRAY['draft'], max_attempts => 2);\n"
    "SELECT pgflow_cpp.set_step_kind('order_flow', 'approval', 'signal', 3600, "
    "'{\"type\":\"object\",\"properties\":{\"approved\":{\"type\":\"boolean\"},\"by\":{\"type\":\"string\"},"
    "\"note\":{\"type\":\"string\",\"nullable\":true}},\"required\":[\"approved\",\"by\"]}'::jsonb, NULL);\n"
    "SELECT pgflow.add_step('order_flow', 'ship', ARRAY['approval']);\n"
    "SELECT pgflow.add_step('order_flow', 'cool_off', ARRAY['ship']);\n"
    "SELECT pgflow_cpp.set_step_kind('order_flow', 'cool_off', 'sleep', NULL, NULL, NULL);\n"
    "SELECT pgflow.add_step('order_flow', 'charge');\n"
    "SELECT pgflow_cpp.set_step_kind('order_flow', 'charge', 'subflow', NULL, NULL, 'charge_order');\n"
    "SELECT pgflow.add_step('order_flow', 'charge_items', ARRAY['draft'], step_type => 'map');\n"
    "SELECT pgflow_cpp.set_step_kind('order_flow', 'charge_items', 'subflow', NULL, NULL, 'charge_item');\n"
    "SELECT pgflow.add_step('order_flow', 'done', ARRAY['cool_off', 'charge', 'charge_items']);";

// The registration text is a constant expression, as for every compiled flow.
static_assert(pgflow::registration_sql(order_flow) == order_flow_sql);
static_assert(test_support::capacity_matches_the_writer(order_flow));

// Output types: a signal's is its value type, a sleep's the ISO time it woke, a subflow's the child
// flow's output, a subflow_map's a vector of them.
static_assert(std::is_same_v<pgflow::step_output_t<decltype(order_flow), "approval">, Approval>);
static_assert(std::is_same_v<pgflow::step_output_t<decltype(order_flow), "cool_off">, std::string>);
static_assert(
    std::is_same_v<pgflow::step_output_t<decltype(order_flow), "charge">, decltype(charge_order)::output_type>);
static_assert(std::is_same_v<pgflow::step_output_t<decltype(order_flow), "charge_items">,
                             std::vector<decltype(charge_item)::output_type>>);
static_assert(std::is_same_v<pgflow::signal_value_t<decltype(order_flow), "approval">, Approval>);

TEST(Waits, RegistrationTextOfEveryKind) { EXPECT_EQ(pgflow::registration_sql(order_flow), order_flow_sql); }

TEST(Waits, RegistrationTextFromTheShapeIsTheSame) {
    const pgflow::flow_shape shape = pgflow::shape_of(order_flow);
    EXPECT_EQ(pgflow::registration_sql(shape), order_flow_sql);
    const auto find = [&](std::string_view slug) {
        for (const auto& s : shape.steps)
            if (s.slug == slug) return s;
        return pgflow::step_shape{};
    };
    EXPECT_EQ(find("approval").kind, pgflow::step_kind::signal);
    EXPECT_EQ(find("approval").signal_timeout, 3600);
    EXPECT_EQ(find("approval").output_type, pgflow::detail::type_name<Approval>());
    EXPECT_EQ(find("cool_off").kind, pgflow::step_kind::sleep);
    EXPECT_EQ(find("cool_off").output_type, pgflow::detail::type_name<std::string>());
    EXPECT_EQ(find("charge").child_flow, "charge_order");
    EXPECT_EQ(find("charge_items").child_flow, "charge_item");
    EXPECT_EQ(find("draft").kind, pgflow::step_kind::handler);
}

TEST(Waits, SetStepKindArgumentsAreParameters) {
    pgflow::detail::parameterized_statements out;
    const pgflow::flow_shape shape = pgflow::shape_of(order_flow);
    pgflow::detail::write_registration(out, pgflow::detail::shape_source{shape});
    const auto& kind = out.statements.at(3);
    EXPECT_EQ(kind.sql, "SELECT pgflow_cpp.set_step_kind($1, $2, $3, $4::int, $5::jsonb, NULL);");
    EXPECT_EQ(kind.values, (std::vector<std::string>{"order_flow", "approval", "signal", "3600",
                                                     std::string(pgflow::detail::value_shape_text<Approval>::view)}));
    EXPECT_EQ(out.statements.at(8).sql, "SELECT pgflow_cpp.set_step_kind($1, $2, $3, NULL, NULL, $4);");
}

TEST(Waits, FlowWithoutWaitsKeepsTheOldText) {
    constexpr auto plain = pgflow::flow<"plain", int>(pgflow::step<"a">([](int x) { return x; }));
    EXPECT_EQ(pgflow::registration_sql(plain),
              "SELECT pgflow.create_flow('plain');\n"
              "SELECT pgflow.add_step('plain', 'a');");
}

TEST(Waits, SignalWithoutTimeoutOrTypeWritesNulls) {
    constexpr auto f = pgflow::flow<"hook", int>(pgflow::signal<"webhook">());
    EXPECT_EQ(pgflow::registration_sql(f),
              "SELECT pgflow.create_flow('hook');\n"
              "SELECT pgflow.add_step('hook', 'webhook');\n"
              "SELECT pgflow_cpp.set_step_kind('hook', 'webhook', 'signal', NULL, "
              "NULL, NULL);");
    static_assert(std::is_same_v<pgflow::signal_value_t<decltype(f), "webhook">, boost::json::value>);
}

TEST(Waits, SignalMapWaitsPerElement) {
    constexpr auto f = pgflow::flow<"reviews", std::vector<int>>(
        pgflow::signal_map<"approvals", pgflow::after<>, bool>(pgflow::signal_options{.timeout = 60}),
        pgflow::step<"count", pgflow::after<"approvals">>(
            [](const std::vector<int>&, const std::vector<bool>& a) { return a.size(); }));
    static_assert(std::is_same_v<pgflow::step_output_t<decltype(f), "approvals">, std::vector<bool>>);
    static_assert(std::is_same_v<pgflow::signal_value_t<decltype(f), "approvals">, bool>);
    EXPECT_EQ(pgflow::registration_sql(f),
              "SELECT pgflow.create_flow('reviews');\n"
              "SELECT pgflow.add_step('reviews', 'approvals', step_type => 'map');\n"
              "SELECT pgflow_cpp.set_step_kind('reviews', 'approvals', 'signal', 60, '{\"type\":\"boolean\"}'::jsonb, "
              "NULL);\n"
              "SELECT pgflow.add_step('reviews', 'count', ARRAY['approvals']);");
    pgflow::dynamic_flow d{"dyn_reviews"};
    d.signal_map("approvals", {}, boost::json::parse(R"({"type":"boolean"})"), pgflow::signal_options{.timeout = 60})
        .step("count", {"approvals"},
              [](const boost::json::value& in) { return in.at("approvals").as_array().size(); });
    EXPECT_EQ(pgflow::registration_sql(d.shape()).substr(0, 146),
              "SELECT pgflow.create_flow('dyn_reviews');\n"
              "SELECT pgflow.add_step('dyn_reviews', 'approvals', step_type => 'map');\n"
              "SELECT pgflow_cpp.set_step_kind(");
}

// --- value shapes -------------------------------------------------------------------------------

template <class T>
std::string shape() {
    return std::string(pgflow::detail::value_shape_text<T>::view);
}

TEST(ValueShape, Scalars) {
    EXPECT_EQ(shape<bool>(), R"({"type":"boolean"})");
    EXPECT_EQ(shape<int>(), R"({"type":"integer"})");
    EXPECT_EQ(shape<unsigned long long>(), R"({"type":"integer"})");
    EXPECT_EQ(shape<double>(), R"({"type":"number"})");
    EXPECT_EQ(shape<std::string>(), R"({"type":"string"})");
    EXPECT_EQ(shape<std::nullptr_t>(), R"({"type":"null"})");
    EXPECT_EQ(shape<std::optional<int>>(), R"({"type":"integer","nullable":true})");
}

TEST(ValueShape, AnyJsonIsNull) {
    EXPECT_EQ(shape<boost::json::value>(), "");
    EXPECT_EQ(shape<boost::json::object>(), R"({"type":"object"})");
    EXPECT_EQ(shape<boost::json::array>(), R"({"type":"array"})");
}

TEST(ValueShape, ContainersAndStructs) {
    EXPECT_EQ(shape<std::vector<std::string>>(), R"({"type":"array","items":{"type":"string"}})");
    EXPECT_EQ((shape<std::array<double, 2>>()), R"({"type":"array","items":{"type":"number"}})");
    EXPECT_EQ(shape<Nested>(),
              R"({"type":"object","properties":{"approvals":{"type":"array","items":{"type":"object","properties":)"
              R"({"approved":{"type":"boolean"},"by":{"type":"string"},"note":{"type":"string","nullable":true}},)"
              R"("required":["approved","by"]}},"scores":{"type":"object"},"flags":{"type":"array","items":)"
              R"({"type":"boolean"},"nullable":true},"anything":{}},"required":["approvals","scores","anything"]})");
    // Valid JSON, whatever the type.
    EXPECT_NO_THROW(boost::json::parse(shape<Nested>()));
}

// --- dispatch -----------------------------------------------------------------------------------

pgflow::task_context context(std::string_view step) { return {"order_flow", "run", step, 0, 1, {}}; }

TEST(Waits, SleepDispatchThrowsTheWakeTime) {
    const auto dispatch = pgflow::make_dispatcher(order_flow);
    const auto input = boost::json::parse(R"({"run": {"id": 1, "items": []}, "ship": {"shipped_at": 1000}})");
    try {
        dispatch("cool_off", input, context("cool_off"));
        FAIL() << "a sleep step's dispatch throws pgflow::sleep_request";
    } catch (const pgflow::sleep_request& request) {
        EXPECT_EQ(request.until, std::chrono::system_clock::time_point(std::chrono::seconds(1000 + 86400)));
        EXPECT_EQ(request.until_text(), "1970-01-02T00:16:40.000000Z");
    }
}

TEST(Waits, SleepForADurationCountsFromNow) {
    constexpr auto f =
        pgflow::flow<"nap", int>(pgflow::sleep<"nap">([](int seconds) { return std::chrono::seconds(seconds); }));
    const auto before = std::chrono::system_clock::now();
    try {
        pgflow::make_dispatcher(f)("nap", boost::json::parse(R"({"run": 5})"), context("nap"));
        FAIL();
    } catch (const pgflow::sleep_request& request) {
        EXPECT_GE(request.until, before + std::chrono::seconds(5));
        EXPECT_LE(request.until, std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
}

TEST(Waits, UntilText) {
    const auto t = std::chrono::sys_days(std::chrono::year(2026) / 12 / 3) + 18h + 4min + 5s + 123456us;
    EXPECT_EQ(pgflow::sleep_request{t}.until_text(), "2026-12-03T18:04:05.123456Z");
    EXPECT_EQ(pgflow::sleep_request{t + 999ns}.until_text(), "2026-12-03T18:04:05.123456Z");
    const auto leap = std::chrono::sys_days(std::chrono::year(2024) / 2 / 29) + 23h + 59min + 59s + 999999us;
    EXPECT_EQ(pgflow::sleep_request{leap}.until_text(), "2024-02-29T23:59:59.999999Z");
    EXPECT_EQ(pgflow::sleep_request{std::chrono::system_clock::time_point(-1s)}.until_text(),
              "1969-12-31T23:59:59.000000Z");
    EXPECT_EQ(pgflow::sleep_request{std::chrono::sys_days(std::chrono::year(2000) / 3 / 1)}.until_text(),
              "2000-03-01T00:00:00.000000Z");
}

TEST(Waits, SignalAndSubflowStepsRefuseAWorker) {
    const auto dispatch = pgflow::make_dispatcher(order_flow);
    EXPECT_THROW(dispatch("approval", boost::json::object{}, context("approval")), pgflow::permanent_error);
    try {
        dispatch("charge", boost::json::object{}, context("charge"));
        FAIL();
    } catch (const pgflow::permanent_error& e) {
        EXPECT_STREQ(e.what(),
                     "pgflow: flow \"order_flow\", step \"charge\" is a subflow step: its child run "
                     "completes it, not a worker");
    }
    // Handler steps dispatch as before.
    EXPECT_EQ(dispatch("draft", boost::json::parse(R"({"run": {"id": 1, "items": [4, 5]}})"), context("draft")),
              boost::json::parse("[4, 5]"));
}

// --- child flows register first --------------------------------------------------------------

constexpr auto grandparent =
    pgflow::flow<"grandparent", Order>(pgflow::subflow<"parent">(order_flow), pgflow::subflow<"again">(charge_order));

TEST(Waits, ChildFlowsRegisterFirstAndOnce) {
    std::vector<std::string> slugs;
    for (const auto& s : pgflow::registration_shapes(grandparent)) slugs.push_back(s.slug);
    EXPECT_EQ(slugs, (std::vector<std::string>{"charge_order", "charge_item", "order_flow", "grandparent"}));
    EXPECT_EQ(pgflow::registration_shapes(charge_item).size(), 1U);
}

// --- dynamic flows ------------------------------------------------------------------------------

TEST(DynamicWaits, DeclaresAllThree) {
    pgflow::dynamic_flow f{"dyn_waits"};
    f.step("draft",
           [](const boost::json::value&) {
               return boost::json::value{1, 2};
           })
        .signal("approval", {"draft"}, boost::json::parse(R"({"type":"object"})"),
                pgflow::signal_options{.timeout = 60})
        .sleep("cool_off", {"approval"}, [](const boost::json::value&) { return std::chrono::minutes(1); })
        .subflow("charge", {"approval"}, "charge_order")
        .subflow_map("items", {"draft"}, "charge_item");
    EXPECT_EQ(pgflow::registration_sql(f.shape()),
              "SELECT pgflow.create_flow('dyn_waits');\n"
              "SELECT pgflow.add_step('dyn_waits', 'draft');\n"
              "SELECT pgflow.add_step('dyn_waits', 'approval', ARRAY['draft']);\n"
              "SELECT pgflow_cpp.set_step_kind('dyn_waits', 'approval', 'signal', 60, '{\"type\":\"object\"}'::jsonb, "
              "NULL);\n"
              "SELECT pgflow.add_step('dyn_waits', 'cool_off', ARRAY['approval']);\n"
              "SELECT pgflow_cpp.set_step_kind('dyn_waits', 'cool_off', 'sleep', NULL, NULL, NULL);\n"
              "SELECT pgflow.add_step('dyn_waits', 'charge', ARRAY['approval']);\n"
              "SELECT pgflow_cpp.set_step_kind('dyn_waits', 'charge', 'subflow', NULL, NULL, 'charge_order');\n"
              "SELECT pgflow.add_step('dyn_waits', 'items', ARRAY['draft'], step_type => 'map');\n"
              "SELECT pgflow_cpp.set_step_kind('dyn_waits', 'items', 'subflow', NULL, NULL, 'charge_item');");

    const auto before = std::chrono::system_clock::now();
    EXPECT_THROW(f("approval", boost::json::object{}, context("approval")), pgflow::permanent_error);
    try {
        f("cool_off", boost::json::object{}, context("cool_off"));
        FAIL();
    } catch (const pgflow::sleep_request& request) {
        EXPECT_GE(request.until, before + std::chrono::minutes(1));
    }
}

TEST(DynamicWaits, Refusals) {
    pgflow::dynamic_flow f{"dyn_refusals"};
    EXPECT_THROW(f.signal("a", {}, boost::json::value(3)), pgflow::definition_error);
    EXPECT_THROW(f.signal("b", {}, nullptr, pgflow::signal_options{.timeout = 0}), pgflow::definition_error);
    EXPECT_THROW(f.subflow("c", {"x", "y"}, "child"), pgflow::definition_error);
    EXPECT_THROW(f.subflow("d", {}, "not a slug"), pgflow::definition_error);
    EXPECT_THROW(f.subflow_map("e", {"x", "y"}, "child"), pgflow::definition_error);
    pgflow::dynamic_step with_handler;
    with_handler.slug = "g";
    with_handler.handler = [](const boost::json::value&, const pgflow::task_context&) { return boost::json::value{}; };
    with_handler.kind = pgflow::step_kind::signal;
    EXPECT_THROW(f.add(with_handler), pgflow::definition_error);
    EXPECT_TRUE(f.steps().empty());
}

}  // namespace waits
