#include <pgflow/flow.hpp>
// expect: flow_option_out_of_range::timeout_must_be_positive
// expect: check_flow_options\(.*"hurry"
constexpr auto f =
    pgflow::flow<"hurry", int>(pgflow::flow_options{.timeout = 0}, pgflow::step<"a">([](int n) { return n; }));
