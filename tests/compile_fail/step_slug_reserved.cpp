#include <pgflow/flow.hpp>
// expect: check_step_slug_is_not_reserved<.*"run"
// expect: "run" is reserved, a step's input has the flow input under the key "run"
constexpr auto f = pgflow::flow<"jogging", int>(pgflow::step<"run">([](int n) { return n; }));
