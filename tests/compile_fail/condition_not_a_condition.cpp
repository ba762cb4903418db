#include <pgflow/flow.hpp>
// A second after<...> is not a condition.
// expect: check_step_condition_is_known<.*"charge".*after<
// expect: after after<...> are the step's conditions
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"validate">([](int n) { return n > 0; }),
    pgflow::step<"charge", pgflow::after<"validate">, pgflow::after<"validate">>([](int n, bool) { return n; }));
