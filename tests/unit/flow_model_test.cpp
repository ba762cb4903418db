// One flow model: registration_sql(f) == registration_sql(shape_of(f)) for every example flow and every
// end-to-end flow (one writer, whether it runs at compile time on a compiled flow or at run time on a
// shape), and the writer's rules for shapes that no flow produced.

#include "flows/ai_analysis.hpp"
#include "flows/analyze_website.hpp"
#include "flows/example_flow.hpp"
#include "flows/order_processing.hpp"
#include "flows/text_processing.hpp"
#include "flows.hpp"  // tests/e2e

#include <pgflow/dynamic_flow.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/task_context.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

template <class Flow>
void expect_one_writer_for(const Flow& flow) {
    EXPECT_EQ(std::string(pgflow::registration_sql(flow)), pgflow::registration_sql(pgflow::shape_of(flow)))
        << flow.slug;
}
template <class... Flows>
void expect_one_writer(const Flows&... flows) {
    (expect_one_writer_for(flows), ...);
}

TEST(flow_model, example_flows_register_the_same_text_from_their_shape) {
    expect_one_writer(examples::example_flow, examples::text_processing, examples::order_processing,
                      examples::analyze_website);
}

TEST(flow_model, e2e_flows_register_the_same_text_from_their_shape) {
    using namespace e2e::flows;
    expect_one_writer(chain, diamond, squares, map_chain, delayed, flaky, doomed, slow, slow_patient, fanout, steady,
                      hung, big, crash, echo);
}

TEST(flow_model, dynamic_flows_register_the_compiled_flows_text) {
    EXPECT_EQ(
        pgflow::registration_sql(pgflow::shape_of(examples::ai_analysis())),
        "SELECT pgflow.create_flow('ai_analysis', timeout => 120);\n"
        "SELECT pgflow.add_step('ai_analysis', 'fetch_data');\n"
        "SELECT pgflow.add_step('ai_analysis', 'analyze', ARRAY['fetch_data'], timeout => 300, step_type => 'map');\n"
        "SELECT pgflow.add_step('ai_analysis', 'summarize', ARRAY['analyze']);");
    EXPECT_EQ(pgflow::registration_sql(pgflow::shape_of(e2e::flows::type_violation())),
              "SELECT pgflow.create_flow('e2e_dyn_violation', max_attempts => 1);\n"
              "SELECT pgflow.add_step('e2e_dyn_violation', 'produce');\n"
              "SELECT pgflow.add_step('e2e_dyn_violation', 'each', ARRAY['produce'], step_type => 'map');");
    EXPECT_EQ(pgflow::registration_sql(pgflow::shape_of(e2e::flows::planned())),
              "SELECT pgflow.create_flow('e2e_dyn_planned');\n"
              "SELECT pgflow.add_step('e2e_dyn_planned', 'fetch');\n"
              "SELECT pgflow.add_step('e2e_dyn_planned', 'summaries', ARRAY['fetch'], step_type => 'map');\n"
              "SELECT pgflow.add_step('e2e_dyn_planned', 'report', ARRAY['summaries', 'fetch']);");
}

// A dynamic flow and the compiled flow it mirrors give one text, a stated default included.
TEST(flow_model, a_dynamic_flow_stating_a_default_registers_it_as_a_compiled_flow_does) {
    pgflow::dynamic_flow f{"example_flow", pgflow::flow_options{.max_attempts = 3}};
    const auto handler = [](const boost::json::value& v) { return v; };
    f.step("rootStep", handler).step("normalStep", {"rootStep"}, handler).step("thirdStep", {"normalStep"}, handler);
    EXPECT_EQ(pgflow::registration_sql(pgflow::shape_of(f)),
              std::string(pgflow::registration_sql(examples::example_flow)));
}

TEST(flow_model, a_shape_built_by_hand_registers_its_effective_options) {
    pgflow::flow_shape shape;
    shape.slug = "by_hand";
    shape.max_attempts = 7;
    shape.timeout = 60;
    pgflow::step_shape& step = shape.steps.emplace_back();
    step.slug = "o'clock";
    step.type = pgflow::step_type::map;
    step.timeout = 5;
    EXPECT_EQ(pgflow::registration_sql(shape),
              "SELECT pgflow.create_flow('by_hand', max_attempts => 7);\n"
              "SELECT pgflow.add_step('by_hand', 'o''clock', timeout => 5, step_type => 'map');");
}

// Run-time registration runs the same statements with every slug and option value as a parameter.
TEST(flow_model, run_time_registration_passes_slugs_and_options_as_parameters) {
    pgflow::flow_shape shape;
    shape.slug = "by_hand";
    shape.max_attempts = 7;
    shape.steps.emplace_back().slug = "first";
    pgflow::step_shape& step = shape.steps.emplace_back();
    step.slug = "o'clock";
    step.dependencies = {"first"};
    step.type = pgflow::step_type::map;
    step.timeout = 5;
    pgflow::detail::parameterized_statements out;
    pgflow::detail::write_registration(out, pgflow::detail::shape_source{shape});
    ASSERT_EQ(out.statements.size(), 3U);
    EXPECT_EQ(out.statements[0].sql, "SELECT pgflow.create_flow($1, max_attempts => $2::int);");
    EXPECT_EQ(out.statements[0].values, (std::vector<std::string>{"by_hand", "7"}));
    EXPECT_EQ(out.statements[1].sql, "SELECT pgflow.add_step($1, $2);");
    EXPECT_EQ(out.statements[2].sql,
              "SELECT pgflow.add_step($1, $2, ARRAY[$3], timeout => $4::int, step_type => 'map');");
    EXPECT_EQ(out.statements[2].values, (std::vector<std::string>{"by_hand", "o'clock", "first", "5"}));
}

// Condition patterns are parameters cast to jsonb, modes parameters too.
TEST(flow_model, run_time_registration_passes_conditions_as_parameters) {
    pgflow::flow_shape shape;
    shape.slug = "by_hand";
    shape.steps.emplace_back().slug = "first";
    pgflow::step_shape& step = shape.steps.emplace_back();
    step.slug = "second";
    step.dependencies = {"first"};
    step.max_attempts = 2;
    step.required_input_pattern = R"({"first":{"ok":true}})";
    step.forbidden_input_pattern = R"({"first":{"why":"it's"}})";
    step.when_unmet = pgflow::condition_mode::skip_cascade;
    step.when_exhausted = pgflow::condition_mode::skip;
    pgflow::detail::parameterized_statements out;
    pgflow::detail::write_registration(out, pgflow::detail::shape_source{shape});
    ASSERT_EQ(out.statements.size(), 3U);
    EXPECT_EQ(out.statements[2].sql,
              "SELECT pgflow.add_step($1, $2, ARRAY[$3], max_attempts => $4::int, required_input_pattern => "
              "$5::jsonb, forbidden_input_pattern => $6::jsonb, when_unmet => $7, when_exhausted => $8);");
    EXPECT_EQ(out.statements[2].values,
              (std::vector<std::string>{"by_hand", "second", "first", "2", R"({"first":{"ok":true}})",
                                        R"({"first":{"why":"it's"}})", "skip-cascade", "skip"}));
    EXPECT_EQ(
        pgflow::registration_sql(shape).substr(pgflow::registration_sql(shape).rfind('\n') + 1),
        "SELECT pgflow.add_step('by_hand', 'second', ARRAY['first'], max_attempts => 2, required_input_pattern "
        "=> '{\"first\":{\"ok\":true}}'::jsonb, forbidden_input_pattern => '{\"first\":{\"why\":\"it''s\"}}'::jsonb, "
        "when_unmet => 'skip-cascade', when_exhausted => 'skip');");
}

// The writer is usable in constant expressions on a shape as well as on a flow.
constexpr bool writes_at_compile_time() {
    pgflow::flow_shape shape;
    shape.slug = "constant";
    pgflow::step_shape& step = shape.steps.emplace_back();
    step.slug = "s";
    step.start_delay = -5;
    return pgflow::registration_sql(shape) ==
           "SELECT pgflow.create_flow('constant');\nSELECT pgflow.add_step('constant', 's', start_delay => -5);";
}
// clang 16 cannot evaluate libstdc++ 12's std::string in a constant expression (it rejects the
// string's own constructor), so the compile-time check is g++'s; both compilers run it below.
#if !defined(__clang__)
static_assert(writes_at_compile_time());
#endif
TEST(flow_model, the_writer_on_a_shape_is_a_constexpr_function) { EXPECT_TRUE(writes_at_compile_time()); }

template <class Make>
std::string definition_error_of(Make make) {
    try {
        static_cast<void>(make());
    } catch (const pgflow::definition_error& e) {
        return e.what();
    }
    return "(no definition_error)";
}

// A dynamic flow is checked by the compiled flows' rules and says so in their words (checks.hpp,
// slug.hpp), without the DSL's after<...> hints.
TEST(flow_model, dynamic_flows_break_rules_in_the_compiled_flows_words) {
    const auto h = [](const boost::json::value& v) { return v; };
    using pgflow::dynamic_flow;
    EXPECT_EQ(definition_error_of([] { return dynamic_flow{"run"}; }),
              "pgflow: flow \"run\": " PGFLOW_DETAIL_RESERVED_FLOW_SLUG);
    EXPECT_EQ(
        definition_error_of([] { return dynamic_flow{std::string(48, 'q')}; }),
        pgflow::detail::concat({"pgflow: flow \"", std::string(48, 'q'), "\": " PGFLOW_DETAIL_FLOW_SLUG_TOO_LONG}));
    EXPECT_EQ(definition_error_of([&] { return dynamic_flow{"f"}.step("run", h); }),
              "pgflow: flow \"f\", step \"run\": " PGFLOW_DETAIL_RESERVED_STEP_SLUG);
    EXPECT_EQ(
        definition_error_of([&] { return dynamic_flow{"f"}.step("a", h).step("a", h); }),
        "pgflow: flow \"f\", step \"a\": two steps of this flow have the same slug: give every step its own slug");
    EXPECT_EQ(definition_error_of([&] { return dynamic_flow{"f"}.step("a", {"a"}, h); }),
              "pgflow: flow \"f\", step \"a\": a step cannot depend on itself");
    EXPECT_EQ(definition_error_of([&] {
                  return dynamic_flow{"f"}.step("a", h).step("b", {"a", "a"}, h);
              }),
              "pgflow: flow \"f\", step \"b\": a dependency is listed twice: \"a\"");
    EXPECT_EQ(
        definition_error_of([&] {
            return dynamic_flow{"f"}.add({"m",
                                          pgflow::step_type::map,
                                          {"a", "b"},
                                          [](const boost::json::value& v, const pgflow::task_context&) { return v; },
                                          {}});
        }),
        "pgflow: flow \"f\", step \"m\": a map step has at most one dependency, the step whose array output it "
        "maps over; it lists 2: \"a\", \"b\"");
    EXPECT_EQ(
        definition_error_of([&] { return dynamic_flow{"f"}.step("a", h, pgflow::step_options{.start_delay = -1}); }),
        "pgflow: flow \"f\", step \"a\": start_delay must be >= 0, got -1");
    EXPECT_EQ(definition_error_of([] {
                  return dynamic_flow{"f", pgflow::flow_options{.max_attempts = -1}};
              }),
              "pgflow: flow \"f\": max_attempts must be >= 0, got -1");
    EXPECT_EQ(definition_error_of([&] {
                  dynamic_flow f{"f"};
                  f.step("c", {"b"}, h).step("a", {"c"}, h).step("b", {"a"}, h);
                  return f.shape();
              }),
              "pgflow: flow \"f\": " PGFLOW_DETAIL_DEPENDENCY_CYCLE ": c -> b -> a -> c");
}

// One graph analysis: the same registration order as the compiled flow declared the same way.
TEST(flow_model, dynamic_flows_are_ordered_as_compiled_flows_are) {
    constexpr auto compiled = pgflow::flow<"late_deps", int>(
        pgflow::step<"join", pgflow::after<"left", "right">>([](int, int l, int r) { return l + r; }),
        pgflow::step<"right", pgflow::after<"top">>([](int, int t) { return t + 2; }),
        pgflow::step<"left", pgflow::after<"top">>([](int, int t) { return t + 1; }),
        pgflow::step<"top">([](int n) { return n; }));
    const auto h = [](const boost::json::value& v) { return v; };
    pgflow::dynamic_flow dynamic{"late_deps"};
    dynamic.step("join", {"left", "right"}, h).step("right", {"top"}, h).step("left", {"top"}, h).step("top", h);
    EXPECT_EQ(pgflow::registration_sql(pgflow::shape_of(dynamic)), std::string(pgflow::registration_sql(compiled)));
}

}  // namespace
