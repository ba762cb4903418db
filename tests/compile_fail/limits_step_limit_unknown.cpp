#include <pgflow/limits.hpp>
// A flow-level control inside step_limits.
// expect: check_step_limit_is_known<.*"orders".*"charge".*max_concurrent_runs<
// expect: step_limits<"step", ...> takes concurrency<N>
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::flow_controls<pgflow::step_limits<"charge", pgflow::max_concurrent_runs<2>>>{},
                                pgflow::step<"charge">([](int n) { return n; }),
                                pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
