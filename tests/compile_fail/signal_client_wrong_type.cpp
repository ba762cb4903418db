#include <pgflow/client.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
#include <string>
// client.signal<"approval"> is given a std::string for a step whose value is a bool.
// expect: check_signal_value_has_the_step_type<.*"orders".*"approval".*bool.*basic_string
// expect: the value is not of the signal step's value type
constexpr auto f = pgflow::flow<"orders", int>(pgflow::signal<"approval", pgflow::after<>, bool>());
void send(pgflow::client& c, const pgflow::run_id& id) { c.signal<"approval">(f, id, std::string("yes")); }
