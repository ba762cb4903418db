#include <pgflow/json.hpp>
// Decoding an adapted struct default-constructs it, then assigns its members.
struct Point {
    Point(int x_, int y_) : x(x_), y(y_) {}
    int x;
    int y;
};
BOOST_HANA_ADAPT_STRUCT(Point, x, y);
// expect: check_adapted_struct_is_default_constructible<Point>
// expect: decoding a struct adapted with Boost.Hana first default-constructs it
Point p = pgflow::from_json<Point>(boost::json::value{{"x", 1}, {"y", 2}});
