#include <pgflow/flow.hpp>
// expect: step_option_out_of_range::start_delay_must_be_nonnegative
// The failing step: g++ prints the argument expressions, clang their values.
// expect-gcc: check_step_options\(.*"later".*::slug, (pgflow::)?step_definition<(pgflow::)?fixed_string<[0-9]+>."remind"
// expect-clang: check_step_options\(.*"later".*"remind"
constexpr auto f = pgflow::flow<"later", int>(
    pgflow::step<"remind">(pgflow::step_options{.start_delay = -10}, [](int n) { return n; }));
