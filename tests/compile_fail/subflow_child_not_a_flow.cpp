#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
// subflow<...> is given a step, not a flow.
constexpr auto not_a_flow = pgflow::step<"twice">([](int n) { return 2 * n; });
// expect: check_subflow_child_is_a_flow<
// expect: subflow<...>\(child\) takes a flow declared with pgflow::flow
constexpr auto f = pgflow::flow<"parent", int>(pgflow::subflow<"run_child">(not_a_flow));
