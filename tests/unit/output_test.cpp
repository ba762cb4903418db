// The flow's output type: one member per leaf step (docs/json.md), read by slug, decoded from a run's
// output JSON.

#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/output.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

namespace {

using boost::json::parse;

// connected_root -> {left, right}; disconnected_root; and a map leaf.
constexpr auto branches = pgflow::flow<"branches", std::vector<int>>(
    pgflow::step<"connected_root">([](const std::vector<int>& in) { return static_cast<int>(in.size()); }),
    pgflow::step<"left", pgflow::after<"connected_root">>([](const std::vector<int>&, int n) { return n - 1; }),
    pgflow::step<"right", pgflow::after<"connected_root">>(
        [](const std::vector<int>&, int n) { return std::to_string(n + 1); }),
    pgflow::step<"disconnected_root">([](const std::vector<int>&) { return true; }),
    pgflow::map<"each">([](int x) { return x * 0.5; }));

using output = decltype(branches)::output_type;

static_assert(output::slugs.size() == 4);
static_assert(output::has<"left"> && output::has<"right"> && output::has<"disconnected_root"> && output::has<"each">);
static_assert(!output::has<"connected_root">);  // not a leaf
static_assert(std::is_same_v<std::remove_cvref_t<decltype(pgflow::get<"left">(std::declval<output&>()))>, int>);
static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::declval<const output&>().get<"right">())>, std::string>);
static_assert(
    std::is_same_v<std::remove_cvref_t<decltype(pgflow::get<"each">(std::declval<output&>()))>, std::vector<double>>);
static_assert(pgflow::json_convertible<output>);

TEST(output, leaf_steps_in_declaration_order) {
    EXPECT_EQ(output::slugs[0], "left");
    EXPECT_EQ(output::slugs[1], "right");
    EXPECT_EQ(output::slugs[2], "disconnected_root");
    EXPECT_EQ(output::slugs[3], "each");
}

TEST(output, decodes_a_run_output_and_reads_members_by_slug) {
    // As maybe_complete_run stores it: jsonb, keys sorted.
    const auto out =
        pgflow::from_json<output>(parse(R"({"disconnected_root": true, "each": [0.5, 1.0], "left": 1, "right": "3"})"));
    EXPECT_EQ(pgflow::get<"left">(out), 1);
    EXPECT_EQ(out.get<"right">(), "3");
    EXPECT_TRUE(pgflow::get<"disconnected_root">(out));
    EXPECT_EQ(pgflow::get<"each">(out), (std::vector<double>{0.5, 1.0}));
}

TEST(output, encodes_as_an_object_keyed_by_slug) {
    output out;
    pgflow::get<"left">(out) = 4;
    out.get<"right">() = "six";
    pgflow::get<"disconnected_root">(out) = false;
    pgflow::get<"each">(out) = {2.5};
    EXPECT_EQ(pgflow::to_json(out), parse(R"({"left":4,"right":"six","disconnected_root":false,"each":[2.5]})"));
    EXPECT_EQ(pgflow::from_json<output>(pgflow::to_json(out)), out);
}

TEST(output, a_missing_leaf_names_its_path) {
    try {
        static_cast<void>(pgflow::from_json<output>(parse(R"({"left":1,"right":"3","each":[]})")));
        FAIL() << "decoded";
    } catch (const pgflow::json_decode_error& e) {
        EXPECT_EQ(e.path(), "$.disconnected_root");
        EXPECT_STREQ(e.what(), "at $.disconnected_root: missing the output of leaf step \"disconnected_root\"");
    }
}

TEST(output, a_wrong_leaf_value_names_its_path) {
    try {
        static_cast<void>(
            pgflow::from_json<output>(parse(R"({"left":1,"right":"3","disconnected_root":true,"each":[1,"x"]})")));
        FAIL() << "decoded";
    } catch (const pgflow::json_decode_error& e) {
        EXPECT_EQ(e.path(), "$.each[1]");
    }
}

TEST(output, a_chain_has_one_member) {
    constexpr auto chain =
        pgflow::flow<"chain", int>(pgflow::step<"a">([](int n) { return n; }),
                                   pgflow::step<"b", pgflow::after<"a">>([](int, int a) { return a; }));
    using chain_output = decltype(chain)::output_type;
    static_assert(chain_output::slugs.size() == 1);
    EXPECT_EQ(pgflow::get<"b">(pgflow::from_json<chain_output>(parse(R"({"b":3})"))), 3);
}

TEST(output, a_flow_without_steps_outputs_null) {
    constexpr auto empty = pgflow::flow<"nothing", int>();
    using empty_output = decltype(empty)::output_type;
    static_assert(empty_output::slugs.empty());
    EXPECT_EQ(pgflow::to_json(empty_output{}), boost::json::value(nullptr));
    EXPECT_NO_THROW(static_cast<void>(pgflow::from_json<empty_output>(boost::json::value(nullptr))));
}

}  // namespace
