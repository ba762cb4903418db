#include <pgflow/limits.hpp>
// A space in a rate limit's name.
// expect: check_rate_limit_name_is_valid<.*"orders".*"partner api"
// expect: a rate limit name has 1 to 63 letters
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::rate_limit<"partner api", 5, 1>>{}, pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
