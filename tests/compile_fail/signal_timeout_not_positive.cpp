#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
// expect: signal_timeout_must_be_positive
constexpr auto f = pgflow::flow<"orders", int>(pgflow::signal<"approval">(pgflow::signal_options{.timeout = 0}));
