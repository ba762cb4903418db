#include <pgflow/flow.hpp>
#include <string>
// The handler takes the dependency "validate" as a std::string, but "validate" returns bool.
// expect: check_handler_parameter_type<.*"orders".*"charge".*"validate".*bool
// expect: a handler parameter does not accept the value the step provides for it
constexpr auto f = pgflow::flow<"orders", int>(pgflow::step<"validate">([](int n) { return n > 0; }),
                                               pgflow::step<"charge", pgflow::after<"validate">>(
                                                   [](int n, const std::string& v) { return v + std::to_string(n); }));
