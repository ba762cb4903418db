// Slug rules (docs/flows.md, Slugs) and fixed_string, at compile time and at run time.

#include <pgflow/fixed_string.hpp>
#include <pgflow/slug.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

static_assert(pgflow::is_valid_slug("validate"));
static_assert(!pgflow::is_valid_slug("run"));
static_assert(pgflow::fixed_string("charge").view() == "charge");
static_assert(pgflow::fixed_string("charge").size() == 6);

TEST(slug, accepts_letters_digits_and_underscores) {
    for (const char* slug : {"a", "A", "_", "_private", "rootStep", "step_2", "Run", "RUN", "run_", "_run", "x9_"})
        EXPECT_TRUE(pgflow::is_valid_slug(slug)) << slug;
}

TEST(slug, rejects_what_pgflow_is_valid_slug_rejects) {
    for (const char* slug : {"", "2fast", "9", "with space", "dash-ed", "dot.ted", "colon:", "slash/", "hash#",
                             "question?", "quote'", "tab\t", "caf\xc3\xa9"})
        EXPECT_FALSE(pgflow::is_valid_slug(slug)) << slug;
}

TEST(slug, run_is_reserved_case_sensitively) {
    EXPECT_FALSE(pgflow::is_valid_slug("run"));
    EXPECT_TRUE(pgflow::is_valid_slug("Run"));
    EXPECT_NE(pgflow::slug_problem("run").find("reserved"), std::string_view::npos);
}

TEST(slug, allows_at_most_128_characters) {
    EXPECT_TRUE(pgflow::is_valid_slug(std::string(128, 'a')));
    EXPECT_FALSE(pgflow::is_valid_slug(std::string(129, 'a')));
    EXPECT_NE(pgflow::slug_problem(std::string(129, 'a')).find("128"), std::string_view::npos);
}

TEST(slug, flow_slugs_fit_a_pgmq_queue_name) {
    EXPECT_TRUE(pgflow::is_valid_flow_slug(std::string(47, 'q')));
    EXPECT_FALSE(pgflow::is_valid_flow_slug(std::string(48, 'q')));
    EXPECT_TRUE(pgflow::is_valid_slug(std::string(48, 'q')));  // a step slug may be longer
    EXPECT_NE(pgflow::flow_slug_problem(std::string(48, 'q')).find("47"), std::string_view::npos);
    EXPECT_FALSE(pgflow::is_valid_flow_slug("run"));
}

TEST(slug, problems_say_what_is_wrong) {
    EXPECT_TRUE(pgflow::slug_problem("fine").empty());
    // The words of the compile-time diagnostics (checks.hpp), which dynamic flows throw too.
    for (const char* slug : {"", "1st", "a-b", "caf\xc3\xa9"}) {
        EXPECT_EQ(pgflow::slug_problem(slug), PGFLOW_DETAIL_INVALID_STEP_SLUG) << slug;
        EXPECT_EQ(pgflow::flow_slug_problem(slug), PGFLOW_DETAIL_INVALID_FLOW_SLUG) << slug;
    }
    EXPECT_EQ(pgflow::slug_problem(std::string(129, 'a')), PGFLOW_DETAIL_INVALID_STEP_SLUG);
    EXPECT_EQ(pgflow::slug_problem("run"), PGFLOW_DETAIL_RESERVED_STEP_SLUG);
    EXPECT_EQ(pgflow::flow_slug_problem("run"), PGFLOW_DETAIL_RESERVED_FLOW_SLUG);
    EXPECT_EQ(pgflow::flow_slug_problem(std::string(48, 'q')), PGFLOW_DETAIL_FLOW_SLUG_TOO_LONG);
}

TEST(fixed_string, compares_by_content_across_sizes) {
    constexpr pgflow::fixed_string a("abc");
    constexpr pgflow::fixed_string b("abc");
    constexpr pgflow::fixed_string c("abcd");
    static_assert(a == b);
    static_assert(!(a == c));
    EXPECT_EQ(std::string_view(a), "abc");
    constexpr pgflow::fixed_string<4> computed(std::string_view("xyz-ignored"));
    EXPECT_EQ(computed.view(), "xyz");
}

}  // namespace
