#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
// expect: check_signal_step_exists<.*"orders".*"aproval"
// expect: the flow has no step with this slug
constexpr auto f = pgflow::flow<"orders", int>(pgflow::signal<"approval", pgflow::after<>, bool>());
using value = pgflow::signal_value_t<decltype(f), "aproval">;
