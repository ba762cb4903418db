#include <pgflow/flow.hpp>
// expect: check_dependencies_are_listed_with_after<.*"charge".*int>
// expect: lists the step's dependencies: write pgflow::after
constexpr auto f = pgflow::flow<"orders", int>(pgflow::step<"charge", int>([](int n) { return n; }));
