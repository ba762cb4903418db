#include <pgflow/flow.hpp>
// expect: check_step_does_not_depend_on_itself<.*"retry"
// expect: a step cannot depend on itself
constexpr auto f = pgflow::flow<"selfish", int>(
    pgflow::step<"retry", pgflow::after<"retry">>([](int n, int again) { return n + again; }));
