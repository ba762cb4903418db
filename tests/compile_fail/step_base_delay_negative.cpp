#include <pgflow/flow.hpp>
// expect: step_option_out_of_range::base_delay_must_be_nonnegative
// The failing step: g++ prints the argument expressions, clang their values.
// expect-gcc: check_step_options\(.*"backoff".*::slug, (pgflow::)?step_definition<(pgflow::)?fixed_string<[0-9]+>."fetch"
// expect-clang: check_step_options\(.*"backoff".*"fetch"
constexpr auto f = pgflow::flow<"backoff", int>(
    pgflow::step<"fetch">(pgflow::step_options{.base_delay = -5}, [](int n) { return n; }));
