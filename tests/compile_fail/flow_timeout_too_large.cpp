#include <pgflow/flow.hpp>
// expect: flow_option_out_of_range::timeout_must_be_at_most_2147483645
// expect: check_flow_options\(.*"patient"
constexpr auto f = pgflow::flow<"patient", int>(pgflow::flow_options{.timeout = 2147483646},
                                                pgflow::step<"a">([](int n) { return n; }));
