// shape_of(): the flow as the database would hold it, with effective flow options and per-step
// options as given.

#include <pgflow/flow.hpp>
#include <pgflow/registration.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

constexpr auto with_options = pgflow::flow<"with_options", std::vector<int>>(
    pgflow::flow_options{.max_attempts = 7, .timeout = 90},
    pgflow::step<"total", pgflow::after<"doubled", "first">>(
        pgflow::step_options{.max_attempts = 1, .base_delay = 2, .timeout = 3, .start_delay = 4},
        [](const std::vector<int>&, const std::vector<int>& d, int first) {
            return static_cast<int>(d.size()) + first;
        }),
    pgflow::map<"doubled">(pgflow::step_options{.timeout = 10}, [](int x) { return 2 * x; }),
    pgflow::step<"first">([](const std::vector<int>& in) { return in.empty() ? 0 : in.front(); }));

TEST(shape, effective_flow_options_fill_in_create_flow_defaults) {
    const pgflow::flow_shape s = pgflow::shape_of(with_options);
    EXPECT_EQ(s.slug, "with_options");
    EXPECT_EQ(s.max_attempts, 7);
    EXPECT_EQ(s.base_delay, 5);  // create_flow's default
    EXPECT_EQ(s.timeout, 90);

    constexpr auto plain = pgflow::flow<"plain", int>(pgflow::step<"s">([](int n) { return n; }));
    const pgflow::flow_shape p = pgflow::shape_of(plain);
    EXPECT_EQ(p.max_attempts, 3);
    EXPECT_EQ(p.base_delay, 5);
    EXPECT_EQ(p.timeout, 60);
}

TEST(shape, steps_in_registration_order_with_options_as_given) {
    const pgflow::flow_shape s = pgflow::shape_of(with_options);
    ASSERT_EQ(s.steps.size(), 3u);
    EXPECT_EQ(s.steps[0].slug, "doubled");
    EXPECT_EQ(s.steps[1].slug, "first");
    EXPECT_EQ(s.steps[2].slug, "total");

    const pgflow::step_shape& doubled = s.steps[0];
    EXPECT_EQ(doubled.type, pgflow::step_type::map);
    EXPECT_TRUE(doubled.dependencies.empty());
    EXPECT_EQ(doubled.timeout, 10);
    EXPECT_FALSE(doubled.max_attempts.has_value());  // inherits the flow's value
    EXPECT_FALSE(doubled.base_delay.has_value());
    EXPECT_FALSE(doubled.start_delay.has_value());

    const pgflow::step_shape& total = s.steps[2];
    EXPECT_EQ(total.type, pgflow::step_type::single);
    EXPECT_EQ(total.dependencies, (std::vector<std::string>{"doubled", "first"}));
    EXPECT_EQ(total.max_attempts, 1);
    EXPECT_EQ(total.base_delay, 2);
    EXPECT_EQ(total.timeout, 3);
    EXPECT_EQ(total.start_delay, 4);
}

TEST(shape, describes_the_cpp_types) {
    const pgflow::flow_shape s = pgflow::shape_of(with_options);
    EXPECT_NE(s.input_type.find("vector"), std::string::npos) << s.input_type;
    EXPECT_EQ(s.steps[0].input_type, "int");  // a map task gets one element
    EXPECT_NE(s.steps[0].output_type.find("vector<int"), std::string::npos) << s.steps[0].output_type;
    EXPECT_EQ(s.steps[1].output_type, "int");
    const std::string& total_input = s.steps[2].input_type;
    EXPECT_TRUE(total_input.starts_with("{\"run\": std::vector<int")) << total_input;
    EXPECT_TRUE(total_input.ends_with(", \"doubled\": std::vector<int>, \"first\": int}") ||
                total_input.ends_with(", \"doubled\": std::vector<int, std::allocator<int> >, \"first\": int}"))
        << total_input;
}

TEST(shape, equal_flows_have_equal_shapes) {
    EXPECT_EQ(pgflow::shape_of(with_options), pgflow::shape_of(with_options));
    constexpr auto other = pgflow::flow<"with_options", std::vector<int>>(
        pgflow::flow_options{.max_attempts = 7, .timeout = 90}, pgflow::map<"doubled">([](int x) { return 2 * x; }));
    EXPECT_NE(pgflow::shape_of(with_options), pgflow::shape_of(other));
}

}  // namespace
