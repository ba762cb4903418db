#include <pgflow/flow.hpp>
// A generic handler whose parameters cannot be inspected: the general diagnostic, with the
// parameters the step provides.
// expect: check_handler_is_callable<.*"generic".*"pair".*expected_parameters<int, int>
// expect: the step's handler cannot be called with the parameters the step provides
constexpr auto f = pgflow::flow<"generic", int>(
    pgflow::step<"one">([](int n) { return n; }),
    pgflow::step<"pair", pgflow::after<"one">>([](auto a, auto b, auto c) { return a + b + c; }));
