#include <pgflow/flow.hpp>
// expect: check_no_dependency_cycle<.*"loops".*"pack -> ship -> charge -> pack"
// expect: the dependencies form a cycle
constexpr auto f = pgflow::flow<"loops", int>(
    pgflow::step<"start">([](int n) { return n; }),
    pgflow::step<"pack", pgflow::after<"start", "ship">>([](int, int s, int p) { return s + p; }),
    pgflow::step<"charge", pgflow::after<"pack">>([](int, int p) { return p; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
