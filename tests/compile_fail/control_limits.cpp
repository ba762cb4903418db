#include <pgflow/limits.hpp>
// Every flow control at once compiles cleanly (the limits_* cases each break one rule of this).
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_options{.max_attempts = 2},
    pgflow::flow_controls<pgflow::max_concurrent_runs<3>, pgflow::max_runs_per_key<"customer.id", 1>,
                          pgflow::rate_limit<"partner", 5, 2>,
                          pgflow::step_limits<"charge", pgflow::concurrency<2>, pgflow::rate_limited<"partner">,
                                              pgflow::concurrency_per_key<"customer.id", 1>>>{},
    pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
static_assert(pgflow::registration_sql(f).size() > 0);
int main() { return 0; }
