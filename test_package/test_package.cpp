// Builds pgflow's example flow against the installed package and checks its registration SQL; links
// libpq and Boost.JSON (a connection string parsed, a JSON value serialised) and reports the
// embedded SQL's version.
#include <pgflow/pgflow.hpp>

#include <boost/json.hpp>

#include <iostream>
#include <string_view>

struct Input { int value; };
BOOST_HANA_ADAPT_STRUCT(Input, value);
struct Doubled { int doubledValue; };
BOOST_HANA_ADAPT_STRUCT(Doubled, doubledValue);
struct DoubledArray { std::vector<int> doubledValueArray; };
BOOST_HANA_ADAPT_STRUCT(DoubledArray, doubledValueArray);
struct Final { int finalValue; };
BOOST_HANA_ADAPT_STRUCT(Final, finalValue);

constexpr auto example_flow = pgflow::flow<"example_flow", Input>(
    pgflow::flow_options{.max_attempts = 3},
    pgflow::step<"rootStep">([](const Input& in) { return Doubled{in.value * 2}; }),
    pgflow::step<"normalStep", pgflow::after<"rootStep">>(
        [](const Input&, const Doubled& d) { return DoubledArray{{d.doubledValue}}; }),
    pgflow::step<"thirdStep", pgflow::after<"normalStep">>(
        [](const Input&, const DoubledArray& a) { return Final{static_cast<int>(a.doubledValueArray.size())}; }));

int main() {
    constexpr std::string_view sql = pgflow::registration_sql(example_flow);
    constexpr std::string_view expected =
        "SELECT pgflow.create_flow('example_flow', max_attempts => 3);\n"
        "SELECT pgflow.add_step('example_flow', 'rootStep');\n"
        "SELECT pgflow.add_step('example_flow', 'normalStep', ARRAY['rootStep']);\n"
        "SELECT pgflow.add_step('example_flow', 'thirdStep', ARRAY['normalStep']);";
    static_assert(sql == expected, "registration SQL differs from pgflow's compileFlow output");
    std::cout << sql << '\n';

    const pgflow::connection_options parsed("host=localhost dbname=app");  // PQconninfoParse
    std::cout << boost::json::serialize(boost::json::object{{"conninfo", parsed.conninfo()}}) << '\n';
    namespace embedded = pgflow::detail::embedded_sql;
    static_assert(!embedded::files.empty(), "the headers carry the schema's SQL");
    std::cout << "embedded SQL: version " << embedded::version << ", " << embedded::files.size() << " files\n";
    return 0;
}
