#include <pgflow/flow.hpp>
// expect: check_dependency_listed_once<.*"total".*"left"
// expect: a dependency is listed twice in after
constexpr auto f = pgflow::flow<"twice", int>(
    pgflow::step<"left">([](int n) { return n; }),
    pgflow::step<"total", pgflow::after<"left", "left">>([](int, int a, int b) { return a + b; }));
