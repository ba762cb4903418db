#include <pgflow/flow.hpp>
// expect: check_when_unmet_has_a_pattern<.*"charge"
// expect: when_unmet<...> says what happens when the step's condition is not met
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"charge", pgflow::when_unmet<pgflow::skip_cascade>>([](int n) { return n; }));
