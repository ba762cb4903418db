#include <pgflow/limits.hpp>
// A misspelt step.
// expect: check_limited_step_is_declared<.*"orders".*"chrage"
// expect: step_limits<...> names a step the flow does not have
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::flow_controls<pgflow::step_limits<"chrage", pgflow::concurrency<2>>>{},
                                pgflow::step<"charge">([](int n) { return n; }),
                                pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
