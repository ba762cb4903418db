#include <pgflow/limits.hpp>
// A concurrency of 0 would never run the step.
// expect: check_limit_is_at_least_one<.*"orders".*"charge".*"concurrency".*0
// expect: a concurrency limit must be at least 1
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::flow_controls<pgflow::step_limits<"charge", pgflow::concurrency<0>>>{},
                                pgflow::step<"charge">([](int n) { return n; }),
                                pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
