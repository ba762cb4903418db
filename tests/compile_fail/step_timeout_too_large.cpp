#include <pgflow/flow.hpp>
// expect: step_option_out_of_range::timeout_must_be_at_most_2147483645
// The failing step: g++ prints the argument expressions, clang their values.
// expect-gcc: check_step_options\(.*"orders".*::slug, (pgflow::)?step_definition<(pgflow::)?fixed_string<[0-9]+>."charge"
// expect-clang: check_step_options\(.*"orders".*"charge"
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::step<"validate">([](int n) { return n > 0; }),
                                pgflow::step<"charge", pgflow::after<"validate">>(
                                    pgflow::step_options{.timeout = 2147483647}, [](int n, bool) { return n; }));
