#include <pgflow/limits.hpp>
// A window of 0 seconds.
// expect: check_rate_limit_is_positive<.*"orders".*"partner".*5, 0
// expect: a rate limit needs max_starts >= 1 and per_seconds >= 1
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::rate_limit<"partner", 5, 0>>{}, pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
