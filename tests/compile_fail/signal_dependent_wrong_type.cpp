#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
#include <string>
// The signal carries a bool; its dependent takes it as a std::string.
// expect: check_handler_parameter_type<.*"orders".*"ship".*"approved".*bool
// expect: a handler parameter does not accept the value the step provides for it
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::signal<"approved", pgflow::after<>, bool>(),
    pgflow::step<"ship", pgflow::after<"approved">>([](int, const std::string& s) { return s; }));
