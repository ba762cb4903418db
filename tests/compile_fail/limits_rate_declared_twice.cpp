#include <pgflow/limits.hpp>
// One rate limit declared twice.
// expect: check_rate_limit_declared_once<.*"orders".*"partner"
// expect: declares this rate limit twice
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::rate_limit<"partner", 5, 1>, pgflow::rate_limit<"partner", 6, 1>>{},
    pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
