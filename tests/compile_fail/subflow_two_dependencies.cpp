#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
constexpr auto child = pgflow::flow<"child", int>(pgflow::step<"twice">([](int n) { return 2 * n; }));
// expect: check_subflow_has_at_most_one_dependency<.*"run_child".*after<.*"a".*"b"
// expect: a subflow step has at most one dependency
constexpr auto f =
    pgflow::flow<"parent", int>(pgflow::step<"a">([](int n) { return n; }), pgflow::step<"b">([](int n) { return n; }),
                                pgflow::subflow<"run_child", pgflow::after<"a", "b">>(child));
