#include <pgflow/limits.hpp>
// A step names a rate limit the flow does not declare.
// expect: check_rate_limit_is_declared<.*"orders".*"charge".*"partner"
// expect: rate_limited<...> names a rate limit the flow does not declare
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::flow_controls<pgflow::step_limits<"charge", pgflow::rate_limited<"partner">>>{},
                                pgflow::step<"charge">([](int n) { return n; }),
                                pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
