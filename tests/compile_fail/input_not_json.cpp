#include <pgflow/flow.hpp>
// A struct nobody adapted for JSON.
struct Order {
    int id;
};
// expect: check_flow_input_is_json_convertible<.*"orders".*Order, Order>
// expect: the flow input type cannot be converted from/to JSON
constexpr auto f = pgflow::flow<"orders", Order>(pgflow::step<"a">([](const Order& o) { return o.id; }));
