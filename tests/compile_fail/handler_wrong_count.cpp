#include <pgflow/flow.hpp>
// "charge" has one dependency, so its handler takes two parameters (flow input, then "validate").
// expect: check_handler_parameter_count<.*"orders".*"charge".*expected_parameters<int, bool>.*handler_parameters<int>
// expect: the step's handler takes the wrong number of parameters
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::step<"validate">([](int n) { return n > 0; }),
                                pgflow::step<"charge", pgflow::after<"validate">>([](int n) { return n; }));
