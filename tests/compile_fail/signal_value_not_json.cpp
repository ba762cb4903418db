#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
// The signal's value type is a struct without a JSON mapping.
struct Approval {
    bool approved;
};
// expect: check_signal_value_is_json_convertible<.*"orders".*"approval".*Approval
// expect: a signal step's value type cannot be converted from/to JSON
constexpr auto f = pgflow::flow<"orders", int>(pgflow::signal<"approval", pgflow::after<>, Approval>());
