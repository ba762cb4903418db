#include <pgflow/limits.hpp>
// A run limit below one, at the flow level.
// expect: check_limit_is_at_least_one<.*"orders".*"max_concurrent_runs".*-1
// expect: a concurrency limit must be at least 1
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::max_concurrent_runs<-1>>{}, pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
