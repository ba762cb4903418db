#include <pgflow/limits.hpp>
// Two run limits.
// expect: check_flow_control_given_once<.*"orders".*"max_concurrent_runs"
// expect: flow_controls<...> takes this control at most once
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::flow_controls<pgflow::max_concurrent_runs<2>, pgflow::max_concurrent_runs<3>>{},
                                pgflow::step<"charge">([](int n) { return n; }),
                                pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
