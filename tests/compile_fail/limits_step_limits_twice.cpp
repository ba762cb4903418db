#include <pgflow/limits.hpp>
// Two step_limits for one step.
// expect: check_step_limits_given_once<.*"orders".*"ship"
// expect: has two step_limits<...> for this step
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::step_limits<"ship", pgflow::concurrency<2>>,
                          pgflow::step_limits<"ship", pgflow::rate_limited<"p">>, pgflow::rate_limit<"p", 1, 1>>{},
    pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
