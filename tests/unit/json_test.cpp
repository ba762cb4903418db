// JSON mapping: round trips of every supported kind, and decode errors that name the JSON path.

#include <pgflow/json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace shop {
struct Item {
    std::string sku;
    double price = 0;
    std::optional<int> quantity;
};
struct Order {
    BOOST_HANA_DEFINE_STRUCT(Order, (int, id), (std::vector<Item>, items), (std::map<std::string, std::string>, tags),
                             (std::optional<std::string>, note));
};
struct Money {
    long long cents = 0;
    friend bool operator==(const Money&, const Money&) = default;
};
}  // namespace shop
BOOST_HANA_ADAPT_STRUCT(shop::Item, sku, price, quantity);

// A user-provided mapping: Money as a decimal string.
template <>
struct pgflow::json_codec<shop::Money> {
    static boost::json::value encode(const shop::Money& m) { return boost::json::value(std::to_string(m.cents)); }
    static shop::Money decode(const boost::json::value& v, const pgflow::json_path& path) {
        const auto* s = v.if_string();
        if (s == nullptr) path.fail("expected cents as a string");
        return shop::Money{std::stoll(std::string(*s))};
    }
};

namespace {

using boost::json::parse;
using boost::json::value;

static_assert(pgflow::json_convertible<shop::Order>);
static_assert(pgflow::json_convertible<std::list<std::deque<std::set<std::string>>>>);
static_assert(pgflow::json_convertible<std::unordered_map<std::string, std::optional<double>>>);
static_assert(pgflow::json_convertible<shop::Money>);
static_assert(pgflow::json_convertible<std::vector<shop::Money>>);
static_assert(!pgflow::json_convertible<char>);
static_assert(!pgflow::json_convertible<const char*>);
static_assert(!pgflow::json_convertible<std::map<int, int>>);
static_assert(!pgflow::json_convertible<std::vector<void*>>);

template <class T>
std::string decode_error(const value& v) {
    try {
        static_cast<void>(pgflow::from_json<T>(v));
    } catch (const pgflow::json_decode_error& e) {
        return e.path() + " | " + e.what();
    }
    return "(decoded)";
}

template <class T>
void expect_round_trip(const T& x, std::string_view json) {
    const value encoded = pgflow::to_json(x);
    EXPECT_EQ(encoded, parse(json)) << boost::json::serialize(encoded);
    EXPECT_EQ(pgflow::from_json<T>(encoded), x);
}

TEST(json, scalars_round_trip) {
    expect_round_trip(true, "true");
    expect_round_trip(false, "false");
    expect_round_trip(42, "42");
    expect_round_trip(-7L, "-7");
    expect_round_trip(std::numeric_limits<std::uint64_t>::max(), "18446744073709551615");
    expect_round_trip(std::numeric_limits<std::int64_t>::min(), "-9223372036854775808");
    expect_round_trip(2.5, "2.5");
    expect_round_trip(0.25F, "0.25");
    expect_round_trip(std::string("h\u00e9llo \"quoted\""), R"("h\u00e9llo \"quoted\"")");
    expect_round_trip(nullptr, "null");
}

TEST(json, containers_round_trip) {
    expect_round_trip(std::vector<int>{1, 2, 3}, "[1,2,3]");
    expect_round_trip(std::array<std::string, 2>{"a", "b"}, R"(["a","b"])");
    expect_round_trip(std::list<bool>{true, false}, "[true,false]");
    expect_round_trip(std::deque<double>{1.5}, "[1.5]");
    expect_round_trip(std::set<std::string>{"x", "y"}, R"(["x","y"])");
    expect_round_trip(std::vector<bool>{true, true, false}, "[true,true,false]");
    expect_round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}}, R"({"a":1,"b":2})");
    expect_round_trip(std::vector<std::vector<int>>{{}, {1}}, "[[],[1]]");
    expect_round_trip(std::optional<int>{}, "null");
    expect_round_trip(std::optional<int>{5}, "5");
}

TEST(json, adapted_structs_are_objects_keyed_by_member_name) {
    const shop::Order order{7, {{"a-1", 9.5, 2}, {"b-2", 1, std::nullopt}}, {{"gift", "yes"}}, std::nullopt};
    const value j = pgflow::to_json(order);
    EXPECT_EQ(
        j, parse(R"({"id":7,"items":[{"sku":"a-1","price":9.5,"quantity":2},{"sku":"b-2","price":1.0,"quantity":null}],
                         "tags":{"gift":"yes"},"note":null})"));
    const auto back = pgflow::from_json<shop::Order>(j);
    EXPECT_EQ(back.id, 7);
    ASSERT_EQ(back.items.size(), 2u);
    EXPECT_EQ(back.items[1].sku, "b-2");
    EXPECT_FALSE(back.items[1].quantity.has_value());
    EXPECT_EQ(back.tags.at("gift"), "yes");
}

TEST(json, members_keep_declaration_order) {
    const value j = pgflow::to_json(shop::Item{"s", 1, 3});
    std::vector<std::string> keys;
    for (const auto& kv : j.as_object()) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"sku", "price", "quantity"}));
}

TEST(json, missing_optional_members_are_nullopt_and_unknown_members_ignored) {
    const auto item = pgflow::from_json<shop::Item>(parse(R"({"sku":"z","price":3,"extra":[1,2]})"));
    EXPECT_EQ(item.sku, "z");
    EXPECT_EQ(item.price, 3.0);
    EXPECT_FALSE(item.quantity.has_value());
}

TEST(json, missing_required_member_names_its_path) {
    EXPECT_EQ(decode_error<shop::Order>(parse(R"({"id":1,"items":[{"sku":"a","price":1},{"sku":"b"}],"tags":{}})")),
              R"($.items[1].price | at $.items[1].price: missing member "price" (required by shop::Item))");
}

TEST(json, wrong_kinds_name_path_expectation_and_value) {
    EXPECT_EQ(decode_error<shop::Order>(parse(R"({"id":"7","items":[],"tags":{}})")),
              R"($.id | at $.id: expected an integer, got a string ("7"))");
    EXPECT_EQ(decode_error<shop::Order>(parse(R"({"id":7,"items":[{"sku":5,"price":1}],"tags":{}})")),
              "$.items[0].sku | at $.items[0].sku: expected a string, got a number (5)");
    EXPECT_EQ(decode_error<shop::Order>(parse(R"({"id":7,"items":{},"tags":{}})")),
              "$.items | at $.items: expected an array, got an object");
    EXPECT_EQ(decode_error<shop::Order>(parse(R"([1,2])")), "$ | at $: expected an object, got an array of 2 elements");
    EXPECT_EQ(decode_error<bool>(parse("1")), "$ | at $: expected a boolean, got a number (1)");
    EXPECT_EQ(decode_error<std::nullptr_t>(parse("false")), "$ | at $: expected null, got false");
    EXPECT_EQ(decode_error<std::string>(parse("null")), "$ | at $: expected a string, got null");
    EXPECT_EQ((decode_error<std::array<int, 3>>)(parse("[1,2]")),
              "$ | at $: expected an array of 3 elements, got an array of 2 elements");
}

TEST(json, integers_reject_fractions_and_out_of_range_values) {
    EXPECT_EQ(decode_error<int>(parse("2.5")), "$ | at $: expected an integer, got a number (2.5)");
    EXPECT_EQ(decode_error<std::int8_t>(parse("300")), "$ | at $: expected an integer from -128 to 127, got 300");
    EXPECT_EQ(decode_error<unsigned>(parse("-1")), "$ | at $: expected an integer from 0 to 4294967295, got -1");
    EXPECT_EQ(
        decode_error<std::int64_t>(parse("18446744073709551615")),
        "$ | at $: expected an integer from -9223372036854775808 to 9223372036854775807, got 18446744073709551615");
    EXPECT_EQ(decode_error<int>(parse("1e10")),
              "$ | at $: expected an integer from -2147483648 to 2147483647, got 1e+10");
    // Integral doubles are integers (PostgreSQL's jsonb may print 3 as 3.0 after arithmetic).
    EXPECT_EQ(pgflow::from_json<int>(parse("3.0")), 3);
    EXPECT_EQ(pgflow::from_json<double>(parse("3")), 3.0);
    EXPECT_EQ(decode_error<float>(parse("1e300")), "$ | at $: expected a number that fits a float, got 1e+300");
}

TEST(json, map_keys_that_are_not_identifiers_are_quoted_in_paths) {
    EXPECT_EQ((decode_error<std::map<std::string, int>>)(parse(R"({"ok":1,"not ok":"x"})")),
              R"($["not ok"] | at $["not ok"]: expected an integer, got a string ("x"))");
}

TEST(json, long_strings_are_shortened_in_messages) {
    const std::string message = decode_error<int>(value(std::string(100, 'x')));
    EXPECT_LT(message.size(), 90u) << message;
    EXPECT_NE(message.find("...\""), std::string::npos) << message;
}

TEST(json, json_values_pass_through) {
    const value doc = parse(R"({"any":[1,"two",null]})");
    EXPECT_EQ(pgflow::to_json(doc), doc);
    EXPECT_EQ(pgflow::from_json<value>(doc), doc);
    EXPECT_EQ(pgflow::from_json<boost::json::object>(doc), doc.as_object());
    EXPECT_EQ(pgflow::from_json<boost::json::array>(doc.at("any")), doc.at("any").as_array());
    EXPECT_EQ(decode_error<boost::json::array>(doc), "$ | at $: expected an array, got an object");
    EXPECT_EQ(decode_error<boost::json::object>(parse("[]")),
              "$ | at $: expected an object, got an array of 0 elements");
}

TEST(json, user_codecs_are_used_everywhere) {
    expect_round_trip(std::vector<shop::Money>{{150}, {-3}}, R"(["150","-3"])");
    EXPECT_EQ(decode_error<std::vector<shop::Money>>(parse(R"(["1",2])")),
              "$[1] | at $[1]: expected cents as a string");
}

TEST(json, paths_can_start_below_the_root) {
    const pgflow::json_path root;
    const pgflow::json_path run = root.member("run");
    try {
        static_cast<void>(pgflow::from_json<shop::Item>(parse(R"({"sku":1})"), run));
        FAIL() << "decoded";
    } catch (const pgflow::json_decode_error& e) {
        EXPECT_EQ(e.path(), "$.run.sku");
    }
    EXPECT_EQ(run.index(3).member("a b").str(), R"($.run[3]["a b"])");
}

TEST(json, non_finite_numbers_cannot_be_encoded) {
    EXPECT_THROW(static_cast<void>(pgflow::to_json(std::numeric_limits<double>::quiet_NaN())), pgflow::error);
    EXPECT_THROW(static_cast<void>(pgflow::to_json(std::numeric_limits<double>::infinity())), pgflow::error);
}

}  // namespace
