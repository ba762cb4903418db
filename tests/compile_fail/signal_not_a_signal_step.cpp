#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
// expect: check_signalled_step_is_a_signal_step<.*"orders".*"charge"
// expect: this step is not a signal step
constexpr auto f = pgflow::flow<"orders", int>(pgflow::step<"charge">([](int n) { return n; }));
using value = pgflow::signal_value_t<decltype(f), "charge">;
