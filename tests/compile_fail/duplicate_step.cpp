#include <pgflow/flow.hpp>
// expect: check_step_declared_once<.*"orders".*"charge"
// expect: two steps of this flow have the same slug
constexpr auto f = pgflow::flow<"orders", int>(pgflow::step<"charge">([](int n) { return n; }),
                                               pgflow::step<"validate">([](int n) { return n; }),
                                               pgflow::step<"charge">([](int n) { return n + 1; }));
