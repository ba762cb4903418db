#include <pgflow/flow.hpp>
// expect: step_option_out_of_range__start_delay_must_be_nonnegative.*"later".*"remind"
constexpr auto f = pgflow::flow<"later", int>(
    pgflow::step<"remind">(pgflow::step_options{.start_delay = -10}, [](int n) { return n; }));
