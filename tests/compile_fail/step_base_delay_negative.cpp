#include <pgflow/flow.hpp>
// expect: step_option_out_of_range__base_delay_must_be_nonnegative.*"backoff".*"fetch"
constexpr auto f = pgflow::flow<"backoff", int>(
    pgflow::step<"fetch">(pgflow::step_options{.base_delay = -5}, [](int n) { return n; }));
