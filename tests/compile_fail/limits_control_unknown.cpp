#include <pgflow/limits.hpp>
// An option struct is not a flow control.
// expect: check_flow_control_is_known<.*"orders".*step_options
// expect: flow_controls<...> takes max_concurrent_runs<N>
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::step_options>{}, pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
