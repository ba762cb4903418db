#include <pgflow/limits.hpp>
// Two concurrency limits for one step.
// expect: check_step_limit_given_once<.*"orders".*"charge"
// expect: takes each kind of limit .* at most once
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::step_limits<"charge", pgflow::concurrency<2>, pgflow::concurrency<3>>>{},
    pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
