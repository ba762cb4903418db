// Dynamic flows with pgflow 0.14's conditions: the step_conditions a step takes, the rules checked
// when the flow is built (definition_error naming flow and step), the shape they produce, and how
// registration compares conditions with the ones a database has.

#include <pgflow/dynamic_flow.hpp>
#include <pgflow/runtime/registration.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace {

using boost::json::object;
using boost::json::value;
using pgflow::condition_mode;
using pgflow::step_conditions;

const auto echo = [](const value& in) { return in; };

std::string definition_error_of(const std::function<void()>& build) {
    try {
        build();
    } catch (const pgflow::definition_error& e) {
        return e.what();
    }
    return "(no error)";
}

pgflow::dynamic_flow orders() {
    pgflow::dynamic_flow f{"orders"};
    f.step("fraud_check", echo)
        .step("charge", {"fraud_check"}, echo,
              step_conditions{.only_if = object{{"fraud_check", {{"approved", true}}}}})
        .step("notify_rejection", {"fraud_check"}, echo, pgflow::step_options{.max_attempts = 2},
              step_conditions{.only_if_not = object{{"fraud_check", {{"approved", true}}}},
                              .when_unmet = condition_mode::skip_cascade,
                              .when_exhausted = condition_mode::skip})
        .step("summary", {"charge", "notify_rejection"}, echo);
    return f;
}

TEST(dynamic_flow, conditions_go_into_the_shape_as_compact_json_and_stated_modes) {
    const pgflow::flow_shape shape = orders().shape();
    ASSERT_EQ(shape.steps.size(), 4U);
    const pgflow::step_shape& charge = shape.steps[1];
    EXPECT_EQ(charge.slug, "charge");
    EXPECT_EQ(charge.required_input_pattern, R"({"fraud_check":{"approved":true}})");
    EXPECT_EQ(charge.forbidden_input_pattern, "");
    EXPECT_FALSE(charge.when_unmet);
    EXPECT_FALSE(charge.when_exhausted);
    const pgflow::step_shape& rejection = shape.steps[2];
    EXPECT_EQ(rejection.required_input_pattern, "");
    EXPECT_EQ(rejection.forbidden_input_pattern, R"({"fraud_check":{"approved":true}})");
    EXPECT_EQ(rejection.when_unmet, condition_mode::skip_cascade);
    EXPECT_EQ(rejection.when_exhausted, condition_mode::skip);
    EXPECT_EQ(rejection.max_attempts, 2);
    const pgflow::step_shape& summary = shape.steps[3];
    EXPECT_TRUE(summary.required_input_pattern.empty() && summary.forbidden_input_pattern.empty());
    EXPECT_FALSE(summary.when_unmet || summary.when_exhausted);
}

TEST(dynamic_flow, every_step_form_takes_conditions) {
    const step_conditions exhausted_skips{.when_exhausted = condition_mode::skip};
    pgflow::dynamic_flow f{"forms"};
    f.step("root", echo, step_conditions{.only_if = object{{"go", true}}})
        .step("root_with_options", echo, pgflow::step_options{.timeout = 5}, exhausted_skips)
        .map("elements", echo, exhausted_skips)
        .map("doubled", "root", echo, step_conditions{.only_if = object{{"root", boost::json::array{1}}}})
        .add(pgflow::dynamic_step{
            .slug = "by_data",
            .type = pgflow::step_type::single,
            .dependencies = {"root"},
            .handler = pgflow::detail::make_json_handler(echo),
            .options = {},
            .conditions = {.only_if_not = object{{"root", nullptr}}, .when_unmet = condition_mode::fail}});
    const auto shape = f.shape();
    EXPECT_EQ(shape.steps[0].required_input_pattern, R"({"go":true})");
    EXPECT_EQ(shape.steps[1].when_exhausted, condition_mode::skip);
    EXPECT_EQ(shape.steps[1].timeout, 5);
    EXPECT_EQ(shape.steps[2].when_exhausted, condition_mode::skip);
    EXPECT_EQ(shape.steps[3].required_input_pattern, R"({"root":[1]})");
    EXPECT_EQ(shape.steps[4].forbidden_input_pattern, R"({"root":null})");
    EXPECT_EQ(shape.steps[4].when_unmet, condition_mode::fail);
    EXPECT_TRUE(f.steps()[0].conditions.only_if.has_value());
    EXPECT_TRUE(step_conditions{}.empty());
    EXPECT_FALSE(exhausted_skips.empty());
}

TEST(dynamic_flow, a_flow_without_conditions_has_the_shape_it_had) {
    pgflow::dynamic_flow f{"plain"};
    f.step("a", echo).map("b", echo).step("c", {"a", "b"}, echo);
    for (const auto& s : f.shape().steps) {
        EXPECT_TRUE(s.required_input_pattern.empty());
        EXPECT_TRUE(s.forbidden_input_pattern.empty());
        EXPECT_FALSE(s.when_unmet);
        EXPECT_FALSE(s.when_exhausted);
    }
}

TEST(dynamic_flow, when_unmet_without_a_pattern_is_refused) {
    EXPECT_EQ(definition_error_of([] {
                  pgflow::dynamic_flow{"orders"}.step("charge", echo,
                                                      step_conditions{.when_unmet = condition_mode::fail});
              }),
              "pgflow: flow \"orders\", step \"charge\": when_unmet needs a condition: give the step only_if or "
              "only_if_not as well");
}

TEST(dynamic_flow, a_pattern_on_a_root_map_is_refused) {
    EXPECT_EQ(definition_error_of([] {
                  pgflow::dynamic_flow{"orders"}.map("items", echo, step_conditions{.only_if_not = object{{"x", 1}}});
              }),
              "pgflow: flow \"orders\", step \"items\": a root map step cannot have a condition: its input is the "
              "flow's array, which a JSON object pattern never matches; put the condition on a step before it");
    // when_exhausted alone is fine on a root map
    EXPECT_EQ(definition_error_of([] {
                  pgflow::dynamic_flow{"orders"}.map("items", echo,
                                                     step_conditions{.when_exhausted = condition_mode::skip});
              }),
              "(no error)");
}

TEST(dynamic_flow, a_dependent_steps_pattern_may_only_name_its_dependencies) {
    EXPECT_EQ(definition_error_of([] {
                  pgflow::dynamic_flow f{"orders"};
                  f.step("fraud_check", echo).step("other", echo);
                  f.step("charge", {"fraud_check", "other"}, echo,
                         step_conditions{.only_if = object{{"fraud_check", {{"approved", true}}}},
                                         .only_if_not = object{{"other", 1}, {"run", {{"vip", true}}}}});
              }),
              "pgflow: flow \"orders\", step \"charge\": only_if_not names \"run\", which is not a dependency of the "
              "step: a dependent step's condition is matched against its dependencies' outputs, keyed by their "
              "slugs (\"fraud_check\", \"other\")");
    EXPECT_EQ(definition_error_of([] {
                  pgflow::dynamic_flow f{"orders"};
                  f.step("list", echo).map("each", "list", echo, step_conditions{.only_if = object{{"lst", {1}}}});
              }),
              "pgflow: flow \"orders\", step \"each\": only_if names \"lst\", which is not a dependency of the "
              "step: a dependent step's condition is matched against its dependencies' outputs, keyed by their "
              "slugs (\"list\")");
    // A root step's pattern is over the flow input: any key.
    EXPECT_EQ(definition_error_of([] {
                  pgflow::dynamic_flow{"orders"}.step("a", echo, step_conditions{.only_if = object{{"anything", 1}}});
              }),
              "(no error)");
}

TEST(dynamic_flow, a_refused_step_is_not_added) {
    pgflow::dynamic_flow f{"orders"};
    f.step("a", echo);
    EXPECT_THROW(f.step("b", {"a"}, echo, step_conditions{.only_if = object{{"z", 1}}}), pgflow::definition_error);
    EXPECT_EQ(f.steps().size(), 1U);
    EXPECT_NO_THROW(f.step("b", {"a"}, echo));
}

// What read_registered_shape gives for orders(): jsonb's normalised text (spaces, its own key
// order) and every mode stated, the defaults included.
pgflow::flow_shape as_registered() {
    pgflow::flow_shape db = orders().shape();
    for (auto& step : db.steps) {
        step.input_type.clear();
        step.output_type.clear();
        step.when_unmet = step.when_unmet.value_or(condition_mode::skip);
        step.when_exhausted = step.when_exhausted.value_or(condition_mode::fail);
    }
    db.steps[1].required_input_pattern = R"({"fraud_check": {"approved": true}})";
    return db;
}

TEST(dynamic_flow, registration_compares_patterns_as_json_and_unstated_modes_as_defaults) {
    EXPECT_TRUE(pgflow::detail::shape_differences(as_registered(), orders().shape()).empty());
    pgflow::flow_shape db = as_registered();
    db.steps[0].required_input_pattern = R"({"b": 1, "a": [1, 2]})";
    pgflow::flow_shape defined = orders().shape();
    defined.steps[0].required_input_pattern = R"({"a":[1,2],"b":1})";
    EXPECT_TRUE(pgflow::detail::shape_differences(db, defined).empty());
    // jsonb keeps numbers by value: `1E0` comes back as 1, `2.50` as 2.50 (Boost.JSON: int64 / double).
    db.steps[0].required_input_pattern = R"({"b": 1, "a": [1, 2.50]})";
    defined.steps[0].required_input_pattern = R"({"a":[1E0,2.5],"b":1.0})";
    EXPECT_TRUE(pgflow::detail::shape_differences(db, defined).empty());
    defined.steps[0].required_input_pattern = R"({"a":[1,2.5],"b":2})";
    EXPECT_EQ(pgflow::detail::shape_differences(db, defined).size(), 1U);
}

TEST(dynamic_flow, registration_reports_each_difference_in_conditions) {
    pgflow::flow_shape db = as_registered();
    db.steps[1].required_input_pattern = R"({"fraud_check": {"approved": false}})";
    db.steps[2].forbidden_input_pattern.clear();
    db.steps[2].when_unmet = condition_mode::skip;
    db.steps[3].when_exhausted = condition_mode::skip_cascade;
    const std::vector<std::string> expected{
        R"(step "charge": required_input_pattern (only_if) registered {"fraud_check":{"approved":false}}, defined {"fraud_check":{"approved":true}})",
        R"(step "notify_rejection": forbidden_input_pattern (only_if_not) registered none, defined {"fraud_check":{"approved":true}})",
        R"(step "notify_rejection": when_unmet registered skip, defined skip-cascade)",
        R"(step "summary": when_exhausted registered skip-cascade, defined fail)"};
    EXPECT_EQ(pgflow::detail::shape_differences(db, orders().shape()), expected);
}

TEST(dynamic_flow, a_flow_with_conditions_names_the_first_step_that_uses_one) {
    pgflow::flow_shape shape = orders().shape();
    EXPECT_EQ(pgflow::detail::first_stated_condition(shape.steps[0]), nullptr);
    EXPECT_STREQ(pgflow::detail::first_stated_condition(shape.steps[1]), "only_if");
    EXPECT_STREQ(pgflow::detail::first_stated_condition(shape.steps[2]), "only_if_not");
    shape.steps[2].forbidden_input_pattern.clear();
    EXPECT_STREQ(pgflow::detail::first_stated_condition(shape.steps[2]), "when_unmet");
    shape.steps[2].when_unmet.reset();
    EXPECT_STREQ(pgflow::detail::first_stated_condition(shape.steps[2]), "when_exhausted");
}

}  // namespace
