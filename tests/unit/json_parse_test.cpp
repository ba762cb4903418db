// pgflow::parse_json: the one way pgflow-cpp reads JSON text. Nesting up to max_json_depth,
// numbers held exactly or refused with their path, errors that say what and where (issue 10,
// defects 5, 12 and 14).

#include <pgflow/json_parse.hpp>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

/// what() of the json_parse_error that parsing `text` throws.
std::string error_of(std::string_view text) {
    try {
        static_cast<void>(pgflow::parse_json(text));
    } catch (const pgflow::json_parse_error& e) {
        return e.what();
    }
    return "(no json_parse_error)";
}

TEST(json_parse, nesting_up_to_max_json_depth_is_read) {
    EXPECT_EQ(pgflow::max_json_depth, 10000u);
    EXPECT_EQ(boost::json::serialize(pgflow::parse_json(nested_arrays(33))), nested_arrays(33));
    EXPECT_EQ(boost::json::serialize(pgflow::parse_json(nested_arrays(1000))), nested_arrays(1000));
    EXPECT_EQ(boost::json::serialize(pgflow::parse_json(nested_arrays(pgflow::max_json_depth))),
              nested_arrays(pgflow::max_json_depth));
    std::string objects;
    for (int i = 0; i < 1000; ++i) objects += R"({"a":)";
    objects += "1" + std::string(1000, '}');
    EXPECT_EQ(boost::json::serialize(pgflow::parse_json(objects)), objects);
}

TEST(json_parse, nesting_beyond_max_json_depth_is_an_error_saying_so) {
    EXPECT_EQ(error_of(nested_arrays(pgflow::max_json_depth + 1)),
              "pgflow: cannot read JSON: nested deeper than 10000 levels of arrays and objects at byte 10001");
}

TEST(json_parse, numbers_a_double_holds_as_written_are_read) {
    const auto v = pgflow::parse_json(
        R"([0, -0, 1.0, 0.1, 2.50, 1e23, 1E300, 5e-324, 0.30000000000000004, 9007199254740993,
            18446744073709551615, -9223372036854775808])");
    EXPECT_EQ(boost::json::serialize(v),
              "[0,0,1E0,1E-1,2.5E0,1E23,1E300,5E-324,3.0000000000000004E-1,9007199254740993,18446744073709551615,"
              "-9223372036854775808]");
}

TEST(json_parse, a_number_beyond_double_precision_is_an_error_naming_its_path) {
    try {
        static_cast<void>(pgflow::parse_json(R"({"order": {"lines": [1, {"id": 12345678901234567890123456789}]}})"));
        FAIL() << "no json_parse_error";
    } catch (const pgflow::json_parse_error& e) {
        EXPECT_EQ(e.path(), "$.order.lines[1].id");
        EXPECT_STREQ(e.what(),
                     "pgflow: cannot read JSON: at $.order.lines[1].id: the number "
                     "12345678901234567890123456789 cannot be held exactly (pgflow-cpp reads JSON numbers "
                     "as 64-bit integers or doubles, and it would become 1.2345678901234568e+28); send it "
                     "as a string");
    }
    EXPECT_NE(error_of("18446744073709551616").find("would become 1.8446744073709552e+19"), std::string::npos);
    EXPECT_NE(error_of("-9223372036854775809").find("at $: the number -9223372036854775809"), std::string::npos);
    EXPECT_NE(error_of("[0.1000000000000000001]")
                  .find("at $[0]: the number 0.1000000000000000001 cannot be held "
                        "exactly (pgflow-cpp reads JSON numbers as 64-bit integers or "
                        "doubles, and it would become 0.1)"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"a b": 1e400})").find(R"(at $["a b"]: the number 1e400 cannot be held exactly)"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"tiny": 1e-400})").find("would become 0)"), std::string::npos);
}

TEST(json_parse, invalid_utf8_is_reported_as_such_with_its_byte) {
    EXPECT_EQ(error_of("[1, \"ab\xff\"]"), "pgflow: cannot read JSON: invalid UTF-8 at byte 8");
    EXPECT_EQ(error_of("{\"k\xc3\": 1}"), "pgflow: cannot read JSON: invalid UTF-8 at byte 4");
    EXPECT_EQ(error_of("\"\xed\xa0\x80\""), "pgflow: cannot read JSON: invalid UTF-8 at byte 2");  // a surrogate
    EXPECT_EQ(boost::json::serialize(pgflow::parse_json("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"")),
              "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

TEST(json_parse, syntax_errors_say_where) {
    EXPECT_EQ(error_of(R"({"value": 23,})"), "pgflow: cannot read JSON: syntax error at byte 14");
    EXPECT_EQ(error_of("[1, 2] x"), "pgflow: cannot read JSON: unexpected text after the JSON value at byte 8");
    EXPECT_EQ(error_of("[1,"), "pgflow: cannot read JSON: the text ends before the JSON value does");
    EXPECT_EQ(error_of(""), "pgflow: cannot read JSON: the text ends before the JSON value does");
    EXPECT_EQ(boost::json::serialize(pgflow::parse_json(" \n[1, 2]\t ")), "[1,2]");
}

TEST(json_parse, the_subject_names_the_text_in_the_message) {
    try {
        static_cast<void>(pgflow::parse_json("nope", "the task input"));
        FAIL() << "no json_parse_error";
    } catch (const pgflow::json_parse_error& e) {
        EXPECT_EQ(std::string(e.what()), "pgflow: cannot read the task input: " + e.problem());
        EXPECT_EQ(e.path(), "");
    }
}

}  // namespace
