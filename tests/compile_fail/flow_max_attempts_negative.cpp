#include <pgflow/flow.hpp>
// expect: flow_option_out_of_range::max_attempts_must_be_nonnegative
// expect: check_flow_options\(.*"retrying"
constexpr auto f =
    pgflow::flow<"retrying", int>(pgflow::flow_options{.max_attempts = -1}, pgflow::step<"a">([](int n) { return n; }));
