#include <pgflow/flow.hpp>
#include <vector>
// The handler returns a vector of an unadapted struct: the culprit is the element type.
struct Receipt {
    int number;
};
// expect: check_step_output_is_json_convertible<.*"orders".*"charge".*std::vector<Receipt.*, Receipt>
// expect: the handler's return type cannot be converted from/to JSON
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::step<"charge">([](int n) { return std::vector<Receipt>{Receipt{n}}; }));
