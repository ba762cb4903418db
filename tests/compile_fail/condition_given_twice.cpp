#include <pgflow/flow.hpp>
// expect: check_condition_given_once<.*"charge".*"when_exhausted"
// expect: a step takes each condition at most once
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"charge", pgflow::when_exhausted<pgflow::skip>, pgflow::when_exhausted<pgflow::fail>>(
        [](int n) { return n; }));
